/**
 * GunicornParser alone: which lines of gunicorn-registry / gunicorn-web are matched, ignored or
 * unmatched, which count traffic, and what records out is told. Lines as Quay writes them
 * (conf/logging.conf format `%(asctime)s [%(process)d] [%(levelname)s] [%(name)s] %(message)s`,
 * gunicorn's default access_log_format, gunicorn's own `[time] [pid] [LEVEL]` lines; JSONLOG as
 * v3.15.0 conf/logging_json.conf writes it) and the fixture test/fixtures/quay-supervisord.log.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { EventBus } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { LineFields } from '../records/fields.js';
import { GunicornParser } from './gunicorn.js';
import { TrafficRecorder } from './traffic.js';
import { LineResult } from './types.js';

const lib = PatternLibrary.bundled();

function setup(counting: boolean) {
  const config = parseConfig({ state_dir: '/nonexistent' });
  const registry = new MetricRegistry();
  const events = new EventBus();
  const fields = new LineFields();
  const ctx = { config, registry, events, grok: lib, log: silentLogger, fields };
  const parser = new GunicornParser(ctx, counting ? new TrafficRecorder(registry, config, events, fields) : undefined);
  const requests = () => [...registry.counter('quay_http_requests_total').slots.values()].filter((s) => s.value > 0).map((s) => [s.attributes, s.value]);
  return { parser, fields, requests };
}

const P = 'gunicorn-registry stdout | ';
const ACCESS = '10.128.2.14 - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.0" 200 1570 "-" "containers/5.30.0 (github.com/containers/image)"';
const TEXT_ACCESS = `${P}2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] ${ACCESS}`;
const JSON_ACCESS = `${P}${JSON.stringify({ data: { taskName: null }, message: ACCESS })}`;
const OTHER_LOGGER = 'gunicorn-web stdout | 2026-11-22 10:15:46,301 [233] [DEBUG] [endpoints.api] Checking permission for repository acme/app';
const OWN = 'gunicorn-web stderr | [2026-11-22 10:15:00 +0000] [233] [INFO] Booting worker with pid: 233';
const start = (line: string) => line.indexOf(' | ') + 3;
const parse = (p: GunicornParser, line: string) => p.parse(line, start(line));

describe('GunicornParser', () => {
  it('gunicorn the traffic source: access lines (text and JSONLOG) are counted, other records matched', () => {
    const { parser, requests } = setup(true);
    expect(parse(parser, TEXT_ACCESS)).toBe(LineResult.Matched);
    expect(parse(parser, JSON_ACCESS)).toBe(LineResult.Matched);
    expect(parse(parser, OTHER_LOGGER)).toBe(LineResult.Matched);
    // A JSONLOG record that is not an access line: matched, no request.
    expect(parse(parser, `${P}{"data": {"taskName": null}, "message": "Checking permission"}`)).toBe(LineResult.Matched);
    // gunicorn.access, but not an access line: unmatched.
    expect(parse(parser, `${P}2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] not a request`)).toBe(LineResult.Unmatched);
    // One GET manifest 200 from each of the two access lines.
    expect(requests()).toEqual([[{ component: 'registry', method: 'GET', status: '200' }, 2]]);
  });

  it('nginx the traffic source: access lines are ignored (never counted twice), the rest as before', () => {
    const { parser, requests } = setup(false);
    expect(parse(parser, TEXT_ACCESS)).toBe(LineResult.Ignored);
    expect(parse(parser, JSON_ACCESS)).toBe(LineResult.Ignored);
    // gunicorn.access lines are all ignored without a recorder, even one that is no access line.
    expect(parse(parser, `${P}2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] not a request`)).toBe(LineResult.Ignored);
    expect(parse(parser, OTHER_LOGGER)).toBe(LineResult.Matched);
    expect(parse(parser, `${P}{"data": {}, "message": "Checking permission"}`)).toBe(LineResult.Matched);
    expect(requests()).toEqual([]);
  });

  it("gunicorn's own lines and traceback lines are matched; anything else unmatched", () => {
    const { parser } = setup(true);
    expect(parse(parser, OWN)).toBe(LineResult.Matched);
    expect(parse(parser, 'gunicorn-web stderr | [2026-11-22 10:15:00 +0000] [55] [ERROR] Worker (pid:66) exited with code 3')).toBe(LineResult.Matched);
    expect(parse(parser, 'gunicorn-web stdout | Traceback (most recent call last):')).toBe(LineResult.Matched);
    expect(parse(parser, 'gunicorn-registry stdout | an unparseable gunicorn line')).toBe(LineResult.Unmatched);
    // The own-log pattern is tried at the program's text: a line whose text starts elsewhere does not match.
    expect(parser.parse(OWN, 0)).toBe(LineResult.Unmatched);
  });

  it('records out: pid and level of a gunicorn line, pid, level and logger of a Python line; nothing while inactive', () => {
    const { parser, fields } = setup(false);
    fields.active = true;
    parse(parser, OWN);
    expect(fields.take()).toEqual({ pid: 233, level: 'INFO' });
    parse(parser, OTHER_LOGGER);
    expect(fields.take()).toEqual({ pid: 233, level: 'DEBUG', logger: 'endpoints.api' });
    parse(parser, 'gunicorn-registry stdout | an unparseable gunicorn line');
    expect(fields.take()).toEqual({});
    fields.active = false;
    parse(parser, OWN);
    parse(parser, OTHER_LOGGER);
    expect(fields.take()).toEqual({});
  });
});

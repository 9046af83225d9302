import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { EventBus, type QuayEvent } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { NginxParser } from './nginx.js';
import { TrafficRecorder } from './traffic.js';
import { LineResult } from './types.js';

const grok = PatternLibrary.bundled();
const D = 'sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e';

function setup(raw: Record<string, unknown> = {}, maxSeries = 10_000) {
  const config = parseConfig(raw, 'test', {});
  const registry = new MetricRegistry(maxSeries);
  const events = new EventBus();
  const seen: QuayEvent[] = [];
  events.add({ emit: (e) => seen.push(e) });
  const parser = new NginxParser({ config, registry, events, grok, log: silentLogger }, new TrafficRecorder(registry, config, events));
  const values = (name: 'quay_registry_slow_transfers_total' | 'quay_registry_requests_total' | 'quay_log_exporter_series_overflow_total' | 'quay_http_requests_total') =>
    Object.fromEntries([...registry.counter(name).slots.values()].map((s) => [Object.values(s.attributes).join('|'), s.value]));
  return { parser, seen, values };
}

const line = (req: string, status: number, bytes: number, time: string, reqLen = 512, client = '10.0.0.1') =>
  `${client} (-) - - [22/Nov/2026:10:15:35 +0000] "${req} HTTP/1.1" ${status} ${bytes} "-" "skopeo/1.14" (${time} ${reqLen} ${time})`;

describe('NginxParser', () => {
  it('emits one slow-transfer event with the log time and the high-cardinality values as fields', () => {
    const { parser, seen, values } = setup();
    expect(parser.parse(line(`GET /v2/org/team/app/blobs/${D}`, 200, 2097152, '4.000', 512, '2001:db8::7'), 0)).toBe(LineResult.Matched);
    expect(values('quay_registry_slow_transfers_total')).toEqual({ 'pull|org|team/app': 1 });
    expect(seen).toEqual([
      {
        measurement: 'quay_slow_transfer',
        time: Date.UTC(2026, 10, 22, 10, 15, 35),
        tags: { direction: 'pull', namespace: 'org', repository: 'team/app' },
        fields: { bytes: 2097152, seconds: 4, bytes_per_second: 524288, client: '2001:db8::7', digest: D, user_agent: 'skopeo/1.14', status: 200 },
      },
    ]);
  });

  it('takes the digest of a push from ?digest=', () => {
    const { parser, seen } = setup();
    parser.parse(line(`PUT /v2/acme/app/blobs/uploads/u1?digest=${encodeURIComponent(D)}`, 201, 0, '8.000', 4194304), 0);
    expect(seen.map((e) => [e.tags.direction, e.fields.digest, e.fields.bytes_per_second])).toEqual([['push', D, 524288]]);
  });

  it('applies the configured thresholds: both bounds matter', () => {
    const { parser, values } = setup({ slow_transfer: { min_bytes: 1000, max_bytes_per_second: 500 } });
    parser.parse(line(`GET /v2/a/b/blobs/${D}`, 200, 999, '10.000'), 0); // too small to judge
    parser.parse(line(`GET /v2/a/b/blobs/${D}`, 200, 1000, '2.000'), 0); // exactly 500 B/s: not below
    parser.parse(line(`GET /v2/a/b/blobs/${D}`, 200, 1000, '2.001'), 0); // 499.75 B/s: slow
    parser.parse(line(`GET /v2/a/b/blobs/${D}`, 200, 5000, '0.000'), 0); // too fast to time: never slow
    expect(values('quay_registry_slow_transfers_total')).toEqual({ 'pull|a|b': 1 });
  });

  it('counts a malformed request line as matched, under web/OTHER, with no registry labels', () => {
    const { parser, values } = setup();
    const raw = '10.0.0.9 (-) - - [22/Nov/2026:10:15:35 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 150 "-" "-" (0.001 0 -)';
    expect(parser.parse(raw, 0)).toBe(LineResult.Matched);
    expect(values('quay_http_requests_total')).toEqual({ 'web|OTHER|400': 1 });
    expect(values('quay_registry_requests_total')).toEqual({});
  });

  it('counts binary garbage and truncated lines as unmatched, never throwing', () => {
    const { parser } = setup();
    expect(parser.parse('\u0000\u0001\ufffd\ufffd garbage', 0)).toBe(LineResult.Unmatched);
    expect(parser.parse(line('GET /v2/', 200, 1, '0.001').slice(0, 60), 0)).toBe(LineResult.Unmatched);
  });

  it('folds repositories past the series cap into __overflow__ and counts the folding', () => {
    const { parser, values } = setup({}, 2);
    for (const repo of ['one', 'two', 'three', 'four']) parser.parse(line(`GET /v2/acme/${repo}/manifests/latest`, 200, 10, '0.010'), 0);
    expect(values('quay_registry_requests_total')).toEqual({
      'pull_manifest|acme|one|200': 1,
      'pull_manifest|acme|two|200': 1,
      'pull_manifest|__overflow__|__overflow__|200': 2,
    });
    // three and four folded in requests, and in pulls (cap 2 there too): 2 + 2
    expect(values('quay_log_exporter_series_overflow_total')).toEqual({ quay_registry_requests_total: 2, quay_registry_pulls_total: 2 });
  });
});

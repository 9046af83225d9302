/**
 * TrafficRecorder and resolveTrafficSource in process, line by line: which
 * access lines are pulls, pushes, transfers and redirects, and which log counts
 * traffic. Each expectation is counted by hand from the lines in the test.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { EventBus } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { GunicornParser } from './gunicorn.js';
import { NginxParser } from './nginx.js';
import { resolveTrafficSource, TrafficRecorder } from './traffic.js';
import { LineResult } from './types.js';

const grok = PatternLibrary.bundled();
const D = 'sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e';

function setup() {
  const config = parseConfig({}, 'test', {});
  const registry = new MetricRegistry();
  const events = new EventBus();
  const traffic = new TrafficRecorder(registry, config, events);
  const ctx = { config, registry, events, grok, log: silentLogger };
  const nginx = new NginxParser(ctx, traffic);
  const gunicorn = new GunicornParser(ctx, traffic);
  const counter = (name: Parameters<MetricRegistry['counter']>[0]) =>
    Object.fromEntries([...registry.counter(name).slots.values()].map((s) => [Object.values(s.attributes).join('|'), s.value]));
  const histogram = (name: Parameters<MetricRegistry['histogram']>[0]) =>
    Object.fromEntries([...registry.histogram(name).slots.values()].map((s) => [Object.values(s.attributes).join('|'), [s.count, s.sum]]));
  return { nginx, gunicorn, counter, histogram };
}

const ngx = (req: string, status: number, bytes: number, time: string, reqLen = 512) =>
  `10.0.0.1 (-) - - [22/Nov/2026:10:15:35 +0000] "${req} HTTP/1.1" ${status} ${bytes} "-" "docker/24.0.7" (${time} ${reqLen} ${time})`;
const guni = (req: string, status: number, bytes: string) =>
  `2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] 10.0.0.1 - - [22/Nov/2026:10:15:33 +0000] "${req} HTTP/1.0" ${status} ${bytes} "-" "docker/24.0.7"`;

describe('TrafficRecorder', () => {
  it('pulls are manifest GET 2xx only: not HEAD, not 404, not 500', () => {
    const { nginx, counter } = setup();
    for (const [m, s] of [['GET', 200], ['HEAD', 200], ['GET', 404], ['GET', 500], ['GET', 304]] as const) nginx.parse(ngx(`${m} /v2/a/b/manifests/t`, s, 10, '0.010'), 0);
    // 304 is not 2xx either: 1 pull, from the first line.
    expect(counter('quay_registry_pulls_total')).toEqual({ 'a|b': 1 });
  });

  it('pushes are manifest PUT 2xx only', () => {
    const { nginx, counter } = setup();
    nginx.parse(ngx('PUT /v2/a/b/manifests/t', 201, 0, '0.010'), 0);
    nginx.parse(ngx('PUT /v2/a/b/manifests/t', 400, 0, '0.010'), 0);
    nginx.parse(ngx('PUT /v2/a/b/manifests/t', 500, 0, '0.010'), 0);
    expect(counter('quay_registry_pushes_total')).toEqual({ 'a|b': 1 });
  });

  it('blob transfers: GET 200 and 206 move bytes; HEAD, 404 and redirects do not; 302 and 307 are redirects', () => {
    const { nginx, counter, histogram } = setup();
    nginx.parse(ngx(`GET /v2/a/b/blobs/${D}`, 200, 1000, '1.000'), 0);
    nginx.parse(ngx(`GET /v2/a/b/blobs/${D}`, 206, 300, '0.500'), 0); // a range request: bytes moved
    nginx.parse(ngx(`HEAD /v2/a/b/blobs/${D}`, 200, 0, '0.002'), 0);
    nginx.parse(ngx(`GET /v2/a/b/blobs/${D}`, 404, 50, '0.003'), 0);
    nginx.parse(ngx(`GET /v2/a/b/blobs/${D}`, 302, 0, '0.004'), 0);
    nginx.parse(ngx(`GET /v2/a/b/blobs/${D}`, 307, 0, '0.005'), 0);
    expect(counter('quay_registry_transfer_bytes_total')).toEqual({ 'pull|a|b': 1300 });
    expect(counter('quay_registry_blob_redirects_total')).toEqual({ 'a|b': 2 });
    // Two transfers timed: 1.000 + 0.500 s. Throughput 1000 B/s and 600 B/s.
    expect(histogram('quay_registry_transfer_duration_seconds')['pull']).toEqual([2, 1.5]);
    expect(histogram('quay_registry_transfer_throughput_bytes_per_second')['pull']).toEqual([2, 1600]);
    // Every one of the 6 is a request, counted once.
    expect(counter('quay_registry_requests_total')).toEqual({ 'pull_blob|a|b|200': 2 /* the GET and the HEAD */, 'pull_blob|a|b|206': 1, 'pull_blob|a|b|404': 1, 'pull_blob|a|b|302': 1, 'pull_blob|a|b|307': 1 });
  });

  it('push transfers: PATCH and PUT commit 2xx count their request length; a failed chunk does not', () => {
    const { nginx, counter, histogram } = setup();
    nginx.parse(ngx('PATCH /v2/a/b/blobs/uploads/u1', 202, 0, '2.000', 4000), 0);
    nginx.parse(ngx('PATCH /v2/a/b/blobs/uploads/u1', 416, 0, '0.100', 9999), 0);
    nginx.parse(ngx(`PUT /v2/a/b/blobs/uploads/u1?digest=${D}`, 201, 0, '0.200', 600), 0);
    expect(counter('quay_registry_transfer_bytes_total')).toEqual({ 'push|a|b': 4600 });
    expect(histogram('quay_registry_transfer_duration_seconds')['push']).toEqual([2, 2.2]);
  });

  it('a transfer timed 0.000 s is observed in duration but not in throughput (no infinite rate)', () => {
    const { nginx, histogram } = setup();
    nginx.parse(ngx(`GET /v2/a/b/blobs/${D}`, 200, 5000, '0.000'), 0);
    expect(histogram('quay_registry_transfer_duration_seconds')['pull']).toEqual([1, 0]);
    expect(histogram('quay_registry_transfer_throughput_bytes_per_second')['pull']).toEqual([0, 0]);
  });

  it('gunicorn access lines: bytes counted ("-" is 0), no duration observed (gunicorn logs none)', () => {
    const { gunicorn, counter, histogram } = setup();
    expect(gunicorn.parse(guni(`GET /v2/a/b/blobs/${D}`, 200, '4096'), 0)).toBe(LineResult.Matched);
    expect(gunicorn.parse(guni(`GET /v2/a/b/blobs/${D}`, 200, '-'), 0)).toBe(LineResult.Matched);
    expect(gunicorn.parse(guni('GET /api/v1/repository/a/b', 200, '10'), 0)).toBe(LineResult.Matched);
    expect(counter('quay_registry_transfer_bytes_total')).toEqual({ 'pull|a|b': 4096 });
    expect(histogram('quay_registry_transfer_duration_seconds')['pull']).toEqual([0, 0]);
    expect(histogram('quay_http_request_duration_seconds')).toEqual({});
    expect(counter('quay_http_requests_total')).toEqual({ 'registry|GET|200': 2, 'api|GET|200': 1 });
  });

  it('components: /v2 and /v2/… are registry, /v2x is not; /api/ is api; the rest web', () => {
    const { nginx, counter } = setup();
    for (const p of ['/v2', '/v2/', '/v2?x=1', '/v2x/y', '/api/v1/user', '/apix', '/repository/a/b']) nginx.parse(ngx(`GET ${p}`, 200, 1, '0.001'), 0);
    // registry: /v2, /v2/, /v2?x=1 (3); api: /api/v1/user (1); web: /v2x/y, /apix, /repository/a/b (3).
    expect(counter('quay_http_requests_total')).toEqual({ 'registry|GET|200': 3, 'api|GET|200': 1, 'web|GET|200': 3 });
  });
});

describe('resolveTrafficSource', () => {
  const cfg = (raw: Record<string, unknown>) => parseConfig(raw, 'test', {});
  it('auto: nginx when an input carries nginx lines (supervisord or nginx), else gunicorn', () => {
    expect(resolveTrafficSource(cfg({ inputs: [{ paths: ['/x'], source: 'supervisord' }] }))).toBe('nginx');
    expect(resolveTrafficSource(cfg({ inputs: [{ paths: ['/x'], source: 'nginx' }] }))).toBe('nginx');
    expect(resolveTrafficSource(cfg({ inputs: [{ paths: ['/x'], source: 'gunicorn' }, { paths: ['/y'], source: 'gcworker' }] }))).toBe('gunicorn');
    expect(resolveTrafficSource(cfg({ inputs: [{ paths: ['/x'], source: 'gunicorn' }, { paths: ['/y'], source: 'nginx' }] }))).toBe('nginx');
    expect(resolveTrafficSource(cfg({}))).toBe('gunicorn');
    // Sources read besides the inputs (replay --source) count too.
    expect(resolveTrafficSource(cfg({}), ['nginx'])).toBe('nginx');
    expect(resolveTrafficSource(cfg({}), ['gunicorn'])).toBe('gunicorn');
  });
  it('a forced source wins over what the inputs carry', () => {
    expect(resolveTrafficSource(cfg({ traffic: { source: 'gunicorn' }, inputs: [{ paths: ['/x'], source: 'supervisord' }] }))).toBe('gunicorn');
    expect(resolveTrafficSource(cfg({ traffic: { source: 'nginx' } }), ['gunicorn'])).toBe('nginx');
  });
});

/**
 * TrafficRecorder and resolveTrafficSource in process, line by line: which
 * access lines are pulls, pushes, transfers and redirects, and which log counts
 * traffic. Each expectation is counted by hand from the lines in the test.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { EventBus, type QuayEvent } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { LineFields } from '../records/fields.js';
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

describe('TrafficRecorder: fields of an access line for records out', () => {
  // Built in each test (mutation testing switches its mutants on after the file is collected).
  function withFields(raw: Record<string, unknown> = {}) {
    const config = parseConfig(raw, 'test', {});
    const registry = new MetricRegistry();
    const events = new EventBus();
    const seen: QuayEvent[] = [];
    events.add({ emit: (e) => seen.push(e) });
    const fields = new LineFields();
    fields.active = true;
    const traffic = new TrafficRecorder(registry, config, events, fields);
    const nginx = new NginxParser({ config, registry, events, grok, log: silentLogger, fields }, traffic);
    const gunicorn = new GunicornParser({ config, registry, events, grok, log: silentLogger, fields }, traffic);
    const counter = (name: Parameters<MetricRegistry['counter']>[0]) =>
      Object.fromEntries([...registry.counter(name).slots.values()].map((s) => [Object.values(s.attributes).join('|'), s.value]));
    return { nginx, gunicorn, fields, seen, counter };
  }

  it('a registry line: component, method, path, status, bytes, request bytes, duration, operation, namespace, repository', () => {
    const { nginx, fields } = withFields();
    nginx.parse(ngx('GET /v2/org/team/app/manifests/v1', 200, 1234, '0.250', 700), 0);
    expect(fields.take()).toStrictEqual({
      component: 'registry', method: 'GET', path: '/v2/org/team/app/manifests/v1', status: 200, bytes: 1234, request_bytes: 700, duration: 0.25,
      operation: 'pull_manifest', namespace: 'org', repository: 'team/app',
    });
  });

  it('a malformed request (TLS bytes on the HTTPS log): web/OTHER with an empty path, no registry fields', () => {
    const { nginx, fields } = withFields();
    nginx.parse('10.0.0.9 (-) - - [22/Nov/2026:10:15:35 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 150 "-" "-" (0.001 0 -)', 0);
    // No method or path in the request text; $request_length 0 and $request_time 0.001 as logged.
    expect(fields.take()).toStrictEqual({ component: 'web', method: 'OTHER', path: '', status: 400, bytes: 150, request_bytes: 0, duration: 0.001 });
  });

  it('a route without a repository has no namespace/repository fields; an API line no operation', () => {
    const { nginx, fields } = withFields();
    nginx.parse(ngx('GET /v2/', 200, 2, '0.001'), 0);
    const ping = fields.take();
    expect(ping).toMatchObject({ component: 'registry', operation: 'ping' });
    expect(ping).not.toHaveProperty('namespace');
    expect(ping).not.toHaveProperty('repository');
    nginx.parse(ngx('DELETE /api/v1/repository/a/b', 204, 0, '0.050'), 0);
    const api = fields.take();
    expect(api).toMatchObject({ component: 'api', method: 'DELETE', status: 204 });
    expect(api).not.toHaveProperty('operation');
  });

  it('a gunicorn line has no duration and no request bytes (its log has neither)', () => {
    const { gunicorn, fields } = withFields();
    gunicorn.parse(guni('GET /repository/a/b', 200, '10'), 0);
    const f = fields.take();
    expect(f).toMatchObject({ component: 'web', method: 'GET', path: '/repository/a/b', status: 200, bytes: 10 });
    expect(f).not.toHaveProperty('duration');
    expect(f).not.toHaveProperty('request_bytes');
  });

  it('a method outside the list is OTHER, in the counter and the field', () => {
    const { nginx, fields, counter } = withFields();
    nginx.parse(ngx('PROPFIND /dav', 405, 0, '0.001'), 0);
    expect(fields.take()).toMatchObject({ method: 'OTHER', component: 'web' });
    nginx.parse(ngx('OPTIONS /v2/', 200, 0, '0.001'), 0);
    expect(counter('quay_http_requests_total')).toEqual({ 'web|OTHER|405': 1, 'registry|OPTIONS|200': 1 });
  });
});

describe('TrafficRecorder: the storage proxy and digests', () => {
  function setupEvents(raw: Record<string, unknown> = {}) {
    const config = parseConfig(raw, 'test', {});
    const registry = new MetricRegistry();
    const events = new EventBus();
    const seen: QuayEvent[] = [];
    events.add({ emit: (e) => seen.push(e) });
    const nginx = new NginxParser({ config, registry, events, grok, log: silentLogger }, new TrafficRecorder(registry, config, events));
    const counter = (name: Parameters<MetricRegistry['counter']>[0]) =>
      Object.fromEntries([...registry.counter(name).slots.values()].map((s) => [Object.values(s.attributes).join('|'), s.value]));
    return { nginx, seen, counter };
  }
  const proxied = (method: string, status: number, bytes: number, ref: string, time = '8.000') =>
    `10.0.0.1 (-) - - [22/Nov/2026:10:15:43 +0000] "${method} /_storage_proxy/tok/https/s3.example.com/quay/x HTTP/1.1" ${status} ${bytes} "${ref}" "containers/5.29" (${time} 1201 ${time})`;

  it('206 through the proxy is a pull transfer; other statuses and a POST are requests only', () => {
    const { nginx, counter } = setupEvents();
    const ref = `https://quay.example.com/v2/acme/app/blobs/${D}`;
    nginx.parse(proxied('GET', 206, 1000, ref, '0.010'), 0);
    nginx.parse(proxied('GET', 304, 0, ref, '0.010'), 0);
    nginx.parse(proxied('POST', 200, 50, ref, '0.010'), 0);
    // By hand: 1000 bytes from the 206 only; three storage_proxy requests.
    expect(counter('quay_registry_transfer_bytes_total')).toEqual({ 'pull|acme|app': 1000 });
    expect(counter('quay_registry_requests_total')).toEqual({ 'storage_proxy|acme|app|206': 1, 'storage_proxy|acme|app|304': 1, 'storage_proxy|acme|app|200': 1 });
  });

  it('the referer: a relative /v2 path, a host with no path, a /v2 path that is no blob GET', () => {
    const { nginx, counter } = setupEvents();
    nginx.parse(proxied('GET', 200, 10, `/v2/rel/app/blobs/${D}`, '0.010'), 0); // a relative referer: its /v2 path as is
    nginx.parse(proxied('GET', 200, 20, 'https://quay.example.com', '0.010'), 0); // no path at all
    nginx.parse(proxied('GET', 200, 40, 'https://quay.example.com/v2/acme/app/manifests/v1', '0.010'), 0); // not a blob
    nginx.parse(proxied('GET', 200, 80, 'https://quay.example.com/api/v2/acme/app/blobs/x', '0.010'), 0); // /v2/ not at the path's start
    nginx.parse(proxied('GET', 200, 160, `https://quay.example.com/abcd/app/blobs/${D}`, '0.010'), 0); // no /v2/ at all (read from index 4 it would be d/app)
    // By hand: rel/app 10; no repository 20 + 40 + 80 + 160 = 300.
    expect(counter('quay_registry_transfer_bytes_total')).toEqual({ 'pull|rel|app': 10, 'pull||': 300 });
  });

  it('digests of slow transfers: %-encoded ?digest= decoded, a bad escape kept as is, ?digest= after another parameter, none for an upload path', () => {
    const { nginx, seen } = setupEvents();
    const put = (q: string) => `10.0.0.1 (-) - - [22/Nov/2026:10:15:35 +0000] "PUT /v2/a/b/blobs/uploads/u1${q} HTTP/1.1" 201 0 "-" "docker/24" (8.000 4194304 8.000)`;
    nginx.parse(put('?digest=sha256%3Aab'), 0);
    nginx.parse(put('?digest=sha256%E0%A4%A'), 0); // a broken escape: decodeURIComponent throws
    nginx.parse(put('?_state=x&digest=sha256:cd#frag'), 0);
    nginx.parse(put(''), 0);
    nginx.parse(`10.0.0.1 (-) - - [22/Nov/2026:10:15:35 +0000] "GET /v2/a/b/blobs/${D}?ns=1 HTTP/1.1" 200 4194304 "-" "docker/24" (8.000 300 8.000)`, 0);
    // 4 MiB in 8 s = 512 KiB/s: all five slow under the defaults.
    expect(seen.map((e) => e.fields['digest'])).toEqual(['sha256:ab', 'sha256%E0%A4%A', 'sha256:cd', '', D]);
  });
});

describe('TrafficRecorder: components and the plain-HTTP server, path by path', () => {
  it('each path alone: /v2, /v2/, /v2?… registry; /v2x/y, /ab/c web (not just the totals)', () => {
    const { nginx, counter } = setup();
    // One status per path, so a path counted under the wrong component shows.
    const paths: [string, number][] = [['/v2', 200], ['/v2/', 201], ['/v2?x=1', 202], ['/v2x/y', 203], ['/ab/c', 204], ['/ab', 205]];
    for (const [p, s] of paths) nginx.parse(ngx(`GET ${p}`, s, 1, '0.001'), 0);
    expect(counter('quay_http_requests_total')).toEqual({
      'registry|GET|200': 1, 'registry|GET|201': 1, 'registry|GET|202': 1, 'web|GET|203': 1, 'web|GET|204': 1, 'web|GET|205': 1,
    });
  });

  it("the plain-HTTP server's malformed request (TLS bytes on port 80): web/OTHER, counted once", () => {
    const { nginx, counter } = setup();
    nginx.parse('10.128.2.1 - - [14/Jul/2021:12:23:46 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01" 400 157 "-" "-"', 0);
    expect(counter('quay_http_requests_total')).toEqual({ 'web|OTHER|400': 1 });
  });

  it('a slow storage-proxy download whose referer names a manifest, not a blob: no digest', () => {
    const config = parseConfig({}, 'test', {});
    const registry = new MetricRegistry();
    const events = new EventBus();
    const seen: QuayEvent[] = [];
    events.add({ emit: (e) => seen.push(e) });
    const nginx = new NginxParser({ config, registry, events, grok, log: silentLogger }, new TrafficRecorder(registry, config, events));
    // 4 MiB in 8 s: slow under the defaults.
    nginx.parse('10.0.0.1 (-) - - [22/Nov/2026:10:15:43 +0000] "GET /_storage_proxy/tok/x HTTP/1.1" 200 4194304 "https://quay.example.com/v2/acme/app/manifests/v1" "containers/5.29" (8.000 1201 8.000)', 0);
    expect(seen.map((e) => [e.tags['namespace'], e.fields['digest']])).toEqual([['', '']]);
  });
});

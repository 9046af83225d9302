import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { EventBus, type QuayEvent } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { LineFields } from '../records/fields.js';
import { NginxParser } from './nginx.js';
import { TrafficRecorder } from './traffic.js';
import { LineResult } from './types.js';

const grok = PatternLibrary.bundled();
const D = 'sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e';

function setup(raw: Record<string, unknown> = {}, maxSeries = 10_000, countsTraffic = true) {
  const config = parseConfig(raw, 'test', {});
  const registry = new MetricRegistry(maxSeries);
  const events = new EventBus();
  const seen: QuayEvent[] = [];
  events.add({ emit: (e) => seen.push(e) });
  const parser = new NginxParser({ config, registry, events, grok, log: silentLogger }, countsTraffic ? new TrafficRecorder(registry, config, events) : undefined);
  const values = (
    name:
      | 'quay_registry_slow_transfers_total'
      | 'quay_registry_requests_total'
      | 'quay_log_exporter_series_overflow_total'
      | 'quay_http_requests_total'
      | 'quay_registry_transfer_bytes_total'
      | 'quay_registry_blob_redirects_total',
  ) =>
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

  it('reads the empty proxy-protocol address of Quay <= 3.7 (nginx 1.14) "()" like the "(-)" of 3.8+', () => {
    const { parser, values } = setup();
    // Quay v3.7.0 conf/nginx/http-base.conf.jnj lb_logs, printed by nginx 1.14
    const v37 = '10.117.8.255 () - - [14/Jul/2021:12:23:46 +0000] "GET /v2/ HTTP/1.1" 401 4 "-" "skopeo/1.3.1" (0.002 173 0.002)';
    expect(parser.parse(v37, 0)).toBe(LineResult.Matched);
    expect(parser.parse(v37.replace('()', '(-)'), 0)).toBe(LineResult.Matched);
    expect(parser.parse(v37.replace('()', '(192.0.2.7)'), 0)).toBe(LineResult.Matched);
    // 3 pings answered 401
    expect(values('quay_registry_requests_total')).toEqual({ 'ping|||401': 3 });
  });

  it('counts the plain-HTTP server\'s combined lines in quay_http_requests_total only (the client repeats them over HTTPS)', () => {
    const { parser, values } = setup();
    // conf/nginx/hosted-http-base.conf.jnj: port 8080 `rewrite … permanent`, logged by http-base's `access_log` (combined)
    const combined = '10.128.2.1 - - [14/Jul/2021:12:23:46 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.1" 301 169 "-" "docker/20.10.7"';
    expect(parser.parse(combined, 0)).toBe(LineResult.Matched);
    expect(parser.parse('10.128.2.1 - - [14/Jul/2021:12:23:47 +0000] "GET /health/instance HTTP/1.1" 301 169 "-" "kube-probe/1.21"', 0)).toBe(
      LineResult.Matched,
    );
    expect(values('quay_http_requests_total')).toEqual({ 'registry|GET|301': 1, 'web|GET|301': 1 });
    expect(values('quay_registry_requests_total')).toEqual({});
  });

  it('counts storage-proxy bytes as the pull they are: repository from the referer, never a second pull_blob', () => {
    const { parser, values, seen } = setup();
    const ref = `https://quay.example.com/v2/acme/app/blobs/${D}`;
    // the /v2 GET answered with a redirect to nginx's own /_storage_proxy/ (FEATURE_PROXY_STORAGE) …
    parser.parse(line(`GET /v2/acme/app/blobs/${D}`, 302, 0, '0.020'), 0);
    // … and the redirected GET carrying the 4 MiB blob in 8 s (512 KiB/s: slow)
    const proxied = `10.0.0.1 (-) - - [22/Nov/2026:10:15:43 +0000] "GET /_storage_proxy/eyJhbGciOi/https/s3.example.com/quay/sha256/3b/${D.slice(7)}?X-Amz-Signature=ab HTTP/1.1" 200 4194304 "${ref}" "containers/5.29" (8.000 1201 8.000)`;
    expect(parser.parse(proxied, 0)).toBe(LineResult.Matched);
    // a failing storage-proxy GET of another blob of the same repository
    expect(parser.parse(proxied.replace(' 200 4194304 ', ' 502 157 '), 0)).toBe(LineResult.Matched);
    expect(values('quay_registry_requests_total')).toEqual({ 'pull_blob|acme|app|302': 1, 'storage_proxy|acme|app|200': 1, 'storage_proxy|acme|app|502': 1 });
    expect(values('quay_registry_blob_redirects_total')).toEqual({ 'acme|app': 1 });
    expect(values('quay_registry_transfer_bytes_total')).toEqual({ 'pull|acme|app': 4194304 });
    expect(values('quay_registry_slow_transfers_total')).toEqual({ 'pull|acme|app': 1 });
    // /v2 302 and both storage-proxy lines are registry-component HTTP requests
    expect(values('quay_http_requests_total')).toEqual({ 'registry|GET|302': 1, 'registry|GET|200': 1, 'registry|GET|502': 1 });
    // the digest comes from the referer's /v2 path, not from the storage URL
    expect(seen.map((e) => e.fields.digest)).toEqual([D]);
  });

  it('counts a HEAD on the storage proxy as a request, with no bytes', () => {
    const { parser, values } = setup();
    parser.parse(`10.0.0.1 (-) - - [22/Nov/2026:10:15:43 +0000] "HEAD /_storage_proxy/tok/https/s3.example.com/quay/x HTTP/1.1" 200 0 "https://quay.example.com/v2/acme/app/blobs/${D}" "skopeo/1.14" (0.010 300 0.010)`, 0);
    expect(values('quay_registry_requests_total')).toEqual({ 'storage_proxy|acme|app|200': 1 });
    expect(values('quay_registry_transfer_bytes_total')).toEqual({});
  });

  it('counts a storage-proxy line without a /v2 referer with no repository', () => {
    const { parser, values } = setup();
    parser.parse(`10.0.0.1 (-) - - [22/Nov/2026:10:15:43 +0000] "GET /_storage_proxy/tok/https/s3.example.com/quay/x HTTP/1.1" 200 100 "-" "curl/8" (0.010 300 0.010)`, 0);
    expect(values('quay_registry_requests_total')).toEqual({ 'storage_proxy|||200': 1 });
    expect(values('quay_registry_transfer_bytes_total')).toEqual({ 'pull||': 100 });
  });

  it('labels a one-component name as Quay stores it: library/<name>, or the configured library namespace', () => {
    const { parser, values } = setup({ traffic: { library_namespace: 'dockerhub' } });
    parser.parse(line('POST /v2/oc-mirror/blobs/uploads/', 202, 0, '0.010'), 0);
    expect(values('quay_registry_requests_total')).toEqual({ 'push_blob_start|dockerhub|oc-mirror|202': 1 });
  });

  it('ignores access lines of both formats when gunicorn counts traffic, and still matches its error lines', () => {
    const { parser, values } = setup({}, 10_000, false);
    expect(parser.parse(line('GET /v2/', 401, 4, '0.002'), 0)).toBe(LineResult.Ignored);
    expect(parser.parse('10.128.2.1 - - [14/Jul/2021:12:23:46 +0000] "GET / HTTP/1.1" 301 169 "-" "curl/8"', 0)).toBe(LineResult.Ignored);
    expect(parser.parse('2021/07/14 12:23:46 [error] 101#0: *1 upstream timed out (110: Connection timed out)', 0)).toBe(LineResult.Matched);
    expect(values('quay_http_requests_total')).toEqual({});
  });

  it('records out: level and pid of an error line, nothing while inactive; an error line is tried at `start`', () => {
    const fields = new LineFields();
    const config = parseConfig({}, 'test', {});
    const registry = new MetricRegistry();
    const parser = new NginxParser({ config, registry, events: new EventBus(), grok, log: silentLogger, fields }, undefined);
    const err = '2021/07/14 12:23:46 [error] 101#0: *1 upstream timed out (110: Connection timed out)';
    fields.active = true;
    expect(parser.parse(`nginx stderr | ${err}`, 15)).toBe(LineResult.Matched);
    // nginx's "101#0": pid 101 (the worker), level as nginx writes it.
    expect(fields.take()).toEqual({ pid: 101, level: 'error' });
    // Tried at 0 the prefix is in the way: unmatched, nothing written.
    expect(parser.parse(`nginx stderr | ${err}`, 0)).toBe(LineResult.Unmatched);
    expect(fields.take()).toEqual({});
    fields.active = false;
    expect(parser.parse(err, 0)).toBe(LineResult.Matched);
    expect(fields.take()).toEqual({});
  });
});

/**
 * Issue 2's "done when": replaying a Quay log gives the counts a person
 * counts by hand. Every expected value below was counted from
 * test/fixtures/quay-supervisord.log (35 lines); the comment on each (here or
 * in quay-supervisord.counts.ts) says which lines make it.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { family, parseExposition, value, type Sample } from './helpers/exposition.js';
import { HTTP_REQUESTS, LINES_BY_SOURCE_RESULT, PULLS, PUSHES, REGISTRY_REQUESTS, TRANSFER_BYTES } from './fixtures/quay-supervisord.counts.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quay-supervisord.log', import.meta.url));

let samples: Sample[];
let text: string;

beforeAll(async () => {
  const r = await runCli(['replay', FIXTURE]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  text = r.stdout;
  samples = parseExposition(text);
});

describe('replay of the supervisord fixture', () => {
  it('counts every line once, by source and result', () => {
    expect(family(samples, 'quay_log_exporter_lines_total')).toEqual(LINES_BY_SOURCE_RESULT);
  });

  it('counts registry requests by v2 operation, with multi-segment names', () => {
    expect(family(samples, 'quay_registry_requests_total')).toEqual(REGISTRY_REQUESTS);
  });

  it('counts pulls (manifest GET 2xx, not HEAD) and pushes (manifest PUT 2xx)', () => {
    expect(family(samples, 'quay_registry_pulls_total')).toEqual(PULLS);
    expect(family(samples, 'quay_registry_pushes_total')).toEqual(PUSHES);
  });

  it('sums transfer bytes by direction; redirects carry none', () => {
    expect(family(samples, 'quay_registry_transfer_bytes_total')).toEqual(TRANSFER_BYTES);
    expect(family(samples, 'quay_registry_blob_redirects_total')).toEqual({ 'namespace=org,repository=team/app': 1 });
  });

  it('flags transfers of >= 1 MiB below 1 MiB/s as slow', () => {
    // 2 MiB in 4 s and 3 MiB in 6 s are both 512 KiB/s; 5 MiB in 1.532 s and 10 MiB in 2 s are fast.
    expect(family(samples, 'quay_registry_slow_transfers_total')).toEqual({
      'direction=pull,namespace=org,repository=team/app': 1,
      'direction=push,namespace=org,repository=team/app': 1,
    });
  });

  it('records transfer duration and throughput histograms', () => {
    expect(value(samples, 'quay_registry_transfer_duration_seconds_count', { direction: 'pull' })).toBe(2);
    expect(value(samples, 'quay_registry_transfer_duration_seconds_sum', { direction: 'pull' })).toBeCloseTo(5.532, 9);
    expect(value(samples, 'quay_registry_transfer_duration_seconds_count', { direction: 'push' })).toBe(3);
    expect(value(samples, 'quay_registry_transfer_duration_seconds_sum', { direction: 'push' })).toBeCloseTo(8.03, 9);
    // 524288 B/s (the slow pull) is below the 1048576 bucket bound; 3.42 MB/s is not.
    expect(value(samples, 'quay_registry_transfer_throughput_bytes_per_second_bucket', { direction: 'pull', le: '1048576' })).toBe(1);
    expect(value(samples, 'quay_registry_transfer_throughput_bytes_per_second_bucket', { direction: 'pull', le: '+Inf' })).toBe(2);
  });

  it('counts every nginx access line by component, method and status', () => {
    expect(family(samples, 'quay_http_requests_total')).toEqual(HTTP_REQUESTS);
    expect(value(samples, 'quay_http_request_duration_seconds_count', { component: 'registry' })).toBe(16);
    expect(value(samples, 'quay_http_request_duration_seconds_sum', { component: 'registry' })).toBeCloseTo(14.501, 9); // 14.431 + 0.040 + 0.030 of the two manifest GETs at 10:15:53-54
    expect(value(samples, 'quay_http_request_duration_seconds_count', { component: 'web' })).toBe(2);
    expect(value(samples, 'quay_http_request_duration_seconds_sum', { component: 'api' })).toBeCloseTo(0.3, 9);
  });

  it('counts mirror tag syncs and classifies the skopeo failure', () => {
    expect(family(samples, 'quay_log_repository_mirror_tag_syncs_total')).toEqual({
      'namespace=mirrors,repository=node-exporter,result=failed': 1,
      'namespace=mirrors,repository=node-exporter,result=success': 1,
    });
    expect(family(samples, 'quay_log_repository_mirror_sync_failures_total')).toEqual({ 'namespace=mirrors,reason=rate_limited': 1 });
  });

  it('counts GC iterations and job runs', () => {
    expect(value(samples, 'quay_log_gc_iterations_total')).toBe(2);
    expect(family(samples, 'quay_log_gc_job_runs_total')).toEqual({ 'job=GarbageCollectionWorker._garbage_collection_repos,result=success': 2 });
  });

  it('never puts a digest, client address, tag or user agent into a label', () => {
    for (const s of samples) {
      for (const v of Object.values(s.labels)) {
        expect(v).not.toMatch(/sha256:|10\.128\.|192\.168\.|203\.0\.113|containers\/|Mozilla|v1\.7\.0|v1\.2\.3/);
      }
    }
  });

  it('prints no OTel scope labels or target_info by default', () => {
    expect(text).not.toContain('otel_scope_name');
    expect(text).not.toContain('target_info');
  });

  it('prints the same numbers as JSON', async () => {
    const r = await runCli(['replay', '--format', 'json', FIXTURE]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { metrics: { name: string; series: { labels: Record<string, string>; value?: number }[] }[] };
    const pulls = json.metrics.find((m) => m.name === 'quay_registry_pulls_total')!;
    expect(pulls.series).toEqual([
      { labels: { namespace: 'acme', repository: 'app' }, value: 2 },
      { labels: { namespace: 'org', repository: 'team/app' }, value: 1 },
    ]);
    const bytes = json.metrics.find((m) => m.name === 'quay_registry_transfer_bytes_total')!;
    expect(bytes.series.reduce((a, s) => a + s.value!, 0)).toBe(5242880 + 2097152 + 10486280 + 3145728);
  });
});

describe('traffic source', () => {
  it('counts gunicorn-registry access lines only when no nginx is read', async () => {
    // Only the gunicorn lines, read as a gunicorn source: the one registry access line is a pull.
    const lines = [
      '2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.0" 200 1570 "-" "containers/5.30.0"',
      '2026-11-22 10:15:34,000 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:34 +0000] "GET /v2/acme/app/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000 HTTP/1.0" 200 - "-" "containers/5.30.0"',
    ].join('\n');
    const r = await runCli(['replay', '--source', 'gunicorn', '-'], { input: lines + '\n' });
    expect(r.code).toBe(0);
    const s = parseExposition(r.stdout);
    expect(family(s, 'quay_registry_pulls_total')).toEqual({ 'namespace=acme,repository=app': 1 });
    expect(family(s, 'quay_registry_requests_total')).toEqual({
      'operation=pull_manifest,namespace=acme,repository=app,status=200': 1,
      'operation=pull_blob,namespace=acme,repository=app,status=200': 1,
    });
    // bytes "-" is 0 bytes; gunicorn logs no duration, so no histogram observation.
    expect(family(s, 'quay_registry_transfer_bytes_total')).toEqual({ 'direction=pull,namespace=acme,repository=app': 0 });
    expect(value(s, 'quay_http_request_duration_seconds_count', { component: 'registry' })).toBeUndefined();
    expect(family(s, 'quay_log_exporter_lines_total')['source=gunicorn,result=matched']).toBe(2);
  });
});

/**
 * Traffic configuration through the real CLI (`replay`): which requests are
 * transfers, which log counts traffic (`traffic.source`), and the series cap
 * from `limits.max_series_per_metric`. Every expected value is counted by hand
 * from the lines written here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { family, parseExposition, value, type Sample } from './helpers/exposition.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quay-supervisord.log', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qle-traffic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let configs = 0;
/** Replays `input` (stdin) or `files` with a config written from `yaml`; exit 0 and a quiet stderr expected. */
async function replay(yaml: string, args: string[], input?: string): Promise<Sample[]> {
  const config = join(dir, `c${configs++}.yaml`);
  writeFileSync(config, yaml);
  const r = await runCli(['replay', '--config', config, ...args], { input });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseExposition(r.stdout);
}

const nginx = (method: string, path: string, status: number, bytes: number, seconds: string) =>
  `10.0.0.1 (-) - - [22/Nov/2026:10:15:33 +0000] "${method} ${path} HTTP/1.1" ${status} ${bytes} "-" "docker/24.0.7" (${seconds} 512 ${seconds})`;
const BLOB = 'sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e';

describe('blob requests', () => {
  it('a blob HEAD is a request, not a pull transfer; the GET of the same blob is', async () => {
    const lines = [
      nginx('HEAD', `/v2/acme/app/blobs/${BLOB}`, 200, 0, '0.004'), // does the registry have it?
      nginx('HEAD', `/v2/org/team/app/blobs/${BLOB}`, 200, 0, '0.003'),
      nginx('GET', `/v2/org/team/app/blobs/${BLOB}`, 200, 4096, '0.008'),
    ].join('\n');
    const s = await replay('log_level: warn\n', ['--source', 'nginx', '-'], lines + '\n');
    // 3 requests, all pull_blob 200.
    expect(family(s, 'quay_registry_requests_total')).toEqual({
      'operation=pull_blob,namespace=acme,repository=app,status=200': 1,
      'operation=pull_blob,namespace=org,repository=team/app,status=200': 2,
    });
    // One transfer: the GET's 4096 bytes in 0.008 s. acme/app was only HEADed: no transfer series at all.
    expect(family(s, 'quay_registry_transfer_bytes_total')).toEqual({ 'direction=pull,namespace=org,repository=team/app': 4096 });
    expect(value(s, 'quay_registry_transfer_duration_seconds_count', { direction: 'pull' })).toBe(1);
    expect(value(s, 'quay_registry_transfer_duration_seconds_sum', { direction: 'pull' })).toBeCloseTo(0.008, 9);
    // A blob is not a pull (pulls are manifest GETs).
    expect(family(s, 'quay_registry_pulls_total')).toEqual({});
  });
});

describe('traffic.source', () => {
  const gunicornLines = [
    '2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.0" 200 1570 "-" "containers/5.30.0"',
    '2026-11-22 10:15:34,000 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:34 +0000] "PUT /v2/acme/app/manifests/v2 HTTP/1.0" 201 0 "-" "containers/5.30.0"',
  ].join('\n');

  it('nginx, forced, with only gunicorn lines read: the gunicorn access lines are ignored, no traffic counted', async () => {
    // `auto` would pick gunicorn here (no nginx source); the config says nginx.
    const s = await replay('log_level: warn\ntraffic: {source: nginx}\n', ['--source', 'gunicorn', '-'], gunicornLines + '\n');
    expect(family(s, 'quay_registry_pulls_total')).toEqual({});
    expect(family(s, 'quay_registry_pushes_total')).toEqual({});
    expect(family(s, 'quay_registry_requests_total')).toEqual({});
    // Both lines read, both ignored.
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'gunicorn', result: 'ignored' })).toBe(2);
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'gunicorn', result: 'matched' })).toBe(0);
  });

  it('auto with only gunicorn lines read: gunicorn counts the traffic (1 pull, 1 push)', async () => {
    const s = await replay('log_level: warn\n', ['--source', 'gunicorn', '-'], gunicornLines + '\n');
    expect(family(s, 'quay_registry_pulls_total')).toEqual({ 'namespace=acme,repository=app': 1 });
    expect(family(s, 'quay_registry_pushes_total')).toEqual({ 'namespace=acme,repository=app': 1 });
  });

  // Before the fix the nginx parser always got the traffic recorder, so with both logs present every
  // request was counted twice (pull_manifest acme/app 200 = 4).
  it('gunicorn, forced, with both logs present (the supervisord fixture): each request counted once, from gunicorn', async () => {
    const s = await replay('log_level: warn\ntraffic: {source: gunicorn}\n', [FIXTURE]);
    // The fixture's gunicorn access lines: registry GET manifest latest 200 (acme/app) and web DELETE of an API tag 204.
    expect(family(s, 'quay_registry_requests_total')).toEqual({ 'operation=pull_manifest,namespace=acme,repository=app,status=200': 1 });
    expect(family(s, 'quay_registry_pulls_total')).toEqual({ 'namespace=acme,repository=app': 1 });
    expect(family(s, 'quay_registry_pushes_total')).toEqual({});
    expect(family(s, 'quay_registry_transfer_bytes_total')).toEqual({});
    expect(family(s, 'quay_http_requests_total')).toEqual({ 'component=registry,method=GET,status=200': 1, 'component=api,method=DELETE,status=204': 1 });
  });
});

describe('limits.max_series_per_metric', () => {
  it('caps each metric at the configured number of series; the rest fold into __overflow__, counted', async () => {
    // 20 repositories r00…r19, one manifest GET each. The cap is 17, the number of
    // quay_log_exporter_lines_total series (5 sources × 3 results + supervisord and container matched),
    // so that one is not folded.
    const lines = Array.from({ length: 20 }, (_, i) => nginx('GET', `/v2/acme/r${String(i).padStart(2, '0')}/manifests/latest`, 200, 1570, '0.010')).join('\n');
    const s = await replay('log_level: warn\nlimits: {max_series_per_metric: 17}\n', ['--source', 'nginx', '-'], lines + '\n');
    // r00-r16 keep their own series; r17-r19 (3 pulls) share one.
    const want: Record<string, number> = {};
    for (let i = 0; i < 17; i++) want[`namespace=acme,repository=r${String(i).padStart(2, '0')}`] = 1;
    want['namespace=__overflow__,repository=__overflow__'] = 3;
    expect(family(s, 'quay_registry_pulls_total')).toEqual(want);
    expect(value(s, 'quay_log_exporter_series_overflow_total', { metric: 'quay_registry_pulls_total' })).toBe(3);
    expect(value(s, 'quay_log_exporter_series_overflow_total', { metric: 'quay_registry_requests_total' })).toBe(3);
    expect(value(s, 'quay_log_exporter_series_overflow_total', { metric: 'quay_log_exporter_lines_total' })).toBeUndefined();
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'nginx', result: 'matched' })).toBe(20);
  });
});

/**
 * Issue 9: `traffic.source: gunicorn` counted every request twice, because
 * the nginx parser always got the traffic recorder. Two requests, each logged
 * by nginx and by gunicorn-registry in one supervisord stream, through the
 * real CLI: whichever log counts, each request counts once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { family, parseExposition } from './helpers/exposition.js';

const D = 'sha256:1111111111111111111111111111111111111111111111111111111111111111';
const LOG = [
  // request 1: a manifest pull
  'nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.1" 200 1570 "-" "containers/5.30.0" (0.045 380 0.044)',
  'gunicorn-registry stdout | 2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.0" 200 1570 "-" "containers/5.30.0"',
  // request 2: a blob pull of 2048 bytes
  `gunicorn-registry stdout | 2026-11-22 10:15:34,000 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:34 +0000] "GET /v2/acme/app/blobs/${D} HTTP/1.0" 200 2048 "-" "containers/5.30.0"`,
  `nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:34 +0000] "GET /v2/acme/app/blobs/${D} HTTP/1.1" 200 2048 "-" "containers/5.30.0" (0.010 380 0.010)`,
].join('\n');

async function replayWith(source: 'gunicorn' | 'nginx' | 'auto') {
  const dir = mkdtempSync(join(tmpdir(), 'qle-traffic-'));
  writeFileSync(join(dir, 'quay.log'), LOG + '\n');
  writeFileSync(join(dir, 'c.yaml'), `traffic:\n  source: ${source}\n`);
  const r = await runCli(['replay', '--config', join(dir, 'c.yaml'), join(dir, 'quay.log')]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseExposition(r.stdout);
}

const ONCE = {
  'operation=pull_manifest,namespace=acme,repository=app,status=200': 1,
  'operation=pull_blob,namespace=acme,repository=app,status=200': 1,
};

describe('traffic.source with both logs present', () => {
  it('gunicorn: each request once, from gunicorn; nginx access lines are ignored', async () => {
    const s = await replayWith('gunicorn');
    expect(family(s, 'quay_registry_requests_total')).toEqual(ONCE);
    expect(family(s, 'quay_registry_pulls_total')).toEqual({ 'namespace=acme,repository=app': 1 });
    expect(family(s, 'quay_registry_transfer_bytes_total')).toEqual({ 'direction=pull,namespace=acme,repository=app': 2048 });
    // 2 HTTP requests, not 4
    expect(family(s, 'quay_http_requests_total')).toEqual({ 'component=registry,method=GET,status=200': 2 });
    const lines = family(s, 'quay_log_exporter_lines_total');
    expect([lines['source=nginx,result=ignored'], lines['source=nginx,result=matched']]).toEqual([2, 0]);
    expect([lines['source=gunicorn,result=matched'], lines['source=gunicorn,result=ignored']]).toEqual([2, 0]);
  });

  it('auto and nginx: each request once, from nginx; gunicorn access lines are ignored', async () => {
    for (const source of ['auto', 'nginx'] as const) {
      const s = await replayWith(source);
      expect(family(s, 'quay_registry_requests_total')).toEqual(ONCE);
      expect(family(s, 'quay_http_requests_total')).toEqual({ 'component=registry,method=GET,status=200': 2 });
      const lines = family(s, 'quay_log_exporter_lines_total');
      expect([lines['source=nginx,result=matched'], lines['source=gunicorn,result=ignored']]).toEqual([2, 2]);
    }
  });
});

describe('traffic.library_namespace', () => {
  it('refuses a value that is no Quay namespace, naming the key, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-traffic-'));
    writeFileSync(join(dir, 'c.yaml'), 'traffic:\n  library_namespace: "Lib Rary"\n');
    const r = await runCli(['check-config', join(dir, 'c.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('traffic.library_namespace: a Quay namespace name');
  });
});

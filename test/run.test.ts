/**
 * `run`: the daemon follows a file, serves /metrics, /healthz and /readyz,
 * and its /metrics shows exactly what `replay` prints for the same file.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { sum } from './helpers/exposition.js';
import { FIXTURE_LINES } from './fixtures/quay-supervisord.counts.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quay-supervisord.log', import.meta.url));
let daemon: RunningDaemon;
let log: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qle-run-'));
  log = join(dir, 'quay.log');
  copyFileSync(FIXTURE, log);
  daemon = await startDaemon({ inputs: [{ paths: [log], start_at: 'beginning', source: 'supervisord' }] }, dir);
  // 35 lines in the fixture (see replay.test.ts)
  await waitFor('35 lines', async () => sum(await daemon.samples(), 'quay_log_exporter_lines_total') === FIXTURE_LINES);
});

afterAll(async () => {
  if (daemon.proc.exitCode === null) await daemon.stop('SIGKILL');
});

describe('run', () => {
  it('serves on /metrics exactly what replay prints for the same file', async () => {
    const scraped = (await daemon.get('/metrics')).body;
    const replayed = (await runCli(['replay', FIXTURE])).stdout;
    // Only the input families differ (a followed file has a lag, a watch count, rotations); the rest is identical.
    const withoutInputSeries = (text: string) =>
      text
        .split('\n')
        .filter((l) => !/quay_log_exporter_(input_bytes_total|files_watched|input_lag_bytes|rotations_total)/.test(l))
        .join('\n');
    expect(withoutInputSeries(scraped)).toBe(withoutInputSeries(replayed));
    // `wc -c` of the fixture
    expect(scraped).toMatch(/^quay_log_exporter_input_bytes_total\{input="file-0"\} 6869$/m);
  });

  it('answers health and readiness', async () => {
    expect(await daemon.get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect(await daemon.get('/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect((await daemon.get('/nope')).status).toBe(404);
  });

  it('drains and exits 0 on SIGTERM', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(daemon.stderr()).toContain('"msg":"stopped"');
  });
});

describe('run with a stdin input', () => {
  it('counts piped lines and exits 0 when stdin ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-stdin-'));
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `state_dir: ${dir}/state\nprometheus: {listen: "127.0.0.1:0"}\ninputs: [{type: stdin, source: nginx}]\n`);
    const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await waitFor('the server', async () => /"serving metrics"/.test(err));
    const port = Number(/"address":"[^"]*:(\d+)"/.exec(err)![1]);
    const line = '10.0.0.1 (-) - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.1" 200 1570 "-" "docker/24.0.7" (0.045 380 0.044)\n';
    child.stdin.write(line + line + 'garbage\n');
    // 2 pulls and 1 unmatched line, counted while the pipe is still open
    await waitFor('3 lines', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /quay_registry_pulls_total\{namespace="acme",repository="app"\} 2/.test(text) && /quay_log_exporter_lines_total\{source="nginx",result="unmatched"\} 1/.test(text);
    });
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(err).toContain('every input ended, draining');
  });
});

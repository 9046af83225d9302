/**
 * `run`: the daemon follows a file, serves /metrics, /healthz and /readyz,
 * and its /metrics shows exactly what `replay` prints for the same file.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { sum } from './helpers/exposition.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quay-supervisord.log', import.meta.url));
let daemon: RunningDaemon;
let log: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'qle-run-'));
  log = join(dir, 'quay.log');
  copyFileSync(FIXTURE, log);
  daemon = await startDaemon({ inputs: [{ paths: [log], start_at: 'beginning', source: 'supervisord' }] }, dir);
  // 33 lines in the fixture (see replay.test.ts)
  await waitFor('33 lines', async () => sum(await daemon.samples(), 'quay_log_exporter_lines_total') === 33);
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
    expect(scraped).toMatch(/^quay_log_exporter_input_bytes_total\{input="file-0"\} 6496$/m);
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

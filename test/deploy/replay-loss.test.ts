/**
 * `replay` with InfluxDB down must neither block without end nor exit 0
 * after losing the backfill: it waits at most `replay_max_wait` without a
 * point written, then reads on, and exits 1 saying how many points were
 * lost. Real CLI; "down" is a loopback port nothing listens on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { parseExposition, value } from '../helpers/exposition.js';
import { freePort } from '../helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'qle-replay-loss-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 20,000 slow pulls (2 MiB in 4 s): one quay_slow_transfer event point each; about 5 MB, several read chunks. */
const EVENTS = 20_000;
function slowPulls(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const digest = 'sha256:' + i.toString(16).padStart(64, '0');
    lines.push(`nginx stdout | 10.0.0.1 (-) - - [22/Nov/2026:00:00:00 +0000] "GET /v2/org/app/blobs/${digest} HTTP/1.1" 200 2097152 "-" "docker/24.0.7" (4.000 512 3.998)`);
  }
  return lines.join('\n') + '\n';
}

it('InfluxDB down: replay gives up after replay_max_wait and exits 1 naming the points lost', async () => {
  const log = join(dir, 'quay.log');
  writeFileSync(log, slowPulls(EVENTS));
  const config = join(dir, 'config.yaml');
  const port = await freePort(); // nothing listens here
  writeFileSync(
    config,
    stringify({
      state_dir: join(dir, 'state'),
      log_level: 'error',
      outputs: { influxdb: { url: `http://127.0.0.1:${port}`, database: 'quay', interval: '1h', queue_size: 1000, replay_max_wait: '1s', shutdown_timeout: '500ms', max_retry_delay: '200ms' } },
    }),
  );
  const r = await runCli(['replay', '--config', config, log]);
  expect(r.code).toBe(1);
  // The metrics themselves are complete: every pull counted.
  const samples = parseExposition(r.stdout);
  expect(value(samples, 'quay_registry_slow_transfers_total', { direction: 'pull', namespace: 'org', repository: 'app' })).toBe(EVENTS);
  // Lost: every event point (20,000) plus the final metrics export, one point per series
  // (each counter/gauge sample, each histogram series once).
  const histograms = [...r.stdout.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]!);
  const seriesPoints = samples.filter((s) => !histograms.some((h) => s.name === `${h}_bucket` || s.name === `${h}_sum`)).length;
  const lost = Number(/replay: (\d+) point\(s\) were not written to InfluxDB/.exec(r.stderr)?.[1]);
  expect(lost).toBe(EVENTS + seriesPoints);
  expect(r.stderr).toContain('gives up waiting for influxdb');
}, 60_000);

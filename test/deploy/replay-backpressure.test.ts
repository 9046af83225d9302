/**
 * A backfill loses no event rows: `replay` waits for InfluxDB when the
 * output's queue is over half full, and events logged in the same second for
 * the same series get distinct timestamps instead of overwriting each other.
 * Real CLI, real influxd.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, type CliResult } from '../helpers/cli.js';
import { parseExposition, value } from '../helpers/exposition.js';
import { haveBinary, INFLUXD, startInfluxd, type Influxd } from '../outputs/servers.js';

const DB = 'quay_backpressure';
/** 20,000 slow pulls (2 MiB in 4 s each), three per logged second: twice the queue. */
const EVENTS = 20_000;
const QUEUE = 10_000;

function slowPulls(n: number): string {
  const base = Date.UTC(2026, 10, 22, 0, 0, 0);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const d = new Date(base + Math.floor(i / 3) * 1000);
    const p = (x: number) => String(x).padStart(2, '0');
    const time = `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
    const digest = 'sha256:' + i.toString(16).padStart(64, '0');
    lines.push(`nginx stdout | 10.0.0.1 (-) - - [${time}] "GET /v2/org/team/app/blobs/${digest} HTTP/1.1" 200 2097152 "-" "docker/24.0.7" (4.000 512 3.998)`);
  }
  return lines.join('\n') + '\n';
}

describe.skipIf(!haveBinary(INFLUXD))('replay waits for InfluxDB instead of dropping events (real CLI, real influxd)', () => {
  let influx: Influxd;
  let dir: string;
  let result: CliResult;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qle-backpressure-'));
    influx = await startInfluxd();
    await influx.query(`CREATE DATABASE "${DB}"`);
    const log = join(dir, 'quay.log');
    writeFileSync(log, slowPulls(EVENTS));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        state_dir: join(dir, 'state'),
        log_level: 'error',
        outputs: {
          influxdb: { url: influx.url, database: DB, username: influx.username, password: influx.password, interval: '1h', queue_size: QUEUE, batch_size: 1000, flush_interval: '50ms' },
        },
      }),
    );
    result = await runCli(['replay', '--config', config, log]);
  }, 60_000);

  afterAll(async () => {
    await influx?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drops nothing', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const samples = parseExposition(result.stdout);
    expect(value(samples, 'quay_registry_slow_transfers_total', { direction: 'pull', namespace: 'org', repository: 'team/app' })).toBe(EVENTS);
    expect(value(samples, 'quay_log_exporter_output_dropped_points_total', { output: 'influxdb' })).toBe(0);
  });

  it('writes one row per slow transfer, three per second kept apart', async () => {
    const [count] = await influx.rows('SELECT count("bytes") AS n FROM "quay_slow_transfer"', DB);
    expect(count?.['n']).toBe(EVENTS);
    // the first second's three pulls: 00:00:00.000, .001 and .002, with their own digests
    const first = await influx.rows('SELECT "digest" FROM "quay_slow_transfer" ORDER BY time ASC LIMIT 3', DB);
    expect(first.map((r) => [new Date(r['time'] as string).toISOString(), r['digest']])).toEqual([
      ['2026-11-22T00:00:00.000Z', 'sha256:' + '0'.padStart(64, '0')],
      ['2026-11-22T00:00:00.001Z', 'sha256:' + '1'.padStart(64, '0')],
      ['2026-11-22T00:00:00.002Z', 'sha256:' + '2'.padStart(64, '0')],
    ]);
  });
});

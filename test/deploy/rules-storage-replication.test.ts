/**
 * The "done when": a user writes, in one config file, a rule that
 * counts `storagereplication` copy failures by location, runs the real
 * daemon (`node dist/cli.js run`) on a log file, and sees the counts on
 * /metrics (linted by promtool) and in a real influxd, with an event point
 * per failure at the line's own time.
 */
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { haveBinary, INFLUXD, PROMTOOL, promtool, startInfluxd, waitFor, type Influxd } from '../outputs/servers.js';

const DB = 'quay_rules';
const RULE = {
  name: 'copy_failures',
  programs: 'storagereplication',
  level: 'ERROR',
  match: 'Failed to copy path `%{DATA:path}` of image storage %{NOTSPACE:storage} to location %{WORD:location}$',
  metrics: [{ name: 'site_replication_copy_failures_total', type: 'counter', help: 'Copy failures by target location.', labels: ['location'] }],
  event: { measurement: 'site_replication_copy_failure', tags: ['location'], fields: ['path', 'storage'] },
};

const line = (time: string, storage: string, location: string) =>
  `storagereplication stdout | 2026-11-30 ${time},000 [61] [ERROR] [__main__] Failed to copy path \`sha256/${storage}\` of image storage ${storage} to location ${location}\n`;

describe.skipIf(!haveBinary(INFLUXD) || !haveBinary(PROMTOOL))('a user rule for storagereplication copy failures, end to end', () => {
  let influx: Influxd;
  let daemon: RunningDaemon;
  let log: string;

  beforeAll(async () => {
    influx = await startInfluxd();
    await influx.query(`CREATE DATABASE "${DB}"`);
    const dir = mkdtempSync(join(tmpdir(), 'qle-rules-'));
    log = join(dir, 'quay.log');
    writeFileSync(log, '');
    daemon = await startDaemon(
      {
        shipped_rules: false,
        inputs: [{ paths: [log], start_at: 'beginning', poll_interval: '50ms' }],
        rules: [RULE],
        outputs: { influxdb: { url: influx.url, database: DB, username: influx.username, password: influx.password, interval: '200ms', flush_interval: '50ms' } },
      },
      dir,
    );
    appendFileSync(
      log,
      line('09:00:01', 'aaa1', 'eu_west') +
        line('09:00:02', 'aaa2', 'eu_west') +
        line('09:00:03', 'aaa3', 'ap_south') +
        // Not counted: the same text at WARNING, and another program.
        line('09:00:04', 'aaa4', 'eu_west').replace('[ERROR]', '[WARNING]') +
        line('09:00:05', 'aaa5', 'eu_west').replace('storagereplication', 'securityworker'),
    );
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    await influx?.destroy();
  });

  it('serves the counts by location on /metrics, and promtool accepts the exposition', async () => {
    // eu_west: 09:00:01 and 09:00:02; ap_south: 09:00:03.
    const body = await waitFor('both series on /metrics', async () => {
      const b = (await daemon.get('/metrics')).body;
      return b.includes('site_replication_copy_failures_total{location="ap_south"} 1') ? b : undefined;
    });
    expect(body).toContain('# HELP site_replication_copy_failures_total Copy failures by target location.');
    expect(body).toContain('# TYPE site_replication_copy_failures_total counter');
    expect(body).toContain('site_replication_copy_failures_total{location="eu_west"} 2');
    expect(body).toContain('quay_log_exporter_rule_matches_total{rule="copy_failures"} 3');
    const lint = promtool(['check', 'metrics'], body);
    expect(lint.output).not.toContain('site_replication');
  });

  it('writes the same counts to InfluxDB', async () => {
    const rows = await waitFor('counts in influxd', async () => {
      // Counters are written as Telegraf's prometheus input writes them: a `counter` field.
      const all = await influx.query(`SELECT last("counter") FROM "site_replication_copy_failures_total" GROUP BY "location"`, DB);
      const byLoc = Object.fromEntries((all[0]?.series ?? []).map((s) => [s.tags?.['location'], s.values[0]?.[1]]));
      return byLoc['eu_west'] === 2 && byLoc['ap_south'] === 1 ? byLoc : undefined;
    });
    expect(rows).toEqual({ eu_west: 2, ap_south: 1 });
  });

  it('writes one event point per failure at the line time, location as a tag, path and storage as fields', async () => {
    const points = await waitFor('3 event points', async () => {
      const r = await influx.rows(`SELECT "location", "path", "storage" FROM "site_replication_copy_failure"`, DB);
      return r.length === 3 ? r : undefined;
    });
    expect(points).toEqual([
      { time: '2026-11-30T09:00:01Z', location: 'eu_west', path: 'sha256/aaa1', storage: 'aaa1' },
      { time: '2026-11-30T09:00:02Z', location: 'eu_west', path: 'sha256/aaa2', storage: 'aaa2' },
      { time: '2026-11-30T09:00:03Z', location: 'ap_south', path: 'sha256/aaa3', storage: 'aaa3' },
    ]);
    const tagKeys = await influx.query(`SHOW TAG KEYS FROM "site_replication_copy_failure"`, DB);
    expect(tagKeys[0]?.series?.[0]?.values.flat()).toEqual(['location']);
  });
});

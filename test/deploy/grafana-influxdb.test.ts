/**
 * Every InfluxQL query of deploy/grafana/quay-log-exporter-influxdb.json runs
 * against a real influxd filled by the InfluxDB output, with Grafana's macros
 * substituted as Grafana would, and must return the values written, worked out by hand.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { createMeterProvider, HistogramProducer } from '../../src/metrics/provider.js';
import { MetricRegistry } from '../../src/metrics/series.js';
import { createInfluxOutput } from '../../src/outputs/influxdb/index.js';
import { haveBinary, INFLUXD, influxConfig, startInfluxd, waitFor, type Influxd } from '../outputs/servers.js';

const ok = haveBinary(INFLUXD);
const DASHBOARD = new URL('../../deploy/grafana/quay-log-exporter-influxdb.json', import.meta.url);

interface Target {
  query: string;
  rawQuery?: boolean;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');

describe.skipIf(!ok)('Grafana InfluxDB dashboard against influxd', () => {
  let influx: Influxd;
  const db = 'quay_dashboard';
  let t0 = 0;
  let t1 = 0;
  /** Grafana's macros and variables, as Grafana substitutes them for InfluxQL. */
  const expand = (q: string, vars: Record<string, string>) => {
    let out = q.replaceAll('$timeFilter', `time >= ${t0}ms and time <= ${t1}ms`).replaceAll('$__interval', '1s');
    for (const [k, v] of Object.entries(vars)) out = out.replaceAll(`$${k}`, v);
    return out;
  };
  const vars = { namespace: 'acme', repository: 'web' };

  beforeAll(async () => {
    influx = await startInfluxd();
    await influx.query(`CREATE DATABASE "${db}"`);
    const registry = new MetricRegistry();
    const out = createInfluxOutput(influxConfig({ url: influx.url, username: influx.username, password: influx.password, database: db, interval: '1h', tags: { pod: 'quay-0' } }), {
      registry,
      producer: new HistogramProducer(registry),
      log: silentLogger,
    });
    const provider = createMeterProvider(registry, [out.reader]);
    const c = (name: Parameters<MetricRegistry['counter']>[0], ...labels: string[]) => registry.counter(name).at(...labels);
    const status = registry.gauge('quay_log_repository_mirror_last_sync_status');
    status.at('acme', 'web', 'failed', 'auth').value = 1;
    status.at('acme', 'ok', 'failed', '').value = 0;
    registry.gauge('quay_log_exporter_input_lag_bytes').at('/var/log/quay.log').value = 4096;
    const throughput = registry.histogram('quay_registry_transfer_throughput_bytes_per_second');
    t0 = Date.now() - 1000;
    // Three exports, each in its own second, so every 1s bucket-to-bucket rate has two points.
    for (let round = 1; round <= 3; round++) {
      c('quay_registry_pulls_total', 'acme', 'web').value += 10;
      c('quay_registry_pushes_total', 'acme', 'web').value += 2;
      c('quay_registry_transfer_bytes_total', 'pull', 'acme', 'web').value += 1_000_000;
      c('quay_registry_requests_total', 'manifest_get', 'acme', 'web', '404').value += 3;
      c('quay_registry_requests_total', 'blob_get', 'acme', 'web', '503').value += 1;
      c('quay_log_repository_mirror_tag_syncs_total', 'acme', 'web', 'failed').value += 1;
      c('quay_log_repository_mirror_sync_failures_total', 'acme', 'auth').value += 1;
      c('quay_log_gc_table_rows_deleted_total', 'Tag').value += 5;
      c('quay_log_gc_iterations_total').value += 1;
      c('quay_log_exporter_lines_total', 'nginx', 'matched').value += 100;
      c('quay_log_exporter_lines_total', 'nginx', 'unmatched').value += 4;
      throughput.observe(throughput.at('pull'), 2_000_000);
      const second = Math.floor(Date.now() / 1000);
      await provider.forceFlush();
      await waitFor('the next second', () => (Math.floor(Date.now() / 1000) > second ? true : undefined), 3000, 20);
    }
    out.events.emit({
      measurement: 'quay_slow_transfer',
      time: Date.now() - 500,
      tags: { direction: 'pull', namespace: 'acme', repository: 'web' },
      fields: { bytes: 5e7, seconds: 100, bytes_per_second: 5e5, client: '10.0.0.1', digest: 'sha256:1', user_agent: 'docker', status: 200 },
    });
    out.events.emit({
      measurement: 'quay_mirror_sync',
      time: Date.now() - 400,
      tags: { namespace: 'acme', repository: 'web', result: 'failed', reason: 'auth' },
      fields: { upstream: 'docker.io/library/nginx', tag: 'latest', error: 'unauthorized' },
    });
    out.events.emit({ measurement: 'quay_gc_run', time: Date.now() - 300, tags: { job: 'gc', result: 'success' }, fields: { Tag: 5 } });
    // Finished sync attempts from two mirror pods (quay-0 here, quay-1 through a second output), times
    // in log time. acme/web: quay-1 failed (tls) at -700, quay-0 failed (auth) at -400 → failing, auth.
    // acme/api: quay-0 failed (auth) at -600, quay-1 synced it at -350 → not failing.
    const attempt = (o: typeof out, ago: number, repository: string, reason: string) =>
      o.events.emit({
        measurement: 'quay_mirror_attempt',
        time: Date.now() - ago,
        tags: { namespace: 'acme', repository, result: reason === '' ? 'success' : 'failed' },
        fields: { failed: reason === '' ? 0 : 1, reason, upstream: 'quay.io/acme/' + repository, duration_seconds: 3 },
      });
    const out1 = createInfluxOutput(influxConfig({ url: influx.url, username: influx.username, password: influx.password, database: db, interval: '1h', tags: { pod: 'quay-1' } }), {
      registry: new MetricRegistry(),
      producer: new HistogramProducer(new MetricRegistry()),
      log: silentLogger,
    });
    attempt(out1, 700, 'web', 'tls_error');
    attempt(out, 600, 'api', 'auth');
    attempt(out, 400, 'web', 'auth');
    attempt(out1, 350, 'api', '');
    await out1.shutdown();
    await out.shutdown();
    await provider.shutdown();
    t1 = Date.now() + 1000;
  });
  afterAll(async () => {
    await influx?.destroy();
  });

  it('template variables list the namespaces and repositories in the data', async () => {
    const q = (name: string) => dashboard.templating.list.find((v) => v.name === name)!.query;
    const ns = (await influx.query(expand(q('namespace'), vars), db))[0]!;
    expect(ns.error).toBeUndefined();
    expect(ns.series!.flatMap((s) => s.values.map((v) => v[1]))).toContain('acme');
    const repos = (await influx.query(expand(q('repository'), vars), db))[0]!;
    expect(repos.error).toBeUndefined();
    expect(new Set(repos.series!.flatMap((s) => s.values.map((v) => v[1])))).toEqual(new Set(['web']));
  });

  it('has the panels the issue asks for, all raw InfluxQL', () => {
    const titles = panels.map((p) => p.title);
    for (const t of ['Pulls per repository', 'Pushes per repository', 'Blob bytes by direction', 'Average bandwidth per transfer by direction', '4xx per second by operation', '5xx per second by operation', 'Slow transfers', 'Mirror tag syncs by result', 'Mirror sync failures by reason', 'Mirrors failing now', 'GC rows deleted by table', 'GC iterations', 'Lines per second', 'Unmatched lines per second', 'Input lag']) {
      expect(titles).toContain(t);
    }
    for (const p of panels) for (const t of p.targets ?? []) expect(t.rawQuery).toBe(true);
    // Counter rates are derivatives of the cumulative `counter` field, per series, grouped by time.
    const pulls = panels.find((p) => p.title === 'Pulls per repository')!.targets![0]!.query;
    expect(pulls).toContain('non_negative_derivative(max("counter"), 1s)');
    expect(pulls).toContain('GROUP BY time($__interval)');
    expect(panels.find((p) => p.title === 'Slow transfers')!.targets![0]!.query).toContain('LIMIT 500');
  });

  /**
   * What every query returns, worked out by hand from the data written above: per series, its GROUP BY
   * tags and its rows without the time column. Exports 1-3 fall in consecutive seconds (the loop waits
   * for the next second) and the shutdown export in a fourth; a counter's per-second rate between
   * buckets is therefore its increment per round, then 0 for the shutdown export, which adds nothing.
   */
  const METRIC_SERIES = 26; // every metric series the registry holds (SHOW SERIES minus the 3 event measurements):
  // gc 5 (immutable_tags_skipped, iterations, namespaces_purged, repos_purged, rows Tag), exporter 11 (files_watched,
  // input_lag, lines x2, lines_truncated, output dropped/written/queue/write_errors, state_save_failures,
  // mirror_repositories_evicted: labelless, so present from the start), registry 6 (pulls, pushes,
  // requests x2, bytes, throughput), mirror 4 (last_sync_status x2, sync_failures, tag_syncs).
  const EXPECTED: Record<string, { tags?: Record<string, string>; values: unknown[][] }[]> = {
    'Pulls per repository 1': [{ tags: { namespace: 'acme', repository: 'web' }, values: [[10], [10], [0]] }], // +10 a round
    'Pushes per repository 1': [{ tags: { namespace: 'acme', repository: 'web' }, values: [[2], [2], [0]] }],
    'Blob bytes by direction 1': [{ tags: { direction: 'pull' }, values: [[1_000_000], [1_000_000], [0]] }],
    // One 2 MB/s observation a round: sum rate 2e6 over count rate 1; 0/0 is 0 in InfluxQL.
    'Average bandwidth per transfer by direction 1': [{ tags: { direction: 'pull' }, values: [[2_000_000], [2_000_000], [0]] }],
    '4xx per second by operation 1': [{ tags: { operation: 'manifest_get' }, values: [[3], [3], [0]] }],
    '5xx per second by operation 1': [{ tags: { operation: 'blob_get' }, values: [[1], [1], [0]] }],
    'Slow transfers 1': [{ values: [['pull', 'acme', 'web', 5e7, 100, 5e5, 200, '10.0.0.1', 'sha256:1', 'docker']] }],
    'Mirror tag syncs by result 1': [{ tags: { namespace: 'acme', repository: 'web', result: 'failed' }, values: [[1], [1], [0]] }],
    'Mirror sync failures by reason 1': [{ tags: { reason: 'auth' }, values: [[1], [1], [0]] }],
    'Mirrors failing now 1': [{ values: [[1, 'acme', 'web', 'auth']] }],
    'Mirror sync events 1': [{ values: [['acme', 'web', 'failed', 'auth', 'docker.io/library/nginx', 'latest', 'unauthorized']] }],
    'GC rows deleted by table 1': [{ tags: { table: 'Tag' }, values: [[5], [5], [0]] }],
    'GC iterations 1': [{ values: [[1], [1], [0]] }],
    'GC runs 1': [{ values: [[5, 'gc', 'quay-0', 'success']] }], // SELECT *: Tag, job, pod, result
    'Lines per second 1': [
      { tags: { result: 'matched', source: 'nginx' }, values: [[100], [100], [0]] },
      { tags: { result: 'unmatched', source: 'nginx' }, values: [[4], [4], [0]] },
    ],
    'Unmatched lines per second 1': [{ tags: { source: 'nginx' }, values: [[4], [4], [0]] }],
    // A gauge: the same 4096 at all four exports.
    'Input lag 1': [{ tags: { path: '/var/log/quay.log', pod: 'quay-0' }, values: [[4096], [4096], [4096], [4096]] }],
    // Each export writes one point per metric series; the counter grows by that between exports.
    'InfluxDB output 1': [{ tags: { output: 'influxdb' }, values: [[METRIC_SERIES], [METRIC_SERIES], [METRIC_SERIES]] }],
    'InfluxDB output 2': [{ tags: { output: 'influxdb' }, values: [[0], [0], [0]] }],
    // Empty at every round's export; the five events emitted on `out` before shutdown (slow transfer, mirror
    // sync, GC run, and quay-0's two mirror attempts) are queued at the last one.
    'InfluxDB output 3': [{ tags: { output: 'influxdb' }, values: [[0], [0], [0], [5]] }],
  };

  it('has a hand-worked expectation for every query of the dashboard', () => {
    expect(panels.flatMap((p) => (p.targets ?? []).map((_, i) => `${p.title} ${i + 1}`)).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const panel of panels) {
    for (const [i, target] of (panel.targets ?? []).entries()) {
      it(`"${panel.title}" query ${i + 1} returns the values written`, async () => {
        const q = expand(target.query, vars);
        const [r] = await influx.query(q, db);
        expect(r?.error, q).toBeUndefined();
        const got = (r?.series ?? []).map((s) => ({ ...(s.tags ? { tags: s.tags } : {}), values: s.values.map((v) => v.slice(1)) }));
        expect(got, q).toEqual(EXPECTED[`${panel.title} ${i + 1}`]);
      });
    }
  }

  it('"Mirrors failing now" lists exactly the failing repository', async () => {
    const q = expand(panels.find((p) => p.title === 'Mirrors failing now')!.targets![0]!.query, vars);
    const rows = await influx.rows(q, db);
    // acme/web failed (1); acme/ok has status=failed at 0, and the repository filter excludes it anyway.
    expect(rows.map((r) => [r['namespace'], r['repository'], r['last_error_reason'], r['failing']])).toEqual([['acme', 'web', 'auth', 1]]);
  });

  it('"Mirrors failing now" over two pods: the newest attempt of each repository, whichever pod ran it', async () => {
    const q = expand(panels.find((p) => p.title === 'Mirrors failing now')!.targets![0]!.query, { namespace: '.*', repository: '.*' });
    const rows = await influx.rows(q, db);
    // acme/web: newest is quay-0's auth failure (quay-1's tls one is older); acme/api: quay-1's newer success.
    expect(rows.map((r) => [r['namespace'], r['repository'], r['last_error_reason'], r['failing']])).toEqual([['acme', 'web', 'auth', 1]]);
  });

  it('"GC rows deleted by table" shows the rows deleted per interval', async () => {
    const q = expand(panels.find((p) => p.title === 'GC rows deleted by table')!.targets![0]!.query, vars);
    const [r] = await influx.query(q, db);
    // Exports 1-3 each added 5 Tag rows, each in its own 1s bucket; the final export at shutdown added none:
    // differences between consecutive buckets are 5, 5, 0.
    const values = r!.series!.flatMap((s) => s.values.map((v) => v[1]));
    expect(values).toEqual([5, 5, 0]);
  });
});

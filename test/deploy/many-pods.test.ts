/**
 * Issue 9, "many pods" and "metric names Quay itself exports": two real exporters (`node dist/cli.js
 * run`), each following the log of one mirror/GC pod, and a loopback HTTP server that serves the
 * exposition Quay's own workers serve (prometheus_client text of util/metrics/prometheus.py, v3.6+, and
 * workers/repomirrorworker/__init__.py, v3.18.0), all three scraped by one real Prometheus with the
 * shipped rules loaded. Hand counts in the comments.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { haveBinary, PROMETHEUS, startPrometheus, waitFor, type Prometheus } from '../outputs/servers.js';

const DEPLOY = new URL('../../deploy/', import.meta.url);
const RULES = fileURLToPath(new URL('prometheus/quay-log-exporter.rules.yml', DEPLOY));
const DASHBOARD = fileURLToPath(new URL('grafana/quay-log-exporter-prometheus.json', DEPLOY));

const py = (program: string, time: string, pid: number, level: string, logger: string, msg: string) =>
  `${program} stdout | 2026-11-30 ${time} [${pid}] [${level}] [${logger}] ${msg}\n`;
const mirror = (time: string, level: string, logger: string, msg: string) => py('repomirrorworker', time, 88, level, logger, msg);
const job = (time: string, tag: string) =>
  mirror(time, 'DEBUG', 'util.repomirror.skopeomirror', `Creating mirroring job: upstream image docker://quay.io/prometheus/node-exporter:${tag}, local repository docker://quay.example.com/mirrors/node-exporter:${tag}`);
const result = (time: string, tag: string, ok: boolean) =>
  mirror(time, 'INFO', 'workers.repomirrorworker', `Source 'docker://quay.io/prometheus/node-exporter:${tag}' ${ok ? 'successful sync' : 'failed to sync'}.`);
const runEnd = (time: string) =>
  mirror(time, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-30 10:30:00 UTC)" executed successfully');
const skopeo = (time: string, msg: string) =>
  mirror(time, 'DEBUG', 'util.repomirror.skopeomirror', `Skopeo command failed (exit code 1): time="2026-11-30T${time.slice(0, 8)}Z" level=fatal msg="${msg}"`);
const gc = (time: string, msg: string, level = 'DEBUG', logger = 'data.model.storage') => py('gcworker', time, 63, level, logger, msg);
const gcRun = (time: string) =>
  gc(time, 'Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2026-11-30 10:30:00 UTC)" executed successfully', 'INFO', 'apscheduler.executors.default');

// Pod a: node-exporter failed at 10:00:01 (unauthorized); GC removed 2 blobs in 1 iteration.
const POD_A =
  job('10:00:00,000', 'v1.8.0') +
  skopeo('10:00:01,000', 'initializing source docker://quay.io/prometheus/node-exporter:v1.8.0: unauthorized: access to the requested resource is not authorized') +
  result('10:00:01,001', 'v1.8.0', false) +
  runEnd('10:00:02,000') +
  gc('10:00:03,000', 'Removing sha256/aa/aa11 from local_us') +
  gc('10:00:03,001', 'Removing sha256/bb/bb22 from local_us') +
  gcRun('10:00:04,000');
// Pod b: node-exporter synced at 10:05:01, later than pod a's failure; GC removed 1 blob in 1 iteration.
const POD_B = job('10:05:00,000', 'v1.8.0') + result('10:05:01,000', 'v1.8.0', true) + runEnd('10:05:02,000') + gc('10:05:03,000', 'Removing sha256/cc/cc33 from s3_eu') + gcRun('10:05:04,000');

/**
 * What Quay's own /metrics (or its pushgateway) holds for the same workers, with other values so a
 * double count would show: prometheus_client adds `_total` to counters.
 */
const QUAY_EXPOSITION = `# HELP quay_gc_iterations_total number of iterations by the GCWorker
# TYPE quay_gc_iterations_total counter
quay_gc_iterations_total 40.0
# HELP quay_gc_storage_blobs_deleted_total number of storage blobs deleted
# TYPE quay_gc_storage_blobs_deleted_total counter
quay_gc_storage_blobs_deleted_total 700.0
# HELP quay_gc_table_rows_deleted_total number of table rows deleted by GC
# TYPE quay_gc_table_rows_deleted_total counter
quay_gc_table_rows_deleted_total{table="Tag"} 90.0
# HELP quay_gc_repos_purged_total number of repositories purged by the RepositoryGCWorker or NamespaceGCWorker
# TYPE quay_gc_repos_purged_total counter
quay_gc_repos_purged_total 5.0
# HELP quay_gc_namespaces_purged_total number of namespaces purged by the NamespaceGCWorker
# TYPE quay_gc_namespaces_purged_total counter
quay_gc_namespaces_purged_total 2.0
# HELP quay_repository_mirror_last_sync_status Status of the last synchronization attempt (0=failed, 1=success, 2=in_progress)
# TYPE quay_repository_mirror_last_sync_status gauge
quay_repository_mirror_last_sync_status{last_error_reason="auth_failed",namespace="mirrors",repository="node-exporter"} 0.0
# HELP quay_repository_mirror_sync_complete Indicates if all tags have been successfully synchronized (0=incomplete, 1=complete)
# TYPE quay_repository_mirror_sync_complete gauge
quay_repository_mirror_sync_complete{namespace="mirrors",repository="node-exporter"} 0.0
# HELP quay_repository_mirror_sync_failures_total Total number of synchronization failures aggregated by namespace
# TYPE quay_repository_mirror_sync_failures_total counter
quay_repository_mirror_sync_failures_total{namespace="mirrors",reason="auth_failed"} 30.0
# HELP quay_repository_mirror_last_sync_timestamp Unix timestamp of the last synchronization attempt
# TYPE quay_repository_mirror_last_sync_timestamp gauge
quay_repository_mirror_last_sync_timestamp{namespace="mirrors",repository="node-exporter"} 1.7964999e+09
`;

/** Every PromQL expression shipped: alert rules and the Prometheus dashboard's panels (variables filled in). */
function shippedExpressions(): string[] {
  const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  const out = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
  const dashboard = readFileSync(DASHBOARD, 'utf8');
  for (const m of dashboard.matchAll(/"expr": ("(?:[^"\\]|\\.)*")/g)) {
    out.push((JSON.parse(m[1]!) as string).replaceAll('$__rate_interval', '1m').replaceAll('$namespace', '.*').replaceAll('$repository', '.*'));
  }
  return out;
}

describe.skipIf(!haveBinary(PROMETHEUS))('two pods, two exporters, and Quay\'s own metrics in one Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qle-pods-'));
  const logA = join(dir, 'a.log');
  const logB = join(dir, 'b.log');
  let a: RunningDaemon | undefined;
  let b: RunningDaemon | undefined;
  let quay: Server | undefined;
  let prom: Prometheus | undefined;
  const q = async (expr: string) => (await prom!.query(expr)).map((s) => ({ ...s.metric, value: s.value[1] }));
  const strip = (rows: Record<string, string>[]) => rows.map(({ job: _j, instance: _i, ...rest }) => rest);

  beforeAll(async () => {
    writeFileSync(logA, POD_A);
    writeFileSync(logB, POD_B);
    const input = (path: string) => ({ inputs: [{ paths: [path], start_at: 'beginning', source: 'supervisord', poll_interval: '50ms' }] });
    a = await startDaemon(input(logA), mkdtempSync(join(dir, 'a-')));
    b = await startDaemon(input(logB), mkdtempSync(join(dir, 'b-')));
    quay = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(QUAY_EXPOSITION));
    await new Promise<void>((resolve) => quay!.listen(0, '127.0.0.1', resolve));
    const quayPort = (quay.address() as AddressInfo).port;
    prom = await startPrometheus(`global:
  scrape_interval: 500ms
  scrape_timeout: 500ms
  evaluation_interval: 500ms
rule_files:
  - ${RULES}
scrape_configs:
  - job_name: quay-log-exporter
    static_configs:
      - targets: ['127.0.0.1:${a.port}', '127.0.0.1:${b.port}']
  - job_name: quay
    static_configs:
      - targets: ['127.0.0.1:${quayPort}']
`);
    // 7 + 5 lines read by the two exporters, and Quay's target scraped.
    await waitFor('both pods read and scraped, and quay', async () => {
      const lines = await q('sum(quay_log_exporter_lines_total)');
      const quayUp = await q('up{job="quay"}');
      return lines[0]?.value === '12' && quayUp[0]?.value === '1' ? true : undefined;
    });
  }, 60_000);

  afterAll(async () => {
    await prom?.destroy();
    for (const d of [a, b]) if (d && d.proc.exitCode === null && d.proc.signalCode === null) await d.stop('SIGTERM');
    await new Promise((resolve) => (quay ? quay.close(resolve) : resolve(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("no metric a shipped rule or panel reads is one Quay serves: no sum() can add Quay's series to ours", async () => {
    const names = new Set<string>();
    for (const e of shippedExpressions()) for (const m of e.matchAll(/\bquay_[a-z0-9_]+/g)) names.add(m[0]);
    expect(names.size).toBeGreaterThan(20);
    // Quay's 9 series are there (the test would see a shared name) …
    expect(strip(await q('count({job="quay", __name__=~"quay_.*"})'))).toEqual([{ value: '9' }]);
    // … and none of them carries a name our expressions read.
    for (const name of names) expect(await q(`count({__name__="${name}", job="quay"})`), name).toEqual([]);
  });

  it('sums across the two exporters count each pod once', async () => {
    // GC iterations: 1 (pod a) + 1 (pod b); Quay's own says 40.
    expect(strip(await q('sum(quay_log_gc_iterations_total)'))).toEqual([{ value: '2' }]);
    // Blobs: 2 from local_us (pod a), 1 from s3_eu (pod b); Quay's own says 700.
    expect(strip(await q('sum by (location) (quay_log_gc_storage_blobs_deleted_total)'))).toEqual(
      expect.arrayContaining([
        { location: 'local_us', value: '2' },
        { location: 's3_eu', value: '1' },
      ]),
    );
    // One failure (pod a, auth_failed); Quay's own says 30.
    expect(strip(await q('sum by (reason) (quay_log_repository_mirror_sync_failures_total)'))).toEqual([{ reason: 'auth_failed', value: '1' }]);
  });

  it("a pod's old failure does not outvote another pod's newer success, in the alert and in the panel", async () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert?: string; expr: string }[] }[] };
    const failing = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === 'QuayMirrorFailing')!.expr;
    const panel = shippedExpressions().find((e) => e.includes('last_sync_status{status="failed", namespace=~'))!;
    // The situation is real: pod a's exporter does say failed …
    expect(strip(await q('quay_log_repository_mirror_last_sync_status{status="failed"} == 1'))).toEqual([
      { __name__: 'quay_log_repository_mirror_last_sync_status', namespace: 'mirrors', repository: 'node-exporter', status: 'failed', last_error_reason: 'auth_failed', value: '1' },
    ]);
    // … but pod b synced it at 10:05:01, after pod a's failure at 10:00:01.
    expect(await q(failing)).toEqual([]);
    expect(await q(panel)).toEqual([]);
    // Pod a fails it again at 10:10:01 (not_found): now that is the newest, and both say so.
    appendFileSync(logA, job('10:10:00,000', 'v1.9.0') + skopeo('10:10:01,000', 'reading manifest v1.9.0 in quay.io/prometheus/node-exporter: manifest unknown') + result('10:10:01,001', 'v1.9.0', false) + runEnd('10:10:02,000'));
    await waitFor('the new failure scraped', async () => ((await q(failing)).length > 0 ? true : undefined));
    const expected = [{ namespace: 'mirrors', repository: 'node-exporter', last_error_reason: 'not_found', value: '1' }];
    expect(await q(failing)).toEqual(expected);
    expect(await q(panel)).toEqual(expected);
  });

  it('/mirror/health answers for its own pod, and says so', async () => {
    const healthA = await a!.get('/mirror/health');
    const healthB = await b!.get('/mirror/health');
    // Pod a's exporter saw only pod a's failures; pod b's only its success.
    expect(healthA.status).toBe(503);
    expect(healthB.status).toBe(200);
    expect(JSON.parse(healthA.body)).toMatchObject({ scope: 'pod', healthy: false });
    expect(JSON.parse(healthB.body)).toMatchObject({ scope: 'pod', healthy: true, repositories: [{ namespace: 'mirrors', repository: 'node-exporter', status: 'success' }] });
  });
});

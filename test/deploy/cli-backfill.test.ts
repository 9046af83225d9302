/**
 * Backfill through the real CLI: `quay-log-exporter replay --config CFG
 * test/fixtures/quay-supervisord.log` with an `outputs.influxdb` pointing at
 * a real influxd, then InfluxQL over HTTP. Every expected value was counted
 * by hand from the fixture (35 lines); the metric counts are the ones
 * test/replay.test.ts explains line by line, the event counts are worked out
 * in the comments below.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, type CliResult } from '../helpers/cli.js';
import { haveBinary, INFLUXD, startInfluxd, type Influxd } from '../outputs/servers.js';
import { FIXTURE_LINES, LINES_BY_SOURCE_RESULT } from '../fixtures/quay-supervisord.counts.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/quay-supervisord.log', import.meta.url));
const DB = 'quay_backfill';
/** The global tags every point must carry: one from the environment, one from a `${VAR:-default}` default. */
const GLOBAL = { pod: 'quay-backfill-0', host: 'node-default' };

type Row = Record<string, unknown>;

describe.skipIf(!haveBinary(INFLUXD))('replay backfills InfluxDB (real CLI, real influxd)', () => {
  let influx: Influxd;
  let dir: string;
  let result: CliResult;

  /** Rows of every series of a query, each with its GROUP BY tags merged in. */
  const rows = async (q: string): Promise<Row[]> => {
    const [r] = await influx.query(q, DB);
    if (r?.error) throw new Error(`${q}: ${r.error}`);
    return (r?.series ?? []).flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
  };
  /** The last `counter` of a metric per series, keyed "tag=v,tag=v" over `keys` (the metric's own labels). */
  const counters = async (measurement: string, keys: string[]): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = {};
    for (const r of await rows(`SELECT last("counter") AS "v" FROM "${measurement}" GROUP BY *`)) {
      out[keys.map((k) => `${k}=${(r[k] as string | undefined) ?? ''}`).join(',')] = r['v'];
    }
    return out;
  };
  const iso = (ms: unknown) => new Date(ms as number).toISOString();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qle-backfill-'));
    influx = await startInfluxd();
    await influx.query(`CREATE DATABASE "${DB}"`);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      stringify({
        state_dir: join(dir, 'state'),
        // Quiet unless something is wrong: stderr must stay empty.
        log_level: 'warn',
        prometheus: { enabled: false },
        outputs: {
          influxdb: {
            url: influx.url,
            database: DB,
            username: influx.username,
            password: influx.password,
            // Only the final export at the end of the replay: one point per series.
            interval: '1h',
            tags: { pod: '${QLE_TEST_POD}', host: '${QLE_TEST_NODE:-node-default}' },
          },
        },
      }),
    );
    // QLE_TEST_NODE unset (spawn leaves out undefined values): host comes from the default.
    result = await runCli(['replay', '--config', config, FIXTURE], { env: { QLE_TEST_POD: GLOBAL.pod, QLE_TEST_NODE: undefined } });
  }, 30_000);

  afterAll(async () => {
    await influx?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 with nothing on stderr', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('writes pulls, pushes and blob bytes per repository and direction', async () => {
    // Manifest GET 2xx: acme/app 10:15:33 + 10:15:53 (the HEAD is not a pull), org/team/app 10:15:54; one manifest PUT 2xx (10:15:44).
    expect(await counters('quay_registry_pulls_total', ['namespace', 'repository'])).toEqual({ 'namespace=acme,repository=app': 2, 'namespace=org,repository=team/app': 1 });
    expect(await counters('quay_registry_pushes_total', ['namespace', 'repository'])).toEqual({ 'namespace=acme,repository=app': 1 });
    expect(await counters('quay_registry_transfer_bytes_total', ['direction', 'namespace', 'repository'])).toEqual({
      'direction=pull,namespace=acme,repository=app': 5242880, // the 10:15:32 blob GET 200
      'direction=pull,namespace=org,repository=team/app': 2097152, // 10:15:35; the 302 at 10:15:36 carries none
      'direction=push,namespace=acme,repository=app': 10485860 + 420, // PATCH 10:15:42 + PUT commit 10:15:43 request lengths
      'direction=push,namespace=org,repository=team/app': 3145728, // PATCH 10:15:50
    });
    // 2 MiB in 4 s and 3 MiB in 6 s are 512 KiB/s, under 1 MiB/s.
    expect(await counters('quay_registry_slow_transfers_total', ['direction', 'namespace', 'repository'])).toEqual({
      'direction=pull,namespace=org,repository=team/app': 1,
      'direction=push,namespace=org,repository=team/app': 1,
    });
  });

  it('writes histograms as count, sum and cumulative bucket fields', async () => {
    const [pull] = await rows(`SELECT last("count") AS "count", last("sum") AS "sum", last("1048576") AS "le_1MiB", last("+Inf") AS "inf" FROM "quay_registry_transfer_throughput_bytes_per_second" WHERE "direction" = 'pull'`);
    // Pull transfers: 5242880 B / 1.532 s = 3.42 MB/s and 2097152 B / 4 s = 524288 B/s; only the latter is <= 1048576.
    expect(pull).toMatchObject({ count: 2, le_1MiB: 1, inf: 2 });
    expect(pull!['sum']).toBeCloseTo(5242880 / 1.532 + 524288, 3);
    const [dur] = await rows(`SELECT last("count") AS "count", last("sum") AS "sum" FROM "quay_registry_transfer_duration_seconds" WHERE "direction" = 'push'`);
    // Push transfers: PATCH 2.000 s + PUT commit 0.030 s + PATCH 6.000 s.
    expect(dur!['count']).toBe(3);
    expect(dur!['sum']).toBeCloseTo(8.03, 9);
  });

  it('writes every line once, by source and result (35 lines)', async () => {
    const lines = await counters('quay_log_exporter_lines_total', ['source', 'result']);
    expect(lines).toEqual(LINES_BY_SOURCE_RESULT);
    expect(Object.values(lines).reduce((a: number, v) => a + (v as number), 0)).toBe(FIXTURE_LINES);
  });

  it('writes mirror tag syncs, the failure reason and GC iterations', async () => {
    // v1.7.0 "failed to sync" (10:15:40.006) and v1.8.0 "successful sync" (10:16:20), both mirrors/node-exporter.
    expect(await counters('quay_log_repository_mirror_tag_syncs_total', ['namespace', 'repository', 'result'])).toEqual({
      'namespace=mirrors,repository=node-exporter,result=failed': 1,
      'namespace=mirrors,repository=node-exporter,result=success': 1,
    });
    // The skopeo error before the failure says "toomanyrequests".
    expect(await counters('quay_log_repository_mirror_sync_failures_total', ['namespace', 'reason'])).toEqual({ 'namespace=mirrors,reason=rate_limited': 1 });
    // Two "GarbageCollectionWorker._garbage_collection_repos … executed successfully" lines.
    expect(await counters('quay_log_gc_iterations_total', [])).toEqual({ '': 2 });
    expect(await counters('quay_log_gc_job_runs_total', ['job', 'result'])).toEqual({ 'job=GarbageCollectionWorker._garbage_collection_repos,result=success': 2 });
  });

  it('writes two quay_slow_transfer points at their log time', async () => {
    // The two slow transfers above: 10:15:35 (pull, GET 200 of sha256:aaaa…, client 10.128.2.16)
    // and 10:15:50 (push, PATCH 202 of an upload: no digest in the path, client 10.128.2.19).
    const points = await rows(`SELECT * FROM "quay_slow_transfer" ORDER BY time ASC`);
    expect(points.map((p) => ({ ...p, time: iso(p['time']) }))).toEqual([
      {
        time: '2026-11-22T10:15:35.000Z',
        direction: 'pull',
        namespace: 'org',
        repository: 'team/app',
        bytes: 2097152,
        seconds: 4,
        bytes_per_second: 524288,
        client: '10.128.2.16',
        digest: 'sha256:aaaabbbbccccddddeeeeffff0000111122223333444455556666777788889999',
        user_agent: 'docker/24.0.7 go/go1.20.10',
        status: 200,
        ...GLOBAL,
      },
      {
        time: '2026-11-22T10:15:50.000Z',
        direction: 'push',
        namespace: 'org',
        repository: 'team/app',
        bytes: 3145728,
        seconds: 6,
        bytes_per_second: 524288,
        client: '10.128.2.19',
        digest: '',
        user_agent: 'docker/24.0.7 go/go1.20.10',
        status: 202,
        ...GLOBAL,
      },
    ]);
  });

  it('writes two quay_mirror_sync points: the rate-limited failure and the success', async () => {
    // Mirror lines of pid 88, in order:
    //   10:15:32,123 Creating mirroring job (v1.7.0) → opens the attempt of mirrors/node-exporter, no event
    //   10:15:40,005 Skopeo command failed …toomanyrequests… → held as the pending error, no event
    //   10:15:40,006 Source '…:v1.7.0' failed to sync → event 1: failed, reason rate_limited, error = the skopeo message
    //   10:16:10,000 Creating mirroring job (v1.8.0) → same upstream and repository: the same attempt, no event
    //   10:16:20,000 Source '…:v1.8.0' successful sync → event 2: success (reason "" → no reason tag)
    const points = await rows(`SELECT * FROM "quay_mirror_sync" ORDER BY time ASC`);
    expect(points.map((p) => ({ ...p, time: iso(p['time']) }))).toEqual([
      {
        time: '2026-11-22T10:15:40.006Z',
        namespace: 'mirrors',
        repository: 'node-exporter',
        result: 'failed',
        reason: 'rate_limited',
        upstream: 'quay.io/prometheus/node-exporter',
        tag: 'v1.7.0',
        error:
          'Skopeo command failed (exit code 1): time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://quay.io/prometheus/node-exporter:v1.7.0: reading manifest v1.7.0 in quay.io/prometheus/node-exporter: toomanyrequests: too many requests"',
        ...GLOBAL,
      },
      {
        time: '2026-11-22T10:16:20.000Z',
        namespace: 'mirrors',
        repository: 'node-exporter',
        result: 'success',
        reason: null,
        upstream: 'quay.io/prometheus/node-exporter',
        tag: 'v1.8.0',
        error: '',
        ...GLOBAL,
      },
    ]);
  });

  it('writes two quay_gc_run points at their 2022 log times', async () => {
    // gcworker pid 63 logs two apscheduler "executed successfully" lines and no DEBUG line, so each
    // run point has blobs_removed=0 and no rows_* fields (row counts are unknown without DEBUG).
    const points = await rows(`SELECT * FROM "quay_gc_run" ORDER BY time ASC`);
    const run = (time: string) => ({ time, job: 'GarbageCollectionWorker._garbage_collection_repos', result: 'success', blobs_removed: 0, ...GLOBAL });
    expect(points.map((p) => ({ ...p, time: iso(p['time']) }))).toEqual([run('2022-11-14T18:46:52.458Z'), run('2022-11-14T18:47:22.460Z')]);
  });

  it('puts the global tags on every metric point too', async () => {
    // Tag values of pod and host across all measurements: exactly the configured ones, no point without them.
    for (const key of ['pod', 'host'] as const) {
      const [r] = await influx.query(`SHOW TAG VALUES WITH KEY = "${key}"`, DB);
      const values = new Set((r?.series ?? []).flatMap((s) => s.values.map((v) => v[1])));
      expect(values).toEqual(new Set([GLOBAL[key]]));
    }
    const [total] = await rows(`SELECT count("counter") AS "n" FROM "quay_log_exporter_lines_total"`);
    const [tagged] = await rows(`SELECT count("counter") AS "n" FROM "quay_log_exporter_lines_total" WHERE "pod" = '${GLOBAL.pod}' AND "host" = '${GLOBAL.host}'`);
    // 5 sources × 3 results + supervisord and container (matched only), one final export.
    expect(total!['n']).toBe(17);
    expect(tagged!['n']).toBe(17);
  });
});

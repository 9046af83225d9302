/**
 * A real scrape of the real daemon: `node dist/cli.js run` follows a copy of
 * test/fixtures/quay-supervisord.log from the beginning, a real prometheus
 * scrapes it with the alert rules loaded, and its HTTP API must give the
 * values counted by hand (test/replay.test.ts explains each count line by
 * line). promtool lints the daemon's own /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_LINES } from '../fixtures/quay-supervisord.counts.js';
import { haveBinary, PROMETHEUS, PROMTOOL, promtool, waitFor } from '../outputs/servers.js';
import { JOB, promApi, startScrapeStack, type ScrapeStack } from './scrape-stack.js';

describe.skipIf(!haveBinary(PROMETHEUS) || !haveBinary(PROMTOOL))('prometheus scrapes `quay-log-exporter run`', () => {
  let stack: ScrapeStack;
  /** Instant query → "label=v,…" (without job and instance) → value. */
  const series = async (q: string): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const s of await stack.prom.query(q)) {
      const key = Object.entries(s.metric)
        .filter(([k]) => k !== 'job' && k !== 'instance')
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      out[key] = s.value[1];
    }
    return out;
  };

  beforeAll(async () => {
    stack = await startScrapeStack();
    // The fixture's 35 lines, all read, and scraped.
    await waitFor('35 lines scraped', async () => ((await stack.prom.query('sum(quay_log_exporter_lines_total)'))[0]?.value[1] === String(FIXTURE_LINES) ? true : undefined));
  });
  afterAll(async () => {
    await stack?.destroy();
  });

  it('scrapes the target as up', async () => {
    expect(await series(`up{job="${JOB}"}`)).toEqual({ '__name__=up': '1' });
  });

  it('stores the hand counts of the fixture', async () => {
    // 35 lines: nginx 20+1, gunicorn 2+1+2 ignored, repomirrorworker 5, gcworker 2, other 1 ignored + 1 unmatched.
    expect(await series('sum by (source, result) (quay_log_exporter_lines_total) > 0')).toEqual({
      'result=matched,source=nginx': '20',
      'result=unmatched,source=nginx': '1',
      'result=matched,source=gunicorn': '2',
      'result=unmatched,source=gunicorn': '1',
      'result=ignored,source=gunicorn': '2',
      'result=matched,source=repomirrorworker': '5',
      'result=matched,source=gcworker': '2',
      'result=ignored,source=other': '1',
      'result=unmatched,source=other': '1',
    });
    // Manifest GET 2xx (HEAD is not a pull): acme/app latest + v1.2.3, org/team/app stable; one manifest PUT 2xx, acme/app.
    expect(await series('quay_registry_pulls_total')).toEqual({
      '__name__=quay_registry_pulls_total,namespace=acme,repository=app': '2',
      '__name__=quay_registry_pulls_total,namespace=org,repository=team/app': '1',
    });
    expect(await series('quay_registry_pushes_total{namespace="acme",repository="app"}')).toEqual({ '__name__=quay_registry_pushes_total,namespace=acme,repository=app': '1' });
    // pull: 5242880 (acme/app) + 2097152 (org/team/app); push: 10485860 + 420 (acme/app) + 3145728 (org/team/app).
    expect(await series('sum by (direction) (quay_registry_transfer_bytes_total)')).toEqual({ 'direction=pull': '7340032', 'direction=push': '13632008' });
    // Registry 5xx: only the blob GET answered 500 at 10:15:51; 4xx: the 404 manifest and the 401 ping.
    expect(await series('sum by (operation, status) (quay_registry_requests_total{status=~"[45].."})')).toEqual({
      'operation=pull_blob,status=500': '1',
      'operation=pull_manifest,status=404': '1',
      'operation=ping,status=401': '1',
    });
    expect(await series('quay_registry_slow_transfers_total')).toEqual({
      '__name__=quay_registry_slow_transfers_total,direction=pull,namespace=org,repository=team/app': '1',
      '__name__=quay_registry_slow_transfers_total,direction=push,namespace=org,repository=team/app': '1',
    });
    // Push durations 2.000 (PATCH), 0.030 (PUT commit), 6.000 (PATCH): two are <= 2.5 s.
    expect(await series('quay_registry_transfer_duration_seconds_bucket{direction="push",le="2.5"}')).toMatchObject({ '__name__=quay_registry_transfer_duration_seconds_bucket,direction=push,le=2.5': '2' });
    expect((await series('quay_registry_transfer_duration_seconds_count{direction="push"}'))['__name__=quay_registry_transfer_duration_seconds_count,direction=push']).toBe('3');
  });

  it('stores mirror and GC state', async () => {
    expect(await series('quay_log_repository_mirror_tag_syncs_total')).toEqual({
      '__name__=quay_log_repository_mirror_tag_syncs_total,namespace=mirrors,repository=node-exporter,result=failed': '1',
      '__name__=quay_log_repository_mirror_tag_syncs_total,namespace=mirrors,repository=node-exporter,result=success': '1',
    });
    expect(await series('quay_log_repository_mirror_sync_failures_total')).toEqual({ '__name__=quay_log_repository_mirror_sync_failures_total,namespace=mirrors,reason=rate_limited': '1' });
    // The attempt opened at 10:15:32 is still open: no process_mirrors run-end line follows, and
    // mirror.idle_gap (10m) has not passed in log time or wall time. So the state set says syncing.
    expect(await series('quay_log_repository_mirror_last_sync_status == 1')).toEqual({
      '__name__=quay_log_repository_mirror_last_sync_status,namespace=mirrors,repository=node-exporter,status=syncing': '1',
    });
    // Two "_garbage_collection_repos … executed successfully" lines.
    expect(await series('quay_log_gc_iterations_total')).toEqual({ '__name__=quay_log_gc_iterations_total': '2' });
    // Both job lines ran _garbage_collection_repos. The catalogue names that label `job`, which the scrape's own
    // `job` label displaces: Prometheus stores it as exported_job (see the final report / catalogue.ts).
    expect(await series('quay_log_gc_job_runs_total')).toEqual({
      '__name__=quay_log_gc_job_runs_total,exported_job=GarbageCollectionWorker._garbage_collection_repos,result=success': '2',
    });
  });

  it('stores the input self-metrics of the followed file', async () => {
    // `wc -c` of the fixture; one file watched; read to the end, so no lag.
    expect(await series('quay_log_exporter_input_bytes_total')).toEqual({ '__name__=quay_log_exporter_input_bytes_total,input=file-0': '6869' }); // wc -c of the fixture
    expect(await series('quay_log_exporter_files_watched')).toEqual({ '__name__=quay_log_exporter_files_watched': '1' });
    expect(await series('quay_log_exporter_input_lag_bytes')).toEqual({ [`__name__=quay_log_exporter_input_lag_bytes,path=${stack.log}`]: '0' });
  });

  it("the daemon's /metrics passes promtool check metrics", async () => {
    const { status, body } = await stack.daemon.get('/metrics');
    expect(status).toBe(200);
    const r = promtool(['check', 'metrics'], body);
    // promtool prints nothing for a clean exposition, one line per lint problem otherwise.
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('evaluates every alert rule without errors', async () => {
    type Rule = { name: string; health: string; lastError?: string; lastEvaluation: string };
    const rules = await waitFor('all 10 rules evaluated', async () => {
      const data = await promApi<{ groups: { file: string; rules: Rule[] }[] }>(stack.prom, 'rules');
      const all = data.groups.flatMap((g) => g.rules);
      // health stays "unknown" until a rule's first evaluation.
      return all.length === 10 && all.every((r) => r.health !== 'unknown') ? all : undefined;
    });
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
  });
});

/**
 * Every PromQL expression of deploy/grafana/quay-log-exporter-prometheus.json
 * runs against a real prometheus scraping the real daemon
 * (`node dist/cli.js run`) that follows the supervisord fixture, with
 * Grafana's variables substituted as Grafana would: the panels whose series
 * the fixture produces must return data, with the labels counted by hand.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_LINES } from '../fixtures/quay-supervisord.counts.js';
import { haveBinary, PROMETHEUS, waitFor } from '../outputs/servers.js';
import { promApi, startScrapeStack, type ScrapeStack } from './scrape-stack.js';

const DASHBOARD = new URL('../../deploy/grafana/quay-log-exporter-prometheus.json', import.meta.url);

interface Target {
  refId: string;
  expr: string;
  instant?: boolean;
  datasource?: { type: string };
}
interface Panel {
  title: string;
  type: string;
  datasource?: { type: string };
  targets?: Target[];
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string }; allValue?: string }[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const panel = (title: string) => panels.find((p) => p.title === title)!;

/** The process_mirrors run ending: closes the open mirror attempt, so "Mirrors failing now" has a row. */
const RUN_END =
  'repomirrorworker stdout | 2026-11-22 10:16:21,000 [88] [INFO] [apscheduler.executors.default] Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:16:51 UTC)" executed successfully';

/** Grafana's macros: $__rate_interval is at least 4 scrape intervals (500 ms here); 5 s holds ~10 samples. */
const expand = (expr: string, vars: Record<string, string>): string => {
  let out = expr.replaceAll('$__rate_interval', '5s').replaceAll('$__range', '30s').replaceAll('$__interval', '1s');
  for (const [k, v] of Object.entries(vars)) out = out.replaceAll(`$${k}`, v);
  return out;
};
const ALL = { namespace: '.*', repository: '.*' };
const ONE = { namespace: 'acme', repository: 'app' };

type Series = { metric: Record<string, string> };

describe.skipIf(!haveBinary(PROMETHEUS))('Grafana Prometheus dashboard against a scraped daemon', () => {
  let stack: ScrapeStack;

  /** Runs a target as Grafana does: a range query over the last 10 s for graphs, an instant query for tables. */
  const run = async (target: Target, vars: Record<string, string>): Promise<Series[]> => {
    const query = expand(target.expr, vars);
    if (target.instant) return promApi<{ result: Series[] }>(stack.prom, 'query', { query }).then((d) => d.result);
    const end = Date.now() / 1000;
    return promApi<{ result: Series[] }>(stack.prom, 'query_range', { query, start: String(end - 10), end: String(end), step: '1' }).then((d) => d.result);
  };
  const labels = (series: Series[], ...keys: string[]) => series.map((s) => keys.map((k) => s.metric[k] ?? '').join(' ')).sort();

  beforeAll(async () => {
    stack = await startScrapeStack();
    await waitFor('35 lines scraped', async () => ((await stack.prom.query('sum(quay_log_exporter_lines_total)'))[0]?.value[1] === String(FIXTURE_LINES) ? true : undefined));
    appendFileSync(stack.log, RUN_END + '\n');
    // The attempts series is born by that line; rates need two samples of it, "Mirrors failing now" needs one.
    await waitFor('the closed attempt scraped 3 times', async () => ((await stack.prom.query('count_over_time(quay_log_repository_mirror_sync_attempts_total[5s]) >= 3')).length === 1 ? true : undefined));
  });
  afterAll(async () => {
    await stack?.destroy();
  });

  it('answers the operator questions of the InfluxDB dashboard, all on the Prometheus data source', () => {
    const titles = panels.map((p) => p.title);
    for (const t of [
      'Pulls per repository',
      'Pushes per repository',
      'Blob bytes by direction',
      'Average bandwidth per transfer by direction',
      '4xx per second by operation',
      '5xx per second by operation',
      'Slow transfers per minute',
      'Mirror tag syncs by result',
      'Mirror sync failures by reason',
      'Mirrors failing now',
      'GC rows deleted by table',
      'GC iterations',
      'Lines per second',
      'Unmatched ratio',
      'Input lag',
    ]) {
      expect(titles).toContain(t);
    }
    for (const p of panels) {
      expect(p.datasource?.type, p.title).toBe('prometheus');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource?.type, p.title).toBe('prometheus');
    }
    expect(panel('Mirrors failing now').targets![0]!.expr).toContain('quay_log_repository_mirror_last_sync_status{status="failed"');
  });

  it('template variables list the namespaces and repositories present (label_values)', async () => {
    /** Grafana runs label_values(selector, label) as /api/v1/label/<label>/values?match[]=selector. */
    const values = async (name: string, vars: Record<string, string>) => {
      const v = dashboard.templating.list.find((x) => x.name === name)!;
      expect(v.allValue).toBe('.*');
      const q = typeof v.query === 'string' ? v.query : v.query.query;
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
      expect(m, q).not.toBeNull();
      return promApi<string[]>(stack.prom, `label/${m![2]}/values`, { 'match[]': expand(m![1]!, vars) });
    };
    // Registry requests name acme (app, missing) and org (team/app), ping and token none; mirror tag syncs name mirrors.
    expect(await values('namespace', {})).toEqual(['acme', 'mirrors', 'org']);
    expect(await values('repository', ALL)).toEqual(['app', 'missing', 'node-exporter', 'team/app']);
    expect(await values('repository', { namespace: 'acme' })).toEqual(['app', 'missing']);
  });

  /** Each series as its labels, "k=v,k=v" sorted by key (a sum without `by` has none: ""). */
  const keyed = (series: Series[]) => series.map((s) => Object.entries(s.metric).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',')).sort();
  const SOURCES = ['gcworker', 'gunicorn', 'nginx', 'other', 'repomirrorworker'];
  /**
   * What every target returns, worked out from the fixture by hand, for "All" and for acme/app (ONE).
   * Pulls: manifest GET 2xx of acme/app (latest, v1.2.3) and org/team/app (stable); pushes: the acme/app
   * manifest PUT. Blob bytes: acme/app pulled a 5 MiB blob and pushed PATCH + PUT commit. 4xx: ping 401 (no
   * repository) and acme/missing 404; 5xx: the acme/app blob GET 500. Slow transfers and the 302 are
   * org/team/app. Mirror and GC series name no acme/app. No GC row deletions (DEBUG lines) and no InfluxDB
   * output in this daemon: those panels are empty.
   */
  const EXPECTED: Record<string, { all: string[]; one: string[] }> = {
    'Pulls per repository A': { all: ['namespace=acme,repository=app', 'namespace=org,repository=team/app'], one: ['namespace=acme,repository=app'] },
    'Pushes per repository A': { all: ['namespace=acme,repository=app'], one: ['namespace=acme,repository=app'] },
    'Blob bytes by direction A': { all: ['direction=pull', 'direction=push'], one: ['direction=pull', 'direction=push'] },
    // No repository variable in these two: the same both ways.
    'Average bandwidth per transfer by direction A': { all: ['direction=pull', 'direction=push'], one: ['direction=pull', 'direction=push'] },
    'Average bandwidth per transfer by direction B': { all: ['direction=pull', 'direction=push'], one: ['direction=pull', 'direction=push'] },
    '4xx per second by operation A': { all: ['operation=ping', 'operation=pull_manifest'], one: [] },
    '5xx per second by operation A': { all: ['operation=pull_blob'], one: ['operation=pull_blob'] },
    'Slow transfers per minute A': { all: ['direction=pull,namespace=org,repository=team/app', 'direction=push,namespace=org,repository=team/app'], one: [] },
    'Blob redirects per second A': { all: ['namespace=org,repository=team/app'], one: [] },
    'Mirror tag syncs by result A': {
      all: ['namespace=mirrors,repository=node-exporter,result=failed', 'namespace=mirrors,repository=node-exporter,result=success'],
      one: [],
    },
    'Mirror sync failures by reason A': { all: ['namespace=mirrors,reason=rate_limited'], one: [] },
    'Mirrors failing now A': { all: ['last_error_reason=rate_limited,namespace=mirrors,repository=node-exporter'], one: [] },
    'Mirror sync attempts by result A': { all: ['namespace=mirrors,repository=node-exporter,result=partial'], one: [] },
    'GC rows deleted by table A': { all: [], one: [] },
    'GC iterations A': { all: [''], one: [''] },
    'GC job runs by result A': {
      all: ['exported_job=GarbageCollectionWorker._garbage_collection_repos,result=success'],
      one: ['exported_job=GarbageCollectionWorker._garbage_collection_repos,result=success'],
    },
    // 5 sources x 3 results, every one registered at start.
    // Every parser source has three series; supervisord's own lines and the start-up script's ('container')
    // count only as matched.
    'Lines per second A': {
      all: [...SOURCES.flatMap((s) => ['ignored', 'matched', 'unmatched'].map((r) => `result=${r},source=${s}`)), 'result=matched,source=container', 'result=matched,source=supervisord'].sort(),
      one: [...SOURCES.flatMap((s) => ['ignored', 'matched', 'unmatched'].map((r) => `result=${r},source=${s}`)), 'result=matched,source=container', 'result=matched,source=supervisord'].sort(),
    },
    'Unmatched ratio A': { all: SOURCES.map((s) => `source=${s}`), one: SOURCES.map((s) => `source=${s}`) },
    'InfluxDB output A': { all: [], one: [] },
    'InfluxDB output B': { all: [], one: [] },
    'InfluxDB output C': { all: [], one: [] },
  };

  it('has a hand-worked expectation for every target of the dashboard', () => {
    expect(panels.flatMap((p) => (p.targets ?? []).map((t) => `${p.title} ${t.refId}`)).sort()).toEqual([...Object.keys(EXPECTED), 'Input lag A'].sort());
  });

  for (const p of panels) {
    for (const target of p.targets ?? []) {
      const id = `${p.title} ${target.refId}`;
      if (id === 'Input lag A') continue; // its labels name the temp file and port: asserted below
      it(`"${p.title}" ${target.refId} returns the fixture's series for all and for acme/app`, async () => {
        const want = EXPECTED[id]!;
        expect(keyed(await run(target, ALL)), expand(target.expr, ALL)).toEqual(want.all);
        expect(keyed(await run(target, ONE)), expand(target.expr, ONE)).toEqual(want.one);
      });
    }
  }

  it('"Mirrors failing now" lists the rate-limited mirror', async () => {
    // v1.7.0 failed (toomanyrequests), v1.8.0 synced, then the run ended: a partial attempt, whose
    // status is "failed" with the reason of its first failure. The empty-reason "failed" series is 0.
    const rows = await run(panel('Mirrors failing now').targets![0]!, ALL);
    expect(labels(rows, 'namespace', 'repository', 'last_error_reason')).toEqual(['mirrors node-exporter rate_limited']);
    expect(await run(panel('Mirrors failing now').targets![0]!, ONE)).toEqual([]);
  });

  it('traffic panels show the repositories, operations and directions of the fixture', async () => {
    const first = (title: string) => panel(title).targets![0]!;
    // Manifest GET 2xx: acme/app and org/team/app; the only manifest PUT 2xx is acme/app.
    expect(labels(await run(first('Pulls per repository'), ALL), 'namespace', 'repository')).toEqual(['acme app', 'org team/app']);
    expect(labels(await run(first('Pushes per repository'), ONE), 'namespace', 'repository')).toEqual(['acme app']);
    // acme/app pulled (5 MiB blob) and pushed (PATCH + PUT commit).
    expect(labels(await run(first('Blob bytes by direction'), ONE), 'direction')).toEqual(['pull', 'push']);
    // 4xx: the 404 manifest of acme/missing and the 401 ping (no namespace: only "All" shows it).
    expect(labels(await run(first('4xx per second by operation'), ALL), 'operation')).toEqual(['ping', 'pull_manifest']);
    expect(labels(await run(first('4xx per second by operation'), { namespace: 'acme', repository: '.*' }), 'operation')).toEqual(['pull_manifest']);
    // 5xx: the blob GET answered 500.
    expect(labels(await run(first('5xx per second by operation'), ALL), 'operation')).toEqual(['pull_blob']);
    // Both slow transfers are org/team/app, one each way.
    expect(labels(await run(first('Slow transfers per minute'), ALL), 'direction', 'namespace', 'repository')).toEqual(['pull org team/app', 'push org team/app']);
    // The 302 blob GET of org/team/app.
    expect(labels(await run(first('Blob redirects per second'), ALL), 'namespace', 'repository')).toEqual(['org team/app']);
  });

  it('mirror, GC and exporter panels show the series of the fixture', async () => {
    const first = (title: string) => panel(title).targets![0]!;
    expect(labels(await run(first('Mirror tag syncs by result'), ALL), 'namespace', 'repository', 'result')).toEqual(['mirrors node-exporter failed', 'mirrors node-exporter success']);
    expect(labels(await run(first('Mirror sync failures by reason'), ALL), 'namespace', 'reason')).toEqual(['mirrors rate_limited']);
    expect(labels(await run(first('Mirror sync attempts by result'), ALL), 'result')).toEqual(['partial']);
    expect(labels(await run(first('GC iterations'), ALL))).toEqual(['']); // sum(): one series, no labels
    // The catalogue's `job` label collides with the scrape job: Prometheus keeps the GC job as exported_job.
    expect(labels(await run(first('GC job runs by result'), ALL), 'exported_job', 'result')).toEqual(['GarbageCollectionWorker._garbage_collection_repos success']);
    // 5 sources × 3 results + supervisord and container (matched only), every one registered;
    // the ratio has one series per source that can have unmatched lines.
    expect((await run(first('Lines per second'), ALL)).length).toBe(17);
    expect(labels(await run(first('Unmatched ratio'), ALL), 'source')).toEqual(['gcworker', 'gunicorn', 'nginx', 'other', 'repomirrorworker']);
    expect(labels(await run(first('Input lag'), ALL), 'path')).toEqual([stack.log]);
  });
});

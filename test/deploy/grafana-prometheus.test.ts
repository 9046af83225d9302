/**
 * Every PromQL expression of deploy/grafana/quay-log-exporter-prometheus.json
 * runs against a real prometheus scraping the real daemon
 * (`node dist/cli.js run`) that follows the supervisord fixture, with
 * Grafana's variables substituted as Grafana would: the panels whose series
 * the fixture produces must return data, with the labels counted by hand.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/**
 * Panels allowed to come back empty for this fixture: it has no GC row deletions (those are DEBUG
 * lines, and its gcworker logs only two INFO job lines) and the daemon runs without an InfluxDB output.
 */
const EMPTY_FOR_FIXTURE = new Set(['GC rows deleted by table', 'InfluxDB output']);

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
    await waitFor('33 lines scraped', async () => ((await stack.prom.query('sum(quay_log_exporter_lines_total)'))[0]?.value[1] === '33' ? true : undefined));
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

  for (const p of panels) {
    for (const target of p.targets ?? []) {
      it(`"${p.title}" ${target.refId} runs for all and for one repository${EMPTY_FOR_FIXTURE.has(p.title) ? '' : ', with data'}`, async () => {
        const all = await run(target, ALL);
        if (!EMPTY_FOR_FIXTURE.has(p.title)) expect(all.length, expand(target.expr, ALL)).toBeGreaterThan(0);
        // A chosen repository narrows the query; it must still be valid PromQL.
        await run(target, ONE);
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
    // The only manifest GET 2xx and PUT 2xx are acme/app.
    expect(labels(await run(first('Pulls per repository'), ALL), 'namespace', 'repository')).toEqual(['acme app']);
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
    expect((await run(first('GC iterations'), ALL)).length).toBe(1);
    // The catalogue's `job` label collides with the scrape job: Prometheus keeps the GC job as exported_job.
    expect(labels(await run(first('GC job runs by result'), ALL), 'exported_job', 'result')).toEqual(['GarbageCollectionWorker._garbage_collection_repos success']);
    // 5 sources × 3 results + supervisord and container (matched only), every one registered;
    // the ratio has one series per source that can have unmatched lines.
    expect((await run(first('Lines per second'), ALL)).length).toBe(17);
    expect(labels(await run(first('Unmatched ratio'), ALL), 'source')).toEqual(['gcworker', 'gunicorn', 'nginx', 'other', 'repomirrorworker']);
    expect(labels(await run(first('Input lag'), ALL), 'path')).toEqual([stack.log]);
  });
});

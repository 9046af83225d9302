/**
 * The same replay as test/replay.test.ts, in this process (src/replay.ts, not
 * dist/cli.js): the pipeline's router, parsers and traffic recorder run where
 * StrykerJS can switch its mutants (`npm run mutate`), and a failing count
 * points at the code without a child process in between. The expected values
 * are the shared hand counts of the fixture.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/log.js';
import { replay } from '../src/replay.js';
import { family, parseExposition, value, type Sample } from './helpers/exposition.js';
import { HTTP_REQUESTS, LINES_BY_SOURCE_RESULT, PULLS, PUSHES, REGISTRY_REQUESTS, TRANSFER_BYTES } from './fixtures/quay-supervisord.counts.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quay-supervisord.log', import.meta.url));

async function replayed(raw: Record<string, unknown>, file = FIXTURE, source?: 'nginx' | 'gunicorn'): Promise<Sample[]> {
  let text = '';
  await replay(parseConfig({ state_dir: '/nonexistent-state', ...raw }, 'test', {}), {
    files: [file],
    format: 'prometheus',
    source,
    log: silentLogger,
    write: async (t) => {
      text += t;
    },
  });
  return parseExposition(text);
}

describe('replay of the supervisord fixture, in process', () => {
  it('gives the hand counts: lines, requests, pulls, pushes, bytes, HTTP requests', async () => {
    const s = await replayed({});
    expect(family(s, 'quay_log_exporter_lines_total')).toEqual(LINES_BY_SOURCE_RESULT);
    expect(family(s, 'quay_registry_requests_total')).toEqual(REGISTRY_REQUESTS);
    expect(family(s, 'quay_registry_pulls_total')).toEqual(PULLS);
    expect(family(s, 'quay_registry_pushes_total')).toEqual(PUSHES);
    expect(family(s, 'quay_registry_transfer_bytes_total')).toEqual(TRANSFER_BYTES);
    expect(family(s, 'quay_http_requests_total')).toEqual(HTTP_REQUESTS);
    expect(family(s, 'quay_registry_blob_redirects_total')).toEqual({ 'namespace=org,repository=team/app': 1 });
    // 16 registry lines, their request_time summed (see test/replay.test.ts).
    expect(value(s, 'quay_http_request_duration_seconds_count', { component: 'registry' })).toBe(16);
    expect(value(s, 'quay_http_request_duration_seconds_sum', { component: 'registry' })).toBeCloseTo(14.501, 9);
    expect(family(s, 'quay_log_gc_job_runs_total')).toEqual({ 'job=GarbageCollectionWorker._garbage_collection_repos,result=success': 2 });
  });

  it('traffic.source nginx, forced, on gunicorn lines: both gunicorn access lines of the fixture are ignored', async () => {
    const s = await replayed({ traffic: { source: 'nginx' } });
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'gunicorn', result: 'ignored' })).toBe(2);
  });

  it('traffic.source gunicorn: the gunicorn access lines are matched and counted (registry GET manifest 200, web DELETE 204)', async () => {
    const s = await replayed({ traffic: { source: 'gunicorn' } });
    // Debug line + "Booting worker" + the 2 access lines = 4 matched; "an unparseable gunicorn line" unmatched.
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'gunicorn', result: 'matched' })).toBe(4);
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'gunicorn', result: 'ignored' })).toBe(0);
    expect(value(s, 'quay_http_requests_total', { component: 'api', method: 'DELETE', status: '204' })).toBe(1);
  });

  it('limits.max_series_per_metric from the config folds the series of a metric past the cap', async () => {
    // requests_total has 14 series in the fixture (REGISTRY_REQUESTS): a cap of 15 keeps them all;
    // a cap of 13 keeps 13 and folds the 14th into one __overflow__ series.
    const all = await replayed({ limits: { max_series_per_metric: 15 } });
    expect(family(all, 'quay_registry_requests_total')).toEqual(REGISTRY_REQUESTS);
    const capped = await replayed({ limits: { max_series_per_metric: 13 } });
    expect(Object.keys(family(capped, 'quay_registry_requests_total'))).toHaveLength(14); // 13 + the overflow series
    expect(value(capped, 'quay_log_exporter_series_overflow_total', { metric: 'quay_registry_requests_total' })).toBe(1);
  });
});

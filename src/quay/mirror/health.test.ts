/** /mirror/health stays small with many mirrors: at most 1,000 repositories and 100 problems listed. */
import { describe, expect, it } from 'vitest';
import { evaluateHealth, MAX_LISTED } from './health.js';
import type { RepoStatus } from './status.js';

const repo = (i: number, failures: number): RepoStatus => ({
  namespace: 'ns',
  repository: `r${String(i).padStart(4, '0')}`,
  status: failures > 0 ? 'failed' : 'success',
  finished: failures > 0 ? 'failed' : 'success',
  reason: failures > 0 ? 'tls_error' : '',
  lastAttemptMs: 0,
  lastSyncMs: 0,
  consecutiveFailures: failures,
  complete: true,
});

describe('evaluateHealth with 1,500 repositories', () => {
  it('lists 1,000: the 150 failing first, then the healthy ones in name order; 100 problems and a count of the rest', () => {
    // every 10th repository (r0000, r0010, …, r1490) failed once: 150 failing
    const repos = Array.from({ length: 1500 }, (_, i) => repo(i, i % 10 === 0 ? 1 : 0));
    const { status, body } = evaluateHealth(repos, 0, new URLSearchParams(), 1000, { unhealthyAfterFailures: 1, staleAfterMs: 60_000 });
    expect(status).toBe(503);
    expect(MAX_LISTED).toBe(1000);
    expect(body.repositories_total).toBe(1500);
    expect(body.repositories).toHaveLength(1000);
    expect(body.repositories.slice(0, 150).every((r) => r.consecutive_failures === 1)).toBe(true);
    expect(body.repositories[150]!.repository).toBe('r0001'); // the first healthy one
    // 100 listed problems + "… and 50 more"
    expect(body.problems).toHaveLength(101);
    expect(body.problems[100]).toBe('… and 50 more repositories failing');
  });
});

describe('evaluateHealth, edges', () => {
  const rules = { unhealthyAfterFailures: 1, staleAfterMs: 60_000 };
  const status = (repository: string, s: RepoStatus['status'], reason: string, failures: number): RepoStatus => ({
    namespace: 'ns',
    repository,
    status: s,
    finished: s === 'syncing' ? undefined : s,
    reason,
    lastAttemptMs: 0,
    lastSyncMs: 0,
    consecutiveFailures: failures,
    complete: false,
  });

  it('no pods given and no ?pod=: no pods key; ?pod= empty is no filter; names in order whatever the input order', () => {
    // A repository syncing again after a failure still holds the old reason: only a failed one shows it.
    const repos = [status('b', 'syncing', 'tls_error', 1), status('a', 'success', '', 0)];
    const r = evaluateHealth(repos, 0, new URLSearchParams('pod='), 1000, rules);
    expect(r.body.pods).toBeUndefined();
    expect(Object.keys(r.body)).not.toContain('pods');
    expect(r.body.worker).toEqual({ last_seen: new Date(0).toISOString(), stale: false });
    expect(r.body.repositories.map((x) => [x.repository, x.status, x.last_error_reason])).toEqual([
      ['a', 'success', ''],
      ['b', 'syncing', ''],
    ]);
    // b failed its last attempt (1 ≥ 1): one problem, 503.
    expect(r.status).toBe(503);
    expect(r.body.problems).toEqual(['ns/b failed its last 1 sync attempt(s) (tls_error)']);
  });

  it('exactly 100 failing: 100 problems and no "and more"; exactly 1,000 repositories: all of them, in name order', () => {
    const repos = Array.from({ length: 1000 }, (_, i) => status(`r${String(i).padStart(4, '0')}`, i >= 900 ? 'failed' : 'success', i >= 900 ? 'tls_error' : '', i >= 900 ? 1 : 0));
    const r = evaluateHealth(repos, 0, new URLSearchParams(), 1000, rules);
    // r0900 … r0999 failed: 100 problems, all listed.
    expect(r.body.problems).toHaveLength(100);
    expect(r.body.problems[99]).toBe('ns/r0999 failed its last 1 sync attempt(s) (tls_error)');
    // 1,000 is not more than MAX_LISTED: name order, the failing ones last.
    expect(r.body.repositories[0]!.repository).toBe('r0000');
    expect(r.body.repositories[999]!.repository).toBe('r0999');
  });
});

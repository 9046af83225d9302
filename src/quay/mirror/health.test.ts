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

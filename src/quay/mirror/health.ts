/**
 * GET /mirror/health: whether the repository mirrors are working, for a
 * load balancer, a blackbox probe or a human. Unhealthy (503) when a
 * repository failed its last `unhealthy_after_failures` attempts, or when no
 * mirror-worker line came for `stale_after` while any mirror is known.
 *
 * With container logs of several pods (a DaemonSet), `pods` lists each pod's
 * worker with the streams still open, and `?pod=<name>` judges that pod's
 * worker alone (a per-pod probe); without it the worker is any pod's.
 */
import type { RepoStatus } from './status.js';

export interface HealthRules {
  readonly unhealthyAfterFailures: number;
  readonly staleAfterMs: number;
}

export interface RepoHealth {
  namespace: string;
  repository: string;
  status: string;
  last_error_reason: string;
  last_attempt: string | null;
  consecutive_failures: number;
}

/** A pod's mirror worker: the last line of any of its open streams (wall time). */
export interface PodSeen {
  readonly pod: string;
  readonly namespace: string;
  readonly lastSeenMs: number;
}

export interface PodHealth {
  pod: string;
  namespace: string;
  last_seen: string | null;
  stale: boolean;
}

export interface HealthBody {
  /**
   * What the answer covers: never the whole Quay deployment, only what this exporter read. `pod`: one
   * pod's log (a sidecar); `pods`: the pods listed in `pods` (a DaemonSet exporter on a node).
   */
  scope: 'pod' | 'pods';
  healthy: boolean;
  checked_at: string;
  worker: { last_seen: string | null; stale: boolean };
  repositories: RepoHealth[];
  /** Repositories selected; `repositories` lists at most MAX_LISTED of them, failing ones first. */
  repositories_total: number;
  /** Present when lines come from pods' container logs. */
  pods?: PodHealth[];
  /** Why it is unhealthy, one sentence per problem (empty when healthy). */
  problems: string[];
}

/** The body stays small whatever the number of mirrors: at most this many repositories and problems are listed. */
export const MAX_LISTED = 1000;
const MAX_PROBLEMS = 100;

const iso = (ms: number | undefined): string | null => (ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

export function evaluateHealth(
  repos: Iterable<RepoStatus>,
  workerLastSeenMs: number | undefined,
  query: URLSearchParams,
  nowMs: number,
  rules: HealthRules,
  pods: readonly PodSeen[] = [],
): { status: 200 | 503; body: HealthBody } {
  const podName = query.get('pod');
  if (podName !== null && podName !== '') {
    pods = pods.filter((p) => p.pod === podName);
    workerLastSeenMs = pods[0]?.lastSeenMs;
  }
  const ns = query.get('namespace');
  const repo = query.get('repository');
  const selected: RepoStatus[] = [];
  for (const r of repos) {
    if (ns !== null && ns !== '' && r.namespace !== ns) continue;
    if (repo !== null && repo !== '' && r.repository !== repo) continue;
    selected.push(r);
  }
  selected.sort((a, b) => (a.namespace === b.namespace ? cmp(a.repository, b.repository) : cmp(a.namespace, b.namespace)));

  const problems: string[] = [];
  for (const r of selected) {
    if (r.consecutiveFailures >= rules.unhealthyAfterFailures) {
      problems.push(`${r.namespace}/${r.repository} failed its last ${r.consecutiveFailures} sync attempt(s) (${r.reason || 'unknown_error'})`);
    }
  }
  if (problems.length > MAX_PROBLEMS) {
    const more = problems.length - MAX_PROBLEMS;
    problems.length = MAX_PROBLEMS;
    problems.push(`… and ${more} more repositories failing`);
  }
  const stale = selected.length > 0 && (workerLastSeenMs === undefined || nowMs - workerLastSeenMs >= rules.staleAfterMs);
  if (stale) problems.push(`no mirror worker line for ${Math.round(rules.staleAfterMs / 1000)}s or more`);

  const healthy = problems.length === 0;
  return {
    status: healthy ? 200 : 503,
    body: {
      scope: pods.length > 1 ? 'pods' : 'pod',
      healthy,
      checked_at: new Date(nowMs).toISOString(),
      worker: { last_seen: iso(workerLastSeenMs), stale },
      repositories_total: selected.length,
      repositories: listed(selected, rules).map((r) => ({
        namespace: r.namespace,
        repository: r.repository,
        status: r.status,
        last_error_reason: r.status === 'failed' ? r.reason : '',
        last_attempt: iso(r.lastAttemptMs),
        consecutive_failures: r.consecutiveFailures,
      })),
      ...(pods.length > 0 || (podName !== null && podName !== '')
        ? { pods: pods.map((p) => ({ pod: p.pod, namespace: p.namespace, last_seen: iso(p.lastSeenMs), stale: nowMs - p.lastSeenMs >= rules.staleAfterMs })) }
        : {}),
      problems,
    },
  };
}

/** All of them when few; else the failing ones first, then the rest, MAX_LISTED in all, each part in name order. */
function listed(selected: RepoStatus[], rules: HealthRules): RepoStatus[] {
  if (selected.length <= MAX_LISTED) return selected;
  const failing = selected.filter((r) => r.consecutiveFailures >= rules.unhealthyAfterFailures);
  const rest = selected.filter((r) => r.consecutiveFailures < rules.unhealthyAfterFailures);
  return [...failing, ...rest].slice(0, MAX_LISTED);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

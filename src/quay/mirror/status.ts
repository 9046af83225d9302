/**
 * The last sync status of every mirrored repository, the gauges that show it
 * (the `quay_log_repository_mirror_last_sync_status` state set, sync_complete,
 * last_sync_timestamp_seconds), and its file in state_dir so a restarted
 * exporter does not forget which mirrors were failing.
 *
 * State set: the OTel SDK keeps exporting a series once it was recorded, so
 * every series ever written for a repository is rewritten on each change and
 * exactly one of them is 1: (success,""), (syncing,""), (cancelled,""), and
 * (failed,<reason>) for each reason seen — or (failed,"") before any failure.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../log.js';
import { own, type GaugeFamily, type MetricRegistry, type ValueSlot } from '../../metrics/series.js';
import { writeFileAtomicSync } from '../../state/atomic.js';
import { stateSaves, type StateSaves } from '../../state/saves.js';

export type SyncStatus = 'success' | 'failed' | 'syncing' | 'cancelled';
export type FinishedStatus = Exclude<SyncStatus, 'syncing'>;

export interface RepoStatus {
  readonly namespace: string;
  readonly repository: string;
  /** The status shown now: `syncing` while an attempt is open. */
  status: SyncStatus;
  /** Status and reason of the last finished attempt (what is saved). */
  finished: FinishedStatus | undefined;
  reason: string;
  /** Log time (ms) of the last line of the last attempt, open or finished. */
  lastAttemptMs: number;
  /** Log time (ms) at which the last finished attempt ended; NaN before one. */
  lastSyncMs: number;
  consecutiveFailures: number;
  complete: boolean;
}

interface Slots {
  readonly success: ValueSlot;
  readonly syncing: ValueSlot;
  readonly cancelled: ValueSlot;
  /** (failed, reason) series written so far, by reason. */
  readonly failed: Map<string, ValueSlot>;
  readonly complete: ValueSlot;
  readonly timestamp: ValueSlot;
}

export const STATE_FILE = 'mirror-status.json';
const FILE_VERSION = 1;

export class RepoStatusStore {
  private readonly repos = new Map<string, RepoStatus>();
  private readonly slots = new Map<string, Slots>();
  private readonly statusGauge: GaugeFamily;
  private readonly completeGauge: GaugeFamily;
  private readonly timestampGauge: GaugeFamily;
  /** Wall time (ms) of the last mirror-worker line, restored across restarts. */
  workerLastSeenMs: number | undefined;
  private dirty = false;
  private readonly saves: StateSaves | undefined;

  private readonly evicted: ValueSlot;

  constructor(
    registry: MetricRegistry,
    private readonly stateDir: string,
    private readonly log: Logger,
    /** Repositories kept; past it the least recently attempted is forgotten (bounds memory, /mirror/health and the state file). */
    private readonly maxRepositories = 5_000,
  ) {
    this.saves = stateSaves(registry, log);
    this.evicted = registry.counter('quay_log_exporter_mirror_repositories_evicted_total').at();
    this.statusGauge = registry.gauge('quay_log_repository_mirror_last_sync_status');
    this.completeGauge = registry.gauge('quay_log_repository_mirror_sync_complete');
    this.timestampGauge = registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds');
  }

  get(namespace: string, repository: string): RepoStatus {
    const key = namespace + '/' + repository;
    let r = this.repos.get(key);
    if (r === undefined) {
      // Kept for good: copies, so they do not pin the read chunk the line was cut from.
      r = {
        namespace: own(namespace),
        repository: own(repository),
        status: 'syncing',
        finished: undefined,
        reason: '',
        lastAttemptMs: Number.NaN,
        lastSyncMs: Number.NaN,
        consecutiveFailures: 0,
        complete: false,
      };
      this.repos.set(own(key), r);
      if (this.repos.size > this.maxRepositories) this.evictOldest();
    }
    return r;
  }

  /** Keeps the map in order of last attempt: the first entry is the least recently attempted. */
  private touch(r: RepoStatus): void {
    const key = r.namespace + '/' + r.repository;
    if (this.repos.delete(key)) this.repos.set(key, r);
  }

  /**
   * Forget the least recently attempted repository: its status, its gauge
   * series (a stale "syncing" must not stay 1 for ever) and its line in the
   * state file.
   */
  private evictOldest(): void {
    const first = this.repos.entries().next();
    if (first.done) return;
    const [key] = first.value;
    this.repos.delete(key);
    const s = this.slots.get(key);
    if (s !== undefined) {
      this.slots.delete(key);
      for (const slot of [s.success, s.syncing, s.cancelled, ...s.failed.values()]) this.statusGauge.dropSlot(slot);
      this.completeGauge.dropSlot(s.complete);
      this.timestampGauge.dropSlot(s.timestamp);
    }
    this.evicted.value++;
    this.dirty = true;
  }

  all(): IterableIterator<RepoStatus> {
    return this.repos.values();
  }

  get size(): number {
    return this.repos.size;
  }

  /** A mirror-worker line arrived at wall time `nowMs`. */
  seen(nowMs: number): void {
    this.workerLastSeenMs = nowMs;
    this.dirty = true;
  }

  /** An attempt started (or continues): status syncing. */
  markSyncing(r: RepoStatus, logMs: number): void {
    // A line older than the last finished attempt (another stream read late) does not hide it.
    if (logMs < r.lastSyncMs) return;
    this.touch(r);
    r.status = 'syncing';
    r.lastAttemptMs = logMs;
    this.write(r);
  }

  /** An attempt ended with `status` (`reason` only for failed). */
  markFinished(r: RepoStatus, status: FinishedStatus, reason: string, complete: boolean, endMs: number): void {
    if (endMs < r.lastSyncMs) {
      // An attempt that ended before the last one recorded (its pid's idle gap closed it late, or its
      // stream was read late): the newer result stands, whatever either was. (Such an attempt never
      // showed `syncing`: markSyncing ignores lines older than the last finished attempt.)
      return;
    }
    this.touch(r);
    r.status = status;
    r.finished = status;
    r.reason = status === 'failed' ? reason : '';
    r.complete = complete;
    r.lastAttemptMs = endMs;
    r.lastSyncMs = endMs;
    if (status === 'success') r.consecutiveFailures = 0;
    else if (status === 'failed') r.consecutiveFailures++;
    this.write(r);
  }

  /** Rewrites every gauge series of the repository. */
  private write(r: RepoStatus): void {
    this.dirty = true;
    const s = this.slotsOf(r);
    s.success.value = r.status === 'success' ? 1 : 0;
    s.syncing.value = r.status === 'syncing' ? 1 : 0;
    s.cancelled.value = r.status === 'cancelled' ? 1 : 0;
    if (r.status === 'failed' && !s.failed.has(r.reason)) {
      s.failed.set(r.reason, this.statusGauge.at(r.namespace, r.repository, 'failed', r.reason));
    }
    if (s.failed.size === 0) s.failed.set('', this.statusGauge.at(r.namespace, r.repository, 'failed', ''));
    for (const [reason, slot] of s.failed) slot.value = r.status === 'failed' && reason === r.reason ? 1 : 0;
    s.complete.value = r.complete ? 1 : 0;
    if (!Number.isNaN(r.lastSyncMs)) s.timestamp.value = r.lastSyncMs / 1000;
  }

  private slotsOf(r: RepoStatus): Slots {
    const key = r.namespace + '/' + r.repository;
    let s = this.slots.get(key);
    if (s === undefined) {
      const g = this.statusGauge;
      s = {
        success: g.at(r.namespace, r.repository, 'success', ''),
        syncing: g.at(r.namespace, r.repository, 'syncing', ''),
        cancelled: g.at(r.namespace, r.repository, 'cancelled', ''),
        failed: new Map(),
        complete: this.completeGauge.at(r.namespace, r.repository),
        timestamp: this.timestampGauge.at(r.namespace, r.repository),
      };
      this.slots.set(key, s);
    }
    return s;
  }

  // ---- persistence ----

  private get file(): string {
    return join(this.stateDir, STATE_FILE);
  }

  /** Saves the last finished status per repository: temp file, fsync, rename. */
  save(): void {
    if (!this.dirty) return;
    const repositories = [];
    for (const r of this.repos.values()) {
      if (r.finished === undefined) continue; // only ever seen syncing: nothing worth restoring
      repositories.push({
        namespace: r.namespace,
        repository: r.repository,
        status: r.finished,
        last_error_reason: r.finished === 'failed' ? r.reason : '',
        last_attempt_ms: r.lastAttemptMs,
        last_sync_ms: r.lastSyncMs,
        consecutive_failures: r.consecutiveFailures,
        complete: r.complete,
      });
    }
    const text = JSON.stringify({ version: FILE_VERSION, worker_last_seen_ms: this.workerLastSeenMs ?? null, repositories }) + '\n';
    try {
      mkdirSync(this.stateDir, { recursive: true });
      writeFileAtomicSync(this.file, text);
      this.dirty = false;
      this.saves?.saved(this.file);
    } catch (err) {
      if (this.saves) this.saves.failed(this.file, err);
      else this.log.warn('cannot save the mirror status', { path: this.file, error: (err as Error).message });
    }
  }

  /** Restores a saved file; a missing file is a first start, a bad one is logged and ignored. */
  load(): void {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.log.warn('cannot read the saved mirror status', { path: this.file, error: (err as Error).message });
      }
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      this.log.warn('the saved mirror status is not valid JSON; starting without it', { path: this.file });
      return;
    }
    if (!isObject(data) || data['version'] !== FILE_VERSION || !Array.isArray(data['repositories'])) {
      this.log.warn('the saved mirror status has an unknown layout; starting without it', { path: this.file });
      return;
    }
    if (typeof data['worker_last_seen_ms'] === 'number') this.workerLastSeenMs = data['worker_last_seen_ms'];
    for (const e of data['repositories'] as unknown[]) {
      if (!isObject(e)) continue;
      const { namespace, repository, status } = e;
      if (typeof namespace !== 'string' || typeof repository !== 'string') continue;
      if (status !== 'success' && status !== 'failed' && status !== 'cancelled') continue;
      const r = this.get(namespace, repository);
      r.status = status;
      r.finished = status;
      // A failed entry always has a reason: (failed, "") is the series of a repository that never failed.
      const reason = e['last_error_reason'];
      r.reason = status !== 'failed' ? '' : typeof reason === 'string' && reason !== '' ? reason : 'unknown_error';
      r.lastAttemptMs = num(e['last_attempt_ms']);
      r.lastSyncMs = num(e['last_sync_ms']);
      r.consecutiveFailures = Math.max(0, Math.trunc(num(e['consecutive_failures']) || 0));
      r.complete = e['complete'] === true;
      this.write(r);
    }
    this.dirty = false;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

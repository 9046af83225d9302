/**
 * Quay's repository mirror worker (program `repomirrorworker`): tag results,
 * sync attempts per repository, the last-status state set, failure reasons,
 * events, the health endpoint, and the saved status. README.md states the
 * attempt rule and which line counts a failure.
 */
import type { EventBus } from '../../events.js';
import { own, type CounterFamily, type HistogramFamily } from '../../metrics/series.js';
import { createFailureClassifier, UNKNOWN_ERROR } from '../failure-reasons.js';
import { PythonLogReader } from '../python-log.js';
import { LineFields } from '../../records/fields.js';
import { parseZoneOffset } from '../time.js';
import type { StreamInfo } from '../../inputs/types.js';
import { ANONYMOUS_STREAM, eventStream, LineResult, type ParserContext, type ParserStream, type SourceParser } from '../types.js';
import { isTracebackContinuation } from './continuation.js';
import { evaluateHealth, type PodSeen } from './health.js';
import { MirrorMessage, MirrorMessageReader } from './messages.js';
import { hasSkopeoError, isListTagsFailure, listTagsUpstream, skopeoErrorCore } from './skopeo-error.js';
import { RepoStatusStore, type FinishedStatus } from './status.js';

export interface MirrorTracker {
  /** For lines of program `repomirrorworker` (and `source: repomirrorworker` inputs). */
  readonly parser: SourceParser<MirrorStream>;
  /** GET /mirror/health: the HTTP server writes status + JSON body. */
  health(query: URLSearchParams, nowMs: number): { status: 200 | 503; body: unknown };
  /** About once a second in `run` mode: closes attempts idle for mirror.idle_gap (wall time). */
  tick(nowMs: number): void;
  /** Persists the last status per repository to state_dir. */
  save(): void;
}

export const UNKNOWN = 'unknown';

/**
 * What one stream (a pod's container log, a file) keeps between lines: its
 * worker processes. Two pods' workers may both be pid 88; they never meet.
 */
export interface MirrorStream extends ParserStream {
  readonly pids: Map<string, PidState>;
  /** The pid whose `Skopeo command failed` was this stream's last Python line: unjoined stderr lines go to it. */
  lastSkopeo: PidState | undefined;
  /** Wall time of its last line (for the pod's entry in /mirror/health). */
  lastSeenMs: number;
  /** This stream's last Python line was `Skopeo [STDOUT]: …` (v3.5–3.16): unprefixed lines are skopeo's stdout. */
  inStdout: boolean;
}

/** One sync attempt of one repository by one worker process. */
interface Attempt {
  readonly owner: PidState;
  readonly key: string;
  readonly namespace: string;
  readonly repository: string;
  /** Upstream without tag; '' when the attempt came from a line that names none (v3.17 architecture filter: learned from its next tag line). */
  upstream: string;
  readonly startMs: number;
  /** Log time of its last line. */
  lastMs: number;
  /** Wall time of its last line, for tick(). */
  lastWallMs: number;
  /** Tags synced, or skipped as unchanged. */
  ok: number;
  failed: number;
  /** Reason of its first failure ('' while none). */
  reason: string;
  /** Whether quay_log_repository_mirror_sync_failures_total already counted a failure of it. */
  counted: boolean;
}

interface PidState {
  readonly pid: string;
  readonly stream: MirrorStream;
  lastMs: number;
  /** The last `Creating mirroring job` of this pid: upstream → namespace/repository. */
  jobUpstream: string;
  jobNamespace: string;
  jobRepository: string;
  /** The last `Skopeo command failed` message since this pid's last job or tag line. */
  pendingError: string;
  /** Its log time. */
  pendingMs: number;
  attempt: Attempt | undefined;
}

/** A skopeo stderr kept for classification is cut here (a --debug run can print a lot). */
const MAX_ERROR_CHARS = 64 * 1024;
const MAX_LEARNED = 10_000;
/** Pid states without an open attempt are dropped after this long (log time). */
const PID_FORGET_MS = 24 * 3600_000;

class MirrorTrackerImpl implements MirrorTracker {
  readonly parser: SourceParser<MirrorStream>;
  private readonly py: PythonLogReader;
  private readonly msg: MirrorMessageReader;
  private readonly classify: (text: string) => string;
  private readonly store: RepoStatusStore;
  /** Open streams (each with its pids), for what spans them: a repository's claim, idle gaps. */
  private readonly streams = new Set<MirrorStream>();
  private readonly anonymous: MirrorStream;
  private readonly repoMap = new Map<string, [string, string]>();
  /** upstream → namespace/repository, learned from every pid's job lines (for list-tags failures). */
  private readonly learned = new Map<string, [string, string]>();
  private readonly idleGapMs: number;
  private readonly tagSyncs: CounterFamily;
  private readonly failures: CounterFamily;
  private readonly attempts: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly events: EventBus;
  /** Latest log time seen (ms), for idle closing in log time. */
  private nowLogMs = Number.NEGATIVE_INFINITY;
  /** Records out: what each line said (written only while active). */
  private readonly fields: LineFields;

  constructor(private readonly ctx: ParserContext) {
    const cfg = ctx.config.mirror;
    this.py = new PythonLogReader(ctx.grok, parseZoneOffset(ctx.config.python_log_timezone) || 0);
    this.msg = new MirrorMessageReader(ctx.grok);
    this.classify = createFailureClassifier(cfg.failure_reasons);
    this.idleGapMs = cfg.idle_gap;
    this.events = ctx.events;
    this.fields = ctx.fields ?? new LineFields();
    for (const [upstream, target] of Object.entries(cfg.repositories)) {
      const slash = target.indexOf('/');
      this.repoMap.set(normalizeUpstream(upstream), [target.slice(0, slash), target.slice(slash + 1)]);
    }
    const reg = ctx.registry;
    this.tagSyncs = reg.counter('quay_log_repository_mirror_tag_syncs_total');
    this.failures = reg.counter('quay_log_repository_mirror_sync_failures_total');
    this.attempts = reg.counter('quay_log_repository_mirror_sync_attempts_total');
    this.duration = reg.histogram('quay_log_repository_mirror_sync_duration_seconds');
    this.store = new RepoStatusStore(reg, ctx.config.state_dir, ctx.log, cfg.max_repositories);
    this.store.load();
    this.anonymous = this.openStream(ANONYMOUS_STREAM);
    this.parser = {
      parse: (line, start, stream = this.anonymous) => this.parse(line, start, stream),
      openStream: (info) => this.openStream(info),
      endStream: (stream) => this.endStream(stream),
    };
  }

  // ---- streams ----

  private openStream(info: StreamInfo): MirrorStream {
    const s: MirrorStream = { info, pids: new Map(), lastSkopeo: undefined, lastSeenMs: Number.NEGATIVE_INFINITY, inStdout: false };
    this.streams.add(s);
    return s;
  }

  /** The stream is gone (file deleted, pod gone): its processes are too; close what they left open. */
  private endStream(s: MirrorStream): void {
    for (const st of s.pids.values()) {
      this.settleListTags(st);
      if (st.attempt !== undefined) this.close(st.attempt, undefined);
    }
    s.pids.clear();
    s.lastSkopeo = undefined;
    this.streams.delete(s);
  }

  // ---- lines ----

  private parse(line: string, start: number, stream: MirrorStream): LineResult {
    const now = Date.now();
    this.store.seen(now);
    stream.lastSeenMs = now;
    if (!this.py.read(line, start)) {
      // skopeo's stderr lines (`time="…" level=debug msg="…"`, `level=fatal msg=…`) when no multiline
      // stage joined them to their record: every line up to the next Python line is that text.
      const st = stream.lastSkopeo;
      if (st !== undefined && !isTracebackContinuation(line, start)) {
        // Plain concatenation (no copy per line): the text is consumed within the pid's next lines.
        if (st.pendingError.length < MAX_ERROR_CHARS) st.pendingError += '\n' + line.slice(start, start + MAX_ERROR_CHARS);
        if (this.fields.active) this.fields.set('kind', 'skopeo_stderr');
        return LineResult.Matched;
      }
      // skopeo's stdout (v3.5–3.7 log it after every run: `Copying blob …`, list-tags JSON).
      if (stream.inStdout) {
        if (this.fields.active) this.fields.set('kind', 'skopeo_stdout');
        return LineResult.Matched;
      }
      if (!isTracebackContinuation(line, start)) return LineResult.Unmatched;
      if (this.fields.active) this.fields.set('kind', 'traceback');
      return LineResult.Matched;
    }
    stream.lastSkopeo = undefined;
    stream.inStdout = false;
    let t = this.py.timeMs();
    // A record with no time of its own (JSONLOG=true writes none): the last log time seen, else the
    // time it was read, so a last-sync timestamp is never 1970 (the many-pods rules pick the newest).
    // Only a logged time is a log time: a read time kept here would stand for every later record.
    if (Number.isNaN(t)) t = Number.isFinite(this.nowLogMs) ? this.nowLogMs : now;
    else if (t > this.nowLogMs) this.nowLogMs = t;
    this.closeIdle(t);

    const pid = this.py.pid;
    const kind = this.msg.read(this.py.message);
    if (this.fields.active) this.describe(kind);
    // Other lines (apscheduler chatter, skopeo --debug output) neither open nor prolong attempts.
    if (kind === MirrorMessage.Other) return LineResult.Matched;
    if (kind === MirrorMessage.SkopeoStdout) {
      stream.inStdout = true;
      return LineResult.Matched;
    }
    if (kind === MirrorMessage.RunEnded) {
      // process_mirrors handles every due repository in one run: its end ends the pid's attempt.
      const st = stream.pids.get(pid);
      if (st !== undefined) this.settleListTags(st);
      const a = st?.attempt;
      if (a !== undefined) this.close(a, undefined);
      return LineResult.Matched;
    }
    const st = this.pidState(stream, pid, t);
    // A list-tags failure waiting for its stderr to end is complete once the pid logs again.
    this.settleListTags(st);
    const m = this.msg;
    switch (kind) {
      case MirrorMessage.Job:
        this.onJob(st, m.upstream, m.namespace, m.repository, t);
        break;
      case MirrorMessage.TagResult:
        this.onTagResult(st, m.upstream, m.tag, m.ok, t);
        break;
      case MirrorMessage.SkopeoStderr:
      case MirrorMessage.SkopeoFailed: {
        // A joined multi-line event: the stderr's later lines belong to the error too. A text header's
        // message capture already runs to the end of the event; a JSON record's message stops at its '}'.
        const nl = line.indexOf('\n', start);
        const joined = nl < 0 || line.endsWith(m.error) ? m.error : m.error + line.slice(nl);
        st.pendingError = own(joined.slice(0, MAX_ERROR_CHARS));
        st.pendingMs = t;
        stream.lastSkopeo = st;
        // v3.5–3.16's stderr line also comes before a list-tags of the next repository: no touch.
        if (kind === MirrorMessage.SkopeoFailed && st.attempt !== undefined) this.touch(st.attempt, t);
        break;
      }
      case MirrorMessage.TagUnchanged:
        if (st.attempt !== undefined) {
          st.attempt.ok++;
          this.touch(st.attempt, t);
        }
        break;
      case MirrorMessage.ArchRepository:
        this.onRepositoryNamed(st, m.namespace, m.repository, t);
        break;
      case MirrorMessage.ArchMirroring:
        if (st.attempt !== undefined) {
          if (st.attempt.upstream === '') this.adoptUpstream(st, st.attempt, m.upstream);
          this.touch(st.attempt, t);
        }
        break;
      case MirrorMessage.ArchCopying:
        if (st.attempt !== undefined) this.touch(st.attempt, t);
        break;
      case MirrorMessage.Cancelled:
        this.onCancelled(st, m.namespace, m.repository, t);
        break;
      case MirrorMessage.SourceInvalid:
        this.onSourceInvalid(st, m.namespace, m.repository, t);
        break;
      case MirrorMessage.Preempted:
        // claim_mirror lost the race: the pid moved on; the mirror (an id here) is another worker's.
        if (st.attempt !== undefined) this.close(st.attempt, undefined);
        this.failures.at(UNKNOWN, 'preempted').value++;
        this.outcome(st, t, UNKNOWN, UNKNOWN, 'failed', 'preempted', '', '', this.py.message);
        break;
      case MirrorMessage.SyncError: {
        // The repository's sync raised: one failure of its attempt, which ends here. The reason is read
        // from the traceback's last line when a multiline stage joined it.
        let a = st.attempt;
        if (a !== undefined && (a.namespace !== m.namespace || a.repository !== m.repository)) {
          this.close(a, undefined);
          a = undefined;
        }
        a ??= this.open(st, m.namespace, m.repository, '', t);
        this.touch(a, t);
        const nl = line.indexOf('\n', start);
        const reason = nl < 0 ? UNKNOWN_ERROR : this.classify(line.slice(line.lastIndexOf('\n') + 1));
        a.failed++;
        if (a.reason === '') a.reason = reason;
        a.counted = true;
        this.failures.at(a.namespace, reason).value++;
        this.outcome(st, t, a.namespace, a.repository, 'failed', reason, a.upstream, '', nl < 0 ? this.py.message : line.slice(line.lastIndexOf('\n') + 1));
        this.close(a, undefined);
        break;
      }
      case MirrorMessage.DecryptFailed: {
        const a = st.attempt;
        if (a !== undefined) {
          if (a.reason === '') a.reason = 'decryption_failed';
          a.counted = true;
          this.touch(a, t);
        }
        this.failures.at(a?.namespace ?? UNKNOWN, 'decryption_failed').value++;
        this.outcome(st, t, a?.namespace ?? UNKNOWN, a?.repository ?? UNKNOWN, 'failed', 'decryption_failed', a?.upstream ?? '', '', this.py.message);
        break;
      }
    }
    // A line that names no repository but belongs to the pid's open attempt (tag unchanged, architecture copy, skopeo failure).
    if (this.fields.active && st.attempt !== undefined && (kind === MirrorMessage.TagUnchanged || kind === MirrorMessage.ArchMirroring || kind === MirrorMessage.ArchCopying || kind === MirrorMessage.SkopeoFailed)) {
      this.fields.text('namespace', st.attempt.namespace);
      this.fields.text('repository', st.attempt.repository);
      this.fields.text('upstream', st.attempt.upstream);
    }
    return LineResult.Matched;
  }

  /** Records out: the line's header, its kind and what the message names (the outcome, if any, follows). */
  private describe(kind: MirrorMessage): void {
    const f = this.fields;
    const m = this.msg;
    f.python(this.py);
    if (kind === MirrorMessage.Other) return;
    f.set('kind', MESSAGE_KINDS[kind]);
    switch (kind) {
      case MirrorMessage.Job:
        f.text('upstream', m.upstream);
        f.text('tag', m.tag);
        f.text('namespace', m.namespace);
        f.text('repository', m.repository);
        break;
      case MirrorMessage.TagResult:
      case MirrorMessage.ArchMirroring:
        f.text('upstream', m.upstream);
        f.text('tag', m.tag);
        break;
      case MirrorMessage.TagUnchanged:
        f.text('tag', m.tag);
        break;
      case MirrorMessage.ArchRepository:
        f.text('namespace', m.namespace);
        f.text('repository', m.repository);
        if (this.py.message.startsWith('Pushed')) f.text('tag', m.tag);
        break;
      case MirrorMessage.Cancelled:
      case MirrorMessage.SourceInvalid:
      case MirrorMessage.SyncError:
        f.text('namespace', m.namespace);
        f.text('repository', m.repository);
        break;
    }
  }

  /** A line's outcome: its quay_mirror_sync event, and the same facts in the line's record. */
  private outcome(st: PidState, t: number, namespace: string, repository: string, result: string, reason: string, upstream: string, tag: string, error: string): void {
    this.emit(st, t, namespace, repository, result, reason, upstream, tag, error);
    const f = this.fields;
    if (!f.active) return;
    f.text('namespace', namespace);
    f.text('repository', repository);
    f.set('sync_result', result);
    f.text('reason', reason);
    f.text('upstream', upstream);
    f.text('tag', tag);
    f.text('error', error);
  }

  private onJob(st: PidState, upstream: string, namespace: string, repository: string, t: number): void {
    // Copies, not substrings: they outlive the line and would pin its read chunk.
    if (st.jobUpstream !== upstream) st.jobUpstream = own(upstream);
    if (st.jobNamespace !== namespace) st.jobNamespace = own(namespace);
    if (st.jobRepository !== repository) st.jobRepository = own(repository);
    if (this.learned.size < MAX_LEARNED || this.learned.has(upstream)) this.learned.set(st.jobUpstream, [st.jobNamespace, st.jobRepository]);
    // An error before the copy started was a probe (list-tags, inspect), not this copy's.
    st.pendingError = '';
    const a = st.attempt;
    if (a !== undefined && a.upstream === upstream && a.namespace === namespace && a.repository === repository) {
      this.touch(a, t);
      return;
    }
    if (a !== undefined) this.close(a, undefined);
    this.open(st, namespace, repository, upstream, t);
  }

  /**
   * v3.17.0+ architecture filter: `Architecture filter for <ns>/<repo>` starts a repository's sync and
   * names it (no job line is logged on that path); `Pushed sparse manifest list for <ns>/<repo>:<tag>`
   * names it again. The upstream comes with the next `Mirroring N architectures for …` or tag line.
   */
  private onRepositoryNamed(st: PidState, namespace: string, repository: string, t: number): void {
    const a = st.attempt;
    if (a !== undefined && a.namespace === namespace && a.repository === repository) {
      this.touch(a, t);
      return;
    }
    if (a !== undefined) this.close(a, undefined);
    st.jobUpstream = '';
    st.jobNamespace = own(namespace);
    st.jobRepository = own(repository);
    st.pendingError = '';
    this.open(st, namespace, repository, '', t);
  }

  /** An attempt opened by a line without upstream learns it from the pid's next line that has one. */
  private adoptUpstream(st: PidState, a: Attempt, upstream: string): void {
    a.upstream = own(upstream);
    st.jobUpstream = a.upstream;
    if (this.learned.size < MAX_LEARNED || this.learned.has(upstream)) this.learned.set(a.upstream, [a.namespace, a.repository]);
  }

  private onTagResult(st: PidState, upstream: string, tag: string, ok: boolean, t: number): void {
    let a = st.attempt;
    if (a !== undefined && a.upstream === '') this.adoptUpstream(st, a, upstream);
    if (a === undefined || a.upstream !== upstream) {
      let ns: string;
      let repo: string;
      if (st.jobUpstream === upstream) {
        ns = st.jobNamespace;
        repo = st.jobRepository;
      } else {
        const mapped = this.repoMap.get(upstream);
        ns = mapped ? mapped[0] : UNKNOWN;
        repo = mapped ? mapped[1] : UNKNOWN;
      }
      if (a !== undefined) this.close(a, undefined);
      a = this.open(st, ns, repo, upstream, t);
    } else {
      this.touch(a, t);
    }
    this.tagSyncs.at(a.namespace, a.repository, ok ? 'success' : 'failed').value++;
    const error = st.pendingError;
    st.pendingError = '';
    if (ok) {
      a.ok++;
      this.outcome(st, t, a.namespace, a.repository, 'success', '', upstream, tag, '');
      return;
    }
    a.failed++;
    const core = skopeoErrorCore(error);
    const reason = error === '' ? UNKNOWN_ERROR : this.classify(core);
    if (a.reason === '') a.reason = reason;
    a.counted = true;
    this.failures.at(a.namespace, reason).value++;
    this.outcome(st, t, a.namespace, a.repository, 'failed', reason, upstream, tag, core);
  }

  private onCancelled(st: PidState, namespace: string, repository: string, t: number): void {
    let a = st.attempt;
    if (a !== undefined && (a.namespace !== namespace || a.repository !== repository)) {
      this.close(a, undefined);
      a = undefined;
    }
    a ??= this.open(st, namespace, repository, '', t);
    this.touch(a, t);
    this.close(a, 'cancelled');
    this.outcome(st, t, namespace, repository, 'cancelled', 'cancelled', a.upstream, '', '');
  }

  private onSourceInvalid(st: PidState, namespace: string, repository: string, t: number): void {
    if (st.attempt !== undefined) this.close(st.attempt, undefined);
    const a = this.open(st, namespace, repository, '', t);
    a.reason = 'invalid_source_registry';
    a.counted = true;
    this.failures.at(namespace, 'invalid_source_registry').value++;
    this.outcome(st, t, namespace, repository, 'failed', 'invalid_source_registry', '', '', this.py.message);
    this.close(a, undefined);
  }

  // ---- attempts ----

  private pidState(stream: MirrorStream, pid: string, t: number): PidState {
    let st = stream.pids.get(pid);
    if (st === undefined) {
      pid = own(pid);
      st = { pid, stream, lastMs: t, jobUpstream: '', jobNamespace: '', jobRepository: '', pendingError: '', pendingMs: t, attempt: undefined };
      stream.pids.set(pid, st);
    }
    st.lastMs = t;
    return st;
  }

  private touch(a: Attempt, t: number): void {
    if (t > a.lastMs) a.lastMs = t;
    a.lastWallMs = Date.now();
  }

  private open(st: PidState, namespace: string, repository: string, upstream: string, t: number): Attempt {
    const key = namespace + '/' + repository;
    // A repository is claimed by one worker at a time (a database claim, across pods): another
    // process's open attempt of it ended when that worker died or gave up (a restart: new pid).
    for (const s of this.streams) {
      for (const other of s.pids.values()) {
        if (other.attempt !== undefined && other.attempt.key === key) this.close(other.attempt, undefined);
      }
    }
    namespace = own(namespace);
    repository = own(repository);
    const a: Attempt = { owner: st, key: own(key), namespace, repository, upstream: own(upstream), startMs: t, lastMs: t, lastWallMs: Date.now(), ok: 0, failed: 0, reason: '', counted: false };
    st.attempt = a;
    this.store.markSyncing(this.store.get(namespace, repository), t);
    return a;
  }

  /** Ends an attempt; `forced` = 'cancelled', else the result follows from its tag counts. */
  private close(a: Attempt, forced: 'cancelled' | undefined): void {
    const st = a.owner;
    if (st.attempt === a) st.attempt = undefined;
    let result: 'success' | 'partial' | 'failed' | 'cancelled';
    if (forced === 'cancelled') result = 'cancelled';
    else if (a.failed === 0 && a.ok > 0) result = 'success';
    else if (a.failed > 0 && a.ok > 0) result = 'partial';
    else result = 'failed';
    let reason = a.reason;
    if (result === 'failed' && a.failed === 0 && !a.counted) {
      // No tag result at all (the worker died, or an error Quay only writes to its
      // usage log): the attempt itself is the one failure to count.
      const pending = st.pendingError;
      // v3.5–3.7 log skopeo's stderr after successful runs too: only an error line makes it an error.
      reason = pending === '' || !hasSkopeoError(pending) ? UNKNOWN_ERROR : this.classify(skopeoErrorCore(pending));
      this.failures.at(a.namespace, reason).value++;
      a.counted = true;
    }
    if (reason === '') reason = UNKNOWN_ERROR;
    this.attempts.at(a.namespace, a.repository, result).value++;
    const seconds = Math.max(0, a.lastMs - a.startMs) / 1000;
    this.duration.observe(this.duration.at(a.namespace), seconds);
    if (this.events.active) {
      // One point per finished attempt at its log time: over many pods the newest point of a repository
      // is its state (InfluxQL has no join to pick the pod with the newest timestamp gauge).
      const failed = result === 'failed' || result === 'partial';
      this.events.emit({
        measurement: 'quay_mirror_attempt',
        time: a.lastMs,
        tags: { namespace: a.namespace, repository: a.repository, result },
        fields: { failed: failed ? 1 : 0, reason: failed ? reason : '', upstream: a.upstream, duration_seconds: seconds },
        ...eventStream(a.owner.stream.info),
      });
    }
    const status: FinishedStatus = result === 'success' ? 'success' : result === 'cancelled' ? 'cancelled' : 'failed';
    this.store.markFinished(this.store.get(a.namespace, a.repository), status, reason, result === 'success', a.lastMs);
  }

  /**
   * A failed `skopeo list-tags` ends a sync before any tag line: Quay logs only the
   * skopeo error. Counted as one failed attempt of the repository its debug output names
   * (`…/v2/<path>/tags/list` → learned job lines, then mirror.repositories, else unknown).
   */
  private settleListTags(st: PidState): void {
    const text = st.pendingError;
    if (text === '' || !isListTagsFailure(text)) return;
    st.pendingError = '';
    if (st.stream.lastSkopeo === st) st.stream.lastSkopeo = undefined;
    const upstream = listTagsUpstream(text);
    const known = upstream === '' ? undefined : (this.learned.get(upstream) ?? this.repoMap.get(upstream));
    const ns = known ? known[0] : UNKNOWN;
    const repo = known ? known[1] : UNKNOWN;
    const t = st.pendingMs;
    if (st.attempt !== undefined) this.close(st.attempt, undefined);
    const a = this.open(st, ns, repo, upstream, t);
    const core = skopeoErrorCore(text);
    a.reason = this.classify(core);
    a.counted = true;
    this.failures.at(ns, a.reason).value++;
    this.emit(st, t, ns, repo, 'failed', a.reason, upstream, '', core);
    this.close(a, undefined);
  }

  /** Closes attempts whose last line is idle_gap or more before log time `t`. */
  private closeIdle(t: number): void {
    for (const s of this.streams) {
      for (const [pid, st] of s.pids) {
        const a = st.attempt;
        if (a !== undefined && t - a.lastMs >= this.idleGapMs) this.close(a, undefined);
        if (st.pendingError !== '' && t - st.pendingMs >= this.idleGapMs) {
          this.settleListTags(st);
          st.pendingError = ''; // stale: nothing will consume it any more
        }
        if (st.attempt === undefined && t - st.lastMs >= PID_FORGET_MS) s.pids.delete(pid);
      }
    }
  }

  // ---- events ----

  private emit(st: PidState, t: number, namespace: string, repository: string, result: string, reason: string, upstream: string, tag: string, error: string): void {
    if (!this.events.active) return;
    this.events.emit({
      measurement: 'quay_mirror_sync',
      time: t,
      tags: { namespace, repository, result, reason },
      fields: { upstream, tag, error },
      ...eventStream(st.stream.info),
    });
  }

  // ---- contract ----

  health(query: URLSearchParams, nowMs: number): { status: 200 | 503; body: unknown } {
    const cfg = this.ctx.config.mirror;
    return evaluateHealth(this.store.all(), this.store.workerLastSeenMs, query, nowMs, {
      unhealthyAfterFailures: cfg.unhealthy_after_failures,
      staleAfterMs: cfg.stale_after,
    }, this.podsSeen());
  }

  /** One entry per pod with an open stream that has had a mirror-worker line; a pod whose streams ended is gone. */
  private podsSeen(): PodSeen[] {
    const byPod = new Map<string, PodSeen>();
    for (const s of this.streams) {
      const pod = s.info.pod;
      if (pod === undefined || !Number.isFinite(s.lastSeenMs)) continue;
      const key = `${s.info.namespace ?? ''}/${pod}`;
      const seen = byPod.get(key);
      if (seen === undefined || s.lastSeenMs > seen.lastSeenMs) byPod.set(key, { pod, namespace: s.info.namespace ?? '', lastSeenMs: s.lastSeenMs });
    }
    return [...byPod.values()].sort((a, b) => (a.namespace === b.namespace ? (a.pod < b.pod ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
  }

  tick(nowMs: number): void {
    for (const s of this.streams) {
      for (const st of s.pids.values()) {
        const a = st.attempt;
        if (a !== undefined && nowMs - a.lastWallMs >= this.idleGapMs) this.close(a, undefined);
      }
    }
  }

  save(): void {
    this.store.save();
  }
}

/** `kind` of a mirror line in records out, by MirrorMessage (README.md of src/records). */
const MESSAGE_KINDS: Readonly<Record<MirrorMessage, string>> = {
  [MirrorMessage.Other]: '',
  [MirrorMessage.Job]: 'job',
  [MirrorMessage.TagResult]: 'tag_result',
  [MirrorMessage.SkopeoFailed]: 'skopeo_failed',
  [MirrorMessage.Cancelled]: 'cancelled',
  [MirrorMessage.Preempted]: 'preempted',
  [MirrorMessage.SourceInvalid]: 'source_invalid',
  [MirrorMessage.DecryptFailed]: 'decrypt_failed',
  [MirrorMessage.TagUnchanged]: 'tag_unchanged',
  [MirrorMessage.RunEnded]: 'run_ended',
  [MirrorMessage.SkopeoStderr]: 'skopeo_stderr',
  [MirrorMessage.SkopeoStdout]: 'skopeo_stdout',
  [MirrorMessage.ArchRepository]: 'arch_repository',
  [MirrorMessage.ArchMirroring]: 'arch_mirroring',
  [MirrorMessage.ArchCopying]: 'arch_copying',
  [MirrorMessage.SyncError]: 'sync_error',
};

/** `docker://quay.io/a/b/` → `quay.io/a/b`, as the tag lines print it (minus the tag). */
function normalizeUpstream(upstream: string): string {
  let u = upstream.trim();
  if (u.startsWith('docker://')) u = u.slice('docker://'.length);
  while (u.endsWith('/')) u = u.slice(0, -1);
  return u;
}

export function createMirrorTracker(ctx: ParserContext): MirrorTracker {
  return new MirrorTrackerImpl(ctx);
}

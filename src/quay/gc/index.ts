/**
 * Quay's garbage collection workers (programs `gcworker`, `namespacegcworker`;
 * `repositorygcworker` lines read the same): apscheduler job runs, rows and
 * blobs deleted, candidates found, repositories and namespaces purged, and a
 * `quay_gc_run` event per job run. README.md lists the lines and levels.
 */
import { own, type CounterFamily, type ValueSlot } from '../../metrics/series.js';
import { isTracebackContinuation } from '../mirror/continuation.js';
import { MessagePattern } from '../message-pattern.js';
import { PythonLogReader } from '../python-log.js';
import { LineFields } from '../../records/fields.js';
import { parseZoneOffset } from '../time.js';
import type { StreamInfo } from '../../inputs/types.js';
import { ANONYMOUS_STREAM, eventStream, LineResult, type ParserContext, type ParserStream, type SourceParser } from '../types.js';

/** The job whose success is one GC iteration (workers/gc/gcworker.py). */
const GC_REPOS_JOB = 'GarbageCollectionWorker._garbage_collection_repos';
/** The namespace GC worker's queue poll: apscheduler names it `QueueWorker.poll_queue` (workers/queueworker.py). */
const POLL_QUEUE_SUFFIX = '.poll_queue';
/** The logger of `Removing <path> from <location>` (data/model/storage.py). */
const STORAGE_LOGGER = 'data.model.storage';
/** Quay's Worker wrapper around every operation (workers/worker.py); the next traceback frame is the operation. */
const OPERATION_WRAPPER = '_operation_func';
const FRAME = /^\s+File "[^"]*", line \d+, in ([A-Za-z_][A-Za-z0-9_]*)/;
/** Job names are code (Class.method), but they come from a log: keep them sane. */
const JOB_NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,127}$/;

const TABLE_BY_KIND: Record<string, string> = { tag: 'Tag', manifest: 'Manifest', 'uploaded blob': 'UploadedBlob' };
const CANDIDATE_KIND: Record<string, string> = { tags: 'tags', manifests: 'manifests', 'uploaded blobs': 'uploaded_blobs' };

// Fields read from each message (by position): the metrics read the first ones, records out the rest (text).
const CANDIDATES = ['count', 'kind', 'repository'];
const ROW_DELETED = ['kind', 'row', 'digest', 'repository'];
const PURGING = ['repository'];
const IMMUTABLE = ['tag', 'tag_id', 'repository'];
const BLOB_REMOVED = ['namespace', 'location', 'digest', 'path', 'repository'];
const STORAGE_REMOVING = ['location', 'path'];
const JOB_EXCEPTION = ['error'];

type JobResult = 'success' | 'error' | 'missed' | 'skipped';

/** What one worker process did since its previous apscheduler job line. */
interface PidGc {
  rowsTag: number;
  rowsManifest: number;
  rowsUploadedBlob: number;
  blobsRemoved: number;
  /** DEBUG lines seen from this pid: only then are row counts known (DEBUGLOG=true). */
  debug: boolean;
  /** A namespace GC queue item is being processed and has not failed. */
  namespacePending: boolean;
  /** Quay's Worker wrapper logged `Operation raised exception` since this pid's last job line. */
  raised: boolean;
  /** The operation that raised (`poll_queue`), from the traceback frame after `_operation_func`; '' unknown. */
  raisedIn: string;
}

/** One stream's GC worker processes (two pods' workers may share a pid). */
interface GcStream extends ParserStream {
  readonly pids: Map<string, PidGc>;
  /** The pid whose `Operation raised exception` traceback is arriving line by line (no multiline stage). */
  raising: PidGc | undefined;
}

class GcParser implements SourceParser<GcStream> {
  private readonly py: PythonLogReader;
  private readonly executed: MessagePattern;
  private readonly raised: MessagePattern;
  private readonly missed: MessagePattern;
  private readonly skipped: MessagePattern;
  private readonly candidates: MessagePattern;
  private readonly rowDeleted: MessagePattern;
  private readonly purging: MessagePattern;
  private readonly immutable: MessagePattern;
  private readonly blobRemoved: MessagePattern;
  private readonly storageRemoving: MessagePattern;
  private readonly operationRaised: MessagePattern;
  private readonly nsItem: MessagePattern;
  private readonly sleep: MessagePattern;
  private readonly jobException: MessagePattern;

  private readonly jobRuns: CounterFamily;
  private readonly rows: CounterFamily;
  private readonly blobs: CounterFamily;
  private readonly candidatesFound: CounterFamily;
  private readonly iterations: ValueSlot;
  private readonly reposPurged: ValueSlot;
  private readonly namespacesPurged: ValueSlot;
  private readonly immutableSkipped: ValueSlot;
  private readonly anonymous: GcStream = { info: ANONYMOUS_STREAM, pids: new Map(), raising: undefined };
  /** Records out: what each line said (written only while active). */
  private readonly fields: LineFields;

  constructor(private readonly ctx: ParserContext) {
    const g = ctx.grok;
    this.py = new PythonLogReader(g, parseZoneOffset(ctx.config.python_log_timezone) || 0);
    // Fields after the first ones the metrics read are read only for records out (the patterns capture them anyway).
    this.executed = new MessagePattern(g, 'QUAY_APS_JOB_EXECUTED', ['job']);
    this.raised = new MessagePattern(g, 'QUAY_APS_JOB_ERROR', ['job']);
    this.missed = new MessagePattern(g, 'QUAY_APS_JOB_MISSED', ['job', 'missed_by']);
    this.skipped = new MessagePattern(g, 'QUAY_APS_JOB_SKIPPED', ['job']);
    this.candidates = new MessagePattern(g, 'QUAY_GC_CANDIDATES', CANDIDATES);
    this.rowDeleted = new MessagePattern(g, 'QUAY_GC_ROW_DELETED', ROW_DELETED);
    this.purging = new MessagePattern(g, 'QUAY_GC_REPO_PURGING', PURGING);
    this.immutable = new MessagePattern(g, 'QUAY_GC_IMMUTABLE_SKIPPED', IMMUTABLE);
    this.blobRemoved = new MessagePattern(g, 'QUAY_GC_BLOB_REMOVED', BLOB_REMOVED);
    this.storageRemoving = new MessagePattern(g, 'QUAY_GC_STORAGE_REMOVING', STORAGE_REMOVING);
    this.operationRaised = new MessagePattern(g, 'QUAY_WORKER_OPERATION_RAISED', ['retry_seconds']);
    this.nsItem = new MessagePattern(g, 'QUAY_NAMESPACE_GC_ITEM', []);
    this.sleep = new MessagePattern(g, 'QUAY_QUEUE_WORKER_SLEEP', []);
    this.jobException = new MessagePattern(g, 'QUAY_QUEUE_JOB_EXCEPTION', JOB_EXCEPTION);
    this.fields = ctx.fields ?? new LineFields();
    const r = ctx.registry;
    this.jobRuns = r.counter('quay_log_gc_job_runs_total');
    this.rows = r.counter('quay_log_gc_table_rows_deleted_total');
    this.blobs = r.counter('quay_log_gc_storage_blobs_deleted_total');
    this.candidatesFound = r.counter('quay_log_gc_candidates_found_total');
    this.iterations = r.counter('quay_log_gc_iterations_total').at();
    this.reposPurged = r.counter('quay_log_gc_repos_purged_total').at();
    this.namespacesPurged = r.counter('quay_log_gc_namespaces_purged_total').at();
    this.immutableSkipped = r.counter('quay_log_gc_immutable_tags_skipped_total').at();
  }

  openStream(info: StreamInfo): GcStream {
    return { info, pids: new Map(), raising: undefined };
  }

  /** A job run left open by a process that is gone is neither counted nor reported: its outcome is unknown. */
  endStream(stream: GcStream): void {
    stream.pids.clear();
  }

  parse(line: string, start: number, stream = this.anonymous): LineResult {
    const py = this.py;
    if (!py.read(line, start)) {
      if (stream.raising !== undefined) this.tracebackLine(stream, stream.raising, line, start);
      if (!isTracebackContinuation(line, start)) return LineResult.Unmatched;
      if (this.fields.active) this.fields.set('kind', 'traceback');
      return LineResult.Matched;
    }
    stream.raising = undefined;
    const msg = py.message;
    const pid = this.pidGc(stream, py.pid);
    if (py.level === 'DEBUG') pid.debug = true;
    const f = this.fields;
    if (f.active) f.python(py);

    // Row deletions are the most frequent GC lines (one per row, DEBUG).
    if (this.rowDeleted.match(msg)) {
      const table = TABLE_BY_KIND[this.rowDeleted.get(0)];
      if (table !== undefined) {
        this.rows.at(table).value++;
        if (table === 'Tag') pid.rowsTag++;
        else if (table === 'Manifest') pid.rowsManifest++;
        else pid.rowsUploadedBlob++;
      }
      if (f.active) {
        this.describe('row_deleted', this.rowDeleted, ROW_DELETED, 1);
        if (table !== undefined) f.set('table', table);
        f.set('rows', 1);
      }
    } else if (py.logger === STORAGE_LOGGER && this.storageRemoving.match(msg)) {
      // Released Quay (v3.5.1 … v3.18.0): DEBUG, the location only.
      this.blobs.at('', this.storageRemoving.get(0)).value++;
      pid.blobsRemoved++;
      if (f.active) this.describe('blob_removed', this.storageRemoving, STORAGE_REMOVING, 0);
    } else if (this.blobRemoved.match(msg)) {
      // Quay's main branch since 2026-08: INFO, with the namespace (and no `Removing` line).
      this.blobs.at(this.blobRemoved.get(0), this.blobRemoved.get(1)).value++;
      pid.blobsRemoved++;
      if (f.active) this.describe('blob_removed', this.blobRemoved, BLOB_REMOVED, 0);
    } else if (this.operationRaised.match(msg)) {
      // The wrapper swallowed an exception of the running operation: apscheduler will call the run a
      // success; it was not. A namespace GC item being purged was not ("GC interrupted; will retry").
      pid.raised = true;
      pid.raisedIn = '';
      pid.namespacePending = false;
      // Which operation raised: the frame after the wrapper's `_operation_func` (joined, or on the next lines).
      stream.raising = pid;
      for (let nl = line.indexOf('\n', start); nl >= 0 && stream.raising === pid; nl = line.indexOf('\n', nl + 1)) this.tracebackLine(stream, pid, line, nl + 1);
      if (f.active) {
        f.set('kind', 'operation_raised');
        const retry = this.operationRaised.get(0);
        if (retry !== '') f.set('retry_seconds', Number(retry));
        // Known here only when a multiline stage joined the traceback to its line.
        if (pid.raisedIn !== '' && pid.raisedIn !== OPERATION_WRAPPER) f.set('operation', pid.raisedIn);
      }
    } else if (this.candidates.match(msg)) {
      const kind = CANDIDATE_KIND[this.candidates.get(1)];
      const n = Number(this.candidates.get(0));
      if (kind !== undefined && Number.isSafeInteger(n) && n > 0) this.candidatesFound.at(kind).value += n;
      if (f.active) {
        this.describe('candidates_found', this.candidates, CANDIDATES, 2);
        if (kind !== undefined) f.set('candidates', kind);
        if (Number.isSafeInteger(n)) f.set('count', n);
      }
    } else if (this.executed.match(msg)) {
      this.jobLine(this.executed.get(0), 'success', pid, stream);
    } else if (this.raised.match(msg)) {
      this.jobLine(this.raised.get(0), 'error', pid, stream);
    } else if (this.missed.match(msg)) {
      this.jobLine(this.missed.get(0), 'missed', pid, stream);
      if (f.active) f.text('missed_by', this.missed.get(1));
    } else if (this.skipped.match(msg)) {
      this.jobLine(this.skipped.get(0), 'skipped', pid, stream);
    } else if (this.purging.match(msg)) {
      this.reposPurged.value++;
      if (f.active) this.describe('repository_purging', this.purging, PURGING, 0);
    } else if (this.immutable.match(msg)) {
      this.immutableSkipped.value++;
      if (f.active) {
        // tag_id is a number field: one past 2^53 is left out, not written as text (a field's type must not vary).
        f.set('kind', 'immutable_tag_skipped');
        f.text('tag', this.immutable.get(0));
        f.text('repository', this.immutable.get(2));
        const id = Number(this.immutable.get(1));
        if (Number.isSafeInteger(id)) f.set('tag_id', id);
      }
    } else if (this.nsItem.match(msg)) {
      // Reaching the next item means the previous one was deleted (a failure raises out of the poll).
      if (pid.namespacePending) this.namespacesPurged.value++;
      pid.namespacePending = true;
      if (f.active) f.set('kind', 'namespace_gc_item');
    } else if (this.sleep.match(msg) || this.jobException.match(msg)) {
      // The item went back to the queue (lock busy) or was dropped: not purged.
      pid.namespacePending = false;
      if (f.active) {
        if (this.jobException.match(msg)) this.describe('queue_job_exception', this.jobException, JOB_EXCEPTION, 0);
        else f.set('kind', 'queue_sleep');
      }
    }
    return LineResult.Matched;
  }

  /** A traceback line of the pid's `Operation raised exception`: `  File "…", line N, in <function>`. */
  private tracebackLine(stream: GcStream, pid: PidGc, line: string, start: number): void {
    const m = FRAME.exec(line.slice(start, start + 1000));
    if (m === null) return;
    if (m[1] === OPERATION_WRAPPER) {
      pid.raisedIn = OPERATION_WRAPPER;
    } else if (pid.raisedIn === OPERATION_WRAPPER) {
      pid.raisedIn = m[1]!;
      stream.raising = undefined;
    }
  }

  private jobLine(rawJob: string, result: JobResult, pid: PidGc, stream: GcStream): void {
    // The run that raised is the pid's next run of the operation its traceback names (the process runs
    // several operations at once: QueueWorker's poll_queue, run_watchdog, …), or its next run when unknown.
    const named = pid.raisedIn !== '' && pid.raisedIn !== OPERATION_WRAPPER;
    const hit = pid.raised && (!named || rawJob.endsWith('.' + pid.raisedIn));
    if (result === 'success' && hit) result = 'error';
    if ((result === 'success' || result === 'error') && (hit || !pid.raised)) pid.raised = false;
    const job = JOB_NAME.test(rawJob) ? rawJob : 'other';
    this.jobRuns.at(job, result).value++;
    if (this.fields.active) {
      this.fields.set('kind', 'job_run');
      this.fields.text('job', rawJob);
      this.fields.set('job_result', result);
    }
    if (result === 'success' && job === GC_REPOS_JOB) this.iterations.value++;
    if (job.endsWith(POLL_QUEUE_SUFFIX) && (result === 'success' || result === 'error')) {
      // The poll ended: its last item was deleted, unless the poll raised ("GC interrupted; will retry").
      if (pid.namespacePending && result === 'success') this.namespacesPurged.value++;
      pid.namespacePending = false;
    }
    if (this.ctx.events.active) {
      const fields: Record<string, number> = { blobs_removed: pid.blobsRemoved };
      if (pid.debug) {
        fields['rows_Tag'] = pid.rowsTag;
        fields['rows_Manifest'] = pid.rowsManifest;
        fields['rows_UploadedBlob'] = pid.rowsUploadedBlob;
      }
      const logged = this.py.timeMs(); // NaN for a JSONLOG record: the time it was read instead
      this.ctx.events.emit({ measurement: 'quay_gc_run', time: Number.isNaN(logged) ? Date.now() : logged, tags: { job, result }, fields, ...eventStream(stream.info) });
    }
    pid.rowsTag = pid.rowsManifest = pid.rowsUploadedBlob = pid.blobsRemoved = 0;
  }

  /** Records out: the line's `kind` and the text captures of `p`'s last match, `names` (its fields) from `from` on. */
  private describe(kind: string, p: MessagePattern, names: readonly string[], from: number): void {
    const f = this.fields;
    f.set('kind', kind);
    for (let i = from; i < names.length; i++) f.text(names[i]!, p.get(i));
  }

  private pidGc(stream: GcStream, pid: string): PidGc {
    const pids = stream.pids;
    let p = pids.get(pid);
    if (p === undefined) {
      // Bounded: one entry per worker process seen; restarts over months stay small.
      if (pids.size >= 10_000) pids.clear();
      p = { rowsTag: 0, rowsManifest: 0, rowsUploadedBlob: 0, blobsRemoved: 0, debug: false, namespacePending: false, raised: false, raisedIn: '' };
      pids.set(own(pid), p);
    }
    return p;
  }
}

export function createGcParser(ctx: ParserContext): SourceParser<GcStream> {
  return new GcParser(ctx);
}

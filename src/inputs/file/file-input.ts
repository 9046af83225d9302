/**
 * Follows the files matched by an input's globs: reads what is appended,
 * survives rotation (rename and copytruncate), deletion and files that appear
 * late, and saves per-file offsets so a restart resumes where it stopped.
 *
 * One loop per input, every `poll_interval`: for each followed file, read
 * from its open descriptor to the end, then stat the path to see whether it
 * still leads to the same file. Reading through the descriptor (never
 * re-opening by name mid-file) is what makes a rename safe: the rest of the
 * old file is read through the descriptor we hold, then the new file from
 * byte 0. See README.md for why this is our own code and not a tail library.
 */
import { promises as fsp, type BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { InputConfig } from '../../config/schema.js';
import type { ValueSlot } from '../../metrics/series.js';
import { backlogOf, buildLinePath, flushStages, safeOffset, settleStages, tickStages, type LinePath } from '../chain.js';
import { podOfPath } from '../kubernetes.js';
import type { Input, InputDeps, LineStream } from '../types.js';
import { stateSaves, type StateSaves } from '../../state/saves.js';
import { FINGERPRINT_BYTES, fingerprint, OffsetStore, sameStart } from './state.js';

/** How long a renamed or deleted file is still read (writers that have not reopened yet). */
export const ROTATE_WAIT_MS = 5_000;
/** At most this much is read from one file per poll, so other files get their turn. */
const MAX_BYTES_PER_POLL = 256 << 20;
/** When the offsets could not be trusted: at most this much of a changed file's end is read again. */
export const RECOVERY_MAX_BYTES = 64 << 20;

type StartMode = InputConfig['start_at'];

interface Tailer {
  readonly path: string;
  readonly key: string;
  readonly fh: FileHandle;
  readonly line: LinePath;
  /** The stream its lines go to: its own, or its predecessor's when it follows a rotation. */
  readonly stream: LineStream;
  /** Next byte to read. */
  pos: number;
  size: number;
  fpLen: number;
  fp: string;
  /** When the path stopped leading here (renamed or deleted); 0 while it does. */
  rotatedAt: number;
  /** Whether the file now at the path (after a rotation) is followed. */
  successor: boolean;
  /** Partial-line timeout: the offset of the partial line and when it was first seen. */
  partialAt: number;
  partialSeen: number;
  readonly lag: ValueSlot;
}

function keyOf(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class FileInput implements Input {
  readonly name: string;
  private readonly store: OffsetStore;
  /** Followed files by identity (`dev:ino`), including rotated ones still being read. */
  private readonly tailers = new Map<string, Tailer>();
  /** The tailer each path currently leads to. */
  private readonly byPath = new Map<string, Tailer>();
  private readonly excluded: (path: string) => boolean;
  private readonly bytes: ValueSlot;
  private readonly watched: ValueSlot;
  private readonly rotRename: ValueSlot;
  private readonly rotTruncate: ValueSlot;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastScan = 0;
  private lastCheckpoint = 0;
  private readonly waitingFor = new Set<string>();
  private readonly saves: StateSaves;
  /** Paths whose file was renamed while we were down: the file now there is new, read from byte 0. */
  private readonly movedAway = new Set<string>();

  constructor(
    private readonly config: InputConfig,
    private readonly deps: InputDeps,
  ) {
    this.name = config.name ?? 'file';
    this.store = new OffsetStore(deps.stateDir, this.name);
    this.saves = stateSaves(deps.registry, deps.log);
    // Patterns without a slash match the file name, others the absolute path.
    this.excluded = config.exclude.length > 0 ? picomatch(config.exclude, { dot: true, basename: true }) : () => false;
    const r = deps.registry;
    this.bytes = r.counter('quay_log_exporter_input_bytes_total').at(this.name);
    this.watched = r.gauge('quay_log_exporter_files_watched').at();
    this.rotRename = r.counter('quay_log_exporter_rotations_total').at(this.name, 'rename');
    this.rotTruncate = r.counter('quay_log_exporter_rotations_total').at(this.name, 'truncate');
    // Fail at construction on a bad multiline/framing config, not at the first file.
    buildLinePath(config, () => {}, r);
  }

  async start(): Promise<void> {
    await this.store.load((msg, fields) => this.deps.log.warn(msg, { input: this.name, ...fields }));
    if (this.config.start_at.startsWith('saved')) await this.resumeRotatedWhileDown();
    await this.scan(this.config.start_at);
    const now = Date.now();
    this.lastScan = now;
    this.lastCheckpoint = now;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.loop;
    this.stopping = true;
    this.wake?.();
    await this.loop;
    try {
      // Everything written before stop: the followed files, a successor of a
      // rotation not seen yet, files that appeared since the last scan.
      await this.pollAll();
      await this.scan('saved-or-beginning');
      await this.pollAll();
      for (const t of this.tailers.values()) flushStages(t.line);
      for (const t of this.tailers.values()) await settleStages(t.line);
      await this.checkpoint();
    } catch (err) {
      this.deps.log.error('input stop failed', { input: this.name, error: (err as Error).message });
    }
    for (const t of [...this.tailers.values()]) await this.close(t);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.pollAll();
        const now = Date.now();
        if (now - this.lastScan >= this.config.rescan_interval) {
          this.lastScan = now;
          await this.scan('saved-or-beginning');
        }
        await this.maybeCheckpoint();
      } catch (err) {
        this.deps.log.error('input poll failed', { input: this.name, error: (err as Error).message });
      }
      if (this.stopping) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.poll_interval);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * A file renamed while we were not running (crash, OOM, node drain) whose
   * new name the globs do not match (`quay.log` → `quay.log.1`, kubelet's
   * `0.log` → `0.log.<timestamp>`): look for its identity beside its old path
   * (same directory, any name) and read its unread rest, before scan() follows
   * the new file at the old path from byte 0. Only files with a saved offset
   * are looked for, so this reads nothing the state does not say was unread.
   */
  private async resumeRotatedWhileDown(): Promise<void> {
    const listed = new Map<string, string[]>();
    for (const saved of this.store.entries()) {
      const now = await this.statPath(saved.path);
      if (now !== undefined && keyOf(now) === saved.key) continue; // still at its path: scan() resumes it
      if (this.tailers.has(saved.key)) continue;
      const dir = dirname(saved.path);
      let names = listed.get(dir);
      if (names === undefined) {
        names = await fsp.readdir(dir).catch(() => []);
        listed.set(dir, names);
      }
      for (const name of names) {
        const path = join(dir, name);
        if (path === saved.path || this.excluded(path)) continue;
        const st = await this.statPath(path).catch(() => undefined);
        if (st === undefined || !st.isFile() || keyOf(st) !== saved.key || Number(st.size) <= saved.offset) continue;
        const t = await this.follow(path, 'saved-or-end'); // the saved offset when the fingerprint agrees, else its end: nothing guessed
        if (!t) break;
        this.movedAway.add(saved.path);
        this.rotRename.value++;
        this.deps.log.info('reading the rest of a file rotated while stopped', { input: this.name, path, was: saved.path, offset: t.pos });
        while (t.pos < t.size) {
          const before = t.pos;
          await this.readAvailable(t);
          if (t.pos === before) break;
        }
        // From here on it is a rotated file: read to its end for ROTATE_WAIT_MS, then released.
        t.rotatedAt = Date.now();
        t.successor = true;
        if (this.byPath.get(path) === t) this.byPath.delete(path);
        break;
      }
    }
  }

  /** Find files matching the globs that are not followed yet. */
  private async scan(mode: StartMode): Promise<void> {
    const paths = await glob(this.config.paths, { absolute: true, onlyFiles: true, dot: true });
    const found = new Set(paths);
    for (const p of this.config.paths.map((p) => resolve(p))) {
      if (!isDynamicPattern(p) && !found.has(p) && !this.waitingFor.has(p)) {
        this.waitingFor.add(p);
        this.deps.log.info('waiting for file', { input: this.name, path: p });
      }
    }
    for (const path of paths) {
      if (this.byPath.has(path) || this.excluded(path)) continue;
      await this.follow(path, mode);
    }
  }

  /** Start following the file now at `path`, from the offset `mode` says. */
  private async follow(path: string, mode: StartMode): Promise<Tailer | undefined> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(path, 'r');
    } catch (err) {
      if (!isMissing(err)) this.deps.log.warn('cannot open file', { input: this.name, path, error: (err as Error).message });
      return undefined;
    }
    const st = await fh.stat({ bigint: true });
    const key = keyOf(st);
    if (this.tailers.has(key) || !st.isFile()) {
      // Another path to a file already followed (a symlink, or the renamed old file).
      await fh.close();
      return undefined;
    }
    const size = Number(st.size);
    const offset = await this.startOffset(path, key, fh, size, mode);
    const fp = await fingerprint(fh, size);
    // The file now at a rotated file's path continues its writer's stream (a rotation
    // does not end a process); any other file is a stream of its own.
    let stream: LineStream | undefined;
    for (const old of this.tailers.values()) {
      if (old.path === path && old.rotatedAt !== 0 && !old.successor) {
        old.successor = true;
        stream = old.stream;
      }
    }
    if (stream === undefined) {
      const pod = podOfPath(path);
      stream = this.deps.open(pod ? { id: `file:${key}`, pod: pod.pod, namespace: pod.namespace } : { id: `file:${key}` });
    }
    const line = (this.deps.linePath ?? buildLinePath)(this.config, stream.line, this.deps.registry);
    line.splitter.reset(offset);
    const t: Tailer = {
      path,
      key,
      fh,
      line,
      stream,
      pos: offset,
      size,
      fpLen: fp.fpLen,
      fp: fp.fp,
      rotatedAt: 0,
      successor: false,
      partialAt: -1,
      partialSeen: 0,
      lag: this.deps.registry.gauge('quay_log_exporter_input_lag_bytes').at(path),
    };
    this.tailers.set(key, t);
    this.byPath.set(path, t);
    this.waitingFor.delete(path);
    this.watched.value++;
    this.deps.log.info('following file', { input: this.name, path, offset });
    return t;
  }

  private async startOffset(path: string, key: string, fh: FileHandle, size: number, mode: StartMode): Promise<number> {
    if (mode === 'beginning') return 0;
    if (mode === 'end') return size;
    const saved = this.store.get(key);
    if (saved !== undefined && (await sameStart(fh, size, saved.fpLen, saved.fp))) {
      if (saved.offset <= size) return saved.offset;
      this.rotTruncate.value++; // copytruncate while we were not running
      return 0;
    }
    if (mode === 'saved-or-beginning') return 0;
    // saved-or-end. A file at a path we followed before is the successor of a
    // rotation that happened while we were down: it is new, read it all.
    if (this.store.knowsPath(path) || this.movedAway.has(path)) return 0;
    // The offsets could not be trusted: a file changed after the state was written may hold
    // lines we never read. Safe side: read it again from its start, at most its last RECOVERY_MAX_BYTES.
    const since = this.store.unreadableSince;
    if (since !== undefined && (await fh.stat()).mtimeMs > since) return this.lineStartFrom(fh, Math.max(0, size - RECOVERY_MAX_BYTES));
    return size;
  }

  /** The first line start at or after `pos` (so a bounded re-read does not begin mid-line). */
  private async lineStartFrom(fh: FileHandle, pos: number): Promise<number> {
    if (pos === 0) return 0;
    const buf = Buffer.allocUnsafe(64 * 1024);
    let at = pos - 1; // the byte before pos: a newline there means pos starts a line
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead === 0) return at;
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0) return at + nl + 1;
      at += bytesRead;
    }
  }

  private async pollAll(): Promise<void> {
    const now = Date.now();
    for (const t of [...this.tailers.values()]) {
      try {
        await this.pollOne(t, now);
      } catch (err) {
        if (isMissing(err)) continue;
        this.deps.log.warn('read failed', { input: this.name, path: t.path, error: (err as Error).message });
      }
    }
  }

  private async pollOne(t: Tailer, now: number): Promise<void> {
    await this.readAvailable(t);
    if (t.rotatedAt === 0) {
      const st = await this.statPath(t.path);
      if (st === undefined || keyOf(st) !== t.key) {
        // Renamed or deleted: read what was written before, then the successor from byte 0.
        await this.readAvailable(t);
        t.rotatedAt = now;
        if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
        if (st !== undefined) {
          this.rotRename.value++;
          this.deps.log.info('file rotated', { input: this.name, path: t.path });
        }
      }
    }
    if (t.rotatedAt !== 0) {
      if (!t.successor && !this.byPath.has(t.path)) {
        const next = await this.statPath(t.path);
        if (next !== undefined && keyOf(next) !== t.key) {
          // follow() marks t as having a successor and hands it t's stream.
          const nt = await this.follow(t.path, 'saved-or-beginning');
          if (nt) await this.readAvailable(nt);
        }
      }
      if (this.stopping || now - t.rotatedAt >= ROTATE_WAIT_MS) {
        await this.readAvailable(t);
        await this.release(t);
        return;
      }
    }
    // A partial last line is handed over once it has waited partial_line_timeout.
    const sp = t.line.splitter;
    if (sp.hasPartial) {
      const at = sp.consumed;
      if (at !== t.partialAt) {
        t.partialAt = at;
        t.partialSeen = now;
      } else if (now - t.partialSeen >= this.config.partial_line_timeout) {
        sp.flushPartial();
        t.partialAt = -1;
      }
    }
    tickStages(t.line, now);
  }

  private async statPath(path: string): Promise<BigIntStats | undefined> {
    try {
      return await fsp.stat(path, { bigint: true });
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** Read from the descriptor to the current end of the file. */
  private async readAvailable(t: Tailer): Promise<void> {
    const st = await t.fh.stat();
    t.size = st.size;
    if (st.size < t.pos) await this.truncated(t);
    const sp = t.line.splitter;
    let budget = MAX_BYTES_PER_POLL;
    while (budget > 0) {
      const { bytesRead } = await t.fh.read(sp.buf, sp.fill, sp.space, t.pos);
      if (bytesRead === 0) break;
      t.pos += bytesRead;
      budget -= bytesRead;
      this.bytes.value += bytesRead;
      sp.commit(bytesRead);
      const backlog = backlogOf(t.line);
      if (backlog !== undefined) await backlog;
      await this.maybeCheckpoint(false);
    }
    if (t.pos > t.size) t.size = t.pos;
    t.lag.value = t.size - t.pos;
  }

  /** copytruncate (or any truncation): hand over what was held, then read from 0. */
  private async truncated(t: Tailer): Promise<void> {
    this.rotTruncate.value++;
    this.deps.log.info('file truncated', { input: this.name, path: t.path });
    t.line.splitter.flushPartial();
    flushStages(t.line);
    await settleStages(t.line);
    t.pos = 0;
    t.line.splitter.reset(0);
    const fp = await fingerprint(t.fh, t.size);
    t.fpLen = fp.fpLen;
    t.fp = fp.fp;
  }

  private async maybeCheckpoint(verify = true): Promise<void> {
    if (Date.now() - this.lastCheckpoint >= this.config.checkpoint_interval) await this.checkpoint(verify);
  }

  /**
   * Save every followed file's safe offset (nothing past a line not yet handed
   * over). `verify` also checks the fingerprints; not done mid-read.
   */
  private async checkpoint(verify = true): Promise<void> {
    const now = Date.now();
    this.lastCheckpoint = now;
    for (const t of [...this.tailers.values()]) {
      if (verify && t.rotatedAt === 0) {
        if (!(await sameStart(t.fh, t.size, t.fpLen, t.fp))) {
          // Truncated and rewritten past our offset between two polls.
          await this.truncated(t);
        } else if (t.fpLen < FINGERPRINT_BYTES && t.size > t.fpLen) {
          const fp = await fingerprint(t.fh, t.size);
          t.fpLen = fp.fpLen;
          t.fp = fp.fp;
        }
      }
      this.saveEntry(t, now);
    }
    this.store.prune(now - this.config.forget_after, (key) => this.tailers.has(key));
    try {
      await this.store.write();
      this.saves.saved(this.store.path);
    } catch (err) {
      this.saves.failed(this.store.path, err);
    }
  }

  private saveEntry(t: Tailer, now: number): void {
    this.store.set({ path: t.path, key: t.key, fpLen: t.fpLen, fp: t.fp, offset: safeOffset(t.line), updated: now });
  }

  /** A rotated or deleted file: hand over all it held and stop following it. */
  private async release(t: Tailer): Promise<void> {
    t.line.splitter.flushPartial();
    flushStages(t.line);
    await settleStages(t.line);
    this.saveEntry(t, Date.now());
    // Deleted with nothing after it (a container gone): what its lines left open ends here.
    // Not on stop(): the writer goes on without us.
    if (!t.successor && !this.stopping) t.stream.end();
    await this.close(t);
  }

  private async close(t: Tailer): Promise<void> {
    if (!this.tailers.delete(t.key)) return;
    if (this.byPath.get(t.path) === t) this.byPath.delete(t.path);
    t.lag.value = 0;
    // A path nothing leads to any more (a pod gone) keeps no lag series; one still followed keeps its own.
    if (!this.stopping && !this.byPath.has(t.path)) this.deps.registry.gauge('quay_log_exporter_input_lag_bytes').drop(t.lag);
    this.watched.value--;
    await t.fh.close().catch(() => {});
  }
}

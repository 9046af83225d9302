/**
 * Saved read offsets of one input, one JSON document in `state_dir`
 * (`offsets-<input>.json`), replaced atomically: write a temp file, fsync it,
 * rename it over the old one, fsync the directory. A crash leaves either the
 * old or the new document, never a torn one.
 *
 * A file is known by device + inode + fingerprint. The fingerprint is the
 * SHA-256 of the file's first `fpLen` bytes, fpLen = min(size, 256) when it
 * was taken. An inode reused by a new file has other first bytes (or fewer of
 * them), so it is not mistaken for the old one. A file shorter than 256
 * bytes is fingerprinted on what it has and retaken at each checkpoint while
 * it grows; its saved offset is then at most fpLen, so a new file that merely
 * starts with the same few bytes is resumed at most at the end of those
 * identical bytes, never past bytes that differ.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../state/atomic.js';

export const FINGERPRINT_BYTES = 256;

export interface FileIdentity {
  /** `<dev>:<ino>` (decimal; bigint-safe). */
  readonly key: string;
  /** Bytes the fingerprint covers. */
  fpLen: number;
  /** Hex SHA-256 of the first fpLen bytes. */
  fp: string;
}

export interface SavedFile {
  path: string;
  key: string;
  fpLen: number;
  fp: string;
  offset: number;
  /** ms since epoch; entries of files no longer followed are pruned after a while. */
  updated: number;
}

interface StateDoc {
  version: 1;
  input: string;
  files: SavedFile[];
}

export async function fingerprint(fh: FileHandle, size: number, scratch: Buffer = Buffer.allocUnsafe(FINGERPRINT_BYTES)): Promise<{ fpLen: number; fp: string }> {
  const want = Math.min(size, FINGERPRINT_BYTES);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await fh.read(scratch, got, want - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return { fpLen: got, fp: createHash('sha256').update(scratch.subarray(0, got)).digest('hex') };
}

/** Whether the open file still starts with the saved fingerprint's bytes. */
export async function sameStart(fh: FileHandle, size: number, fpLen: number, fp: string): Promise<boolean> {
  if (size < fpLen) return false; // fewer bytes than were fingerprinted: not that file any more
  const now = await fingerprint(fh, fpLen);
  return now.fpLen === fpLen && now.fp === fp;
}

export class OffsetStore {
  readonly path: string;
  private readonly tmp: string;
  private saved = new Map<string, SavedFile>();
  private lastWritten = '';
  /**
   * Set when a state file existed but could not be trusted (corrupt, truncated,
   * an unknown layout or bad entries): its mtime, so files changed after it are
   * read again from their start (within a bound) instead of from their end.
   */
  unreadableSince: number | undefined;

  constructor(
    private readonly dir: string,
    private readonly input: string,
  ) {
    this.path = join(dir, `offsets-${input}.json`);
    this.tmp = `${this.path}.tmp`;
  }

  /**
   * Load the saved offsets. A missing file is an empty state (a first start).
   * A file that is there but cannot be trusted is always warned about and
   * marks the state unreadable (see unreadableSince); a path that is a
   * directory is an error naming it.
   */
  async load(warn: (msg: string, fields: Record<string, unknown>) => void): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    let text: string;
    let mtime: number;
    try {
      const st = await fsp.stat(this.path);
      if (st.isDirectory()) throw new StateFileError(`the offsets file ${this.path} is a directory; remove it or set another state_dir`);
      mtime = st.mtimeMs;
      text = await fsp.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (err instanceof StateFileError) throw err;
      throw new StateFileError(`cannot read the offsets file ${this.path}: ${(err as Error).message}`);
    }
    const problem = (why: string, extra: Record<string, unknown> = {}) => {
      this.unreadableSince = mtime;
      warn('offset state unreadable: files changed since it was written are read again from their start (bounded)', { path: this.path, problem: why, ...extra });
    };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      problem(text.length === 0 ? 'empty file' : `not JSON (${(err as Error).message})`, { bytes: text.length });
      return;
    }
    const d = doc as Partial<StateDoc> | null;
    if (typeof d !== 'object' || d === null || Array.isArray(d) || d.version !== 1 || !Array.isArray(d.files)) {
      problem('unknown layout (expected {version: 1, files: [...]})');
      return;
    }
    let bad = 0;
    for (const f of d.files as unknown[]) {
      const e = f as Partial<SavedFile> | null;
      if (
        typeof e === 'object' && e !== null &&
        typeof e.key === 'string' && typeof e.path === 'string' && typeof e.fp === 'string' &&
        Number.isSafeInteger(e.fpLen) && e.fpLen! >= 0 && Number.isSafeInteger(e.offset) && e.offset! >= 0
      ) {
        this.saved.set(e.key, { updated: Date.now(), ...e } as SavedFile);
      } else bad++;
    }
    if (bad > 0) problem(`${bad} of ${d.files.length} entries are not valid`);
  }

  entries(): SavedFile[] {
    return [...this.saved.values()];
  }

  get(key: string): SavedFile | undefined {
    return this.saved.get(key);
  }

  /** Whether some file was followed at this path before (by any identity). */
  knowsPath(path: string): boolean {
    for (const f of this.saved.values()) if (f.path === path) return true;
    return false;
  }

  set(entry: SavedFile): void {
    this.saved.set(entry.key, entry);
  }

  /** Drop entries not updated since `before` (files released long ago). */
  prune(before: number, keep: (key: string) => boolean): void {
    for (const [key, f] of this.saved) if (f.updated < before && !keep(key)) this.saved.delete(key);
  }

  /** Write the state if it changed (atomically, temp file created exclusively). Throws when it cannot. */
  async write(): Promise<void> {
    const doc: StateDoc = { version: 1, input: this.input, files: [...this.saved.values()] };
    const text = JSON.stringify(doc, (k, v) => (k === 'updated' ? undefined : v));
    if (text === this.lastWritten) return;
    await writeFileAtomic(this.path, JSON.stringify(doc));
    this.lastWritten = text;
  }
}

/** The state file cannot be used at all (a directory, unreadable): start-up stops with this message. */
export class StateFileError extends Error {
  override name = 'StateFileError';
}

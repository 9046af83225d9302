/**
 * Replace a state file atomically and safely: write a temp file beside it,
 * created exclusively (O_CREAT|O_EXCL: a symlink or file planted at the temp
 * name is never followed or reused; a stale one from a crash is unlinked
 * first, which removes a symlink itself, not its target), fsync it, rename it
 * over the old file, fsync the directory. A crash leaves the old or the new
 * document, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export function writeFileAtomicSync(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.tmp`;
  unlinkIfThere(tmp);
  const fd = openSync(tmp, EXCLUSIVE, mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirSync(dirname(path));
}

export async function writeFileAtomic(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp`;
  await fsp.unlink(tmp).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  const fh = await fsp.open(tmp, EXCLUSIVE, mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  try {
    const dir = await fsp.open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // best effort: not every filesystem allows fsync on a directory
  }
}

function syncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort
  }
}

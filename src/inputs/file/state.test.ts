/**
 * The offsets file on its own, with real files in a temp dir: fingerprints, what a state file that
 * cannot be trusted does, entries checked one by one, prune, and writes only on change.
 */
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINGERPRINT_BYTES, fingerprint, OffsetStore, sameStart, StateFileError, type SavedFile } from './state.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const dir = () => mkdtempSync(join(tmpdir(), 'qle-state-'));

describe('fingerprint', () => {
  it('the SHA-256 of the first min(size, 256) bytes', async () => {
    const d = dir();
    const text = 'x'.repeat(300);
    writeFileSync(join(d, 'f'), text);
    const fh = await open(join(d, 'f'), 'r');
    try {
      expect(FINGERPRINT_BYTES).toBe(256);
      expect(await fingerprint(fh, 300)).toEqual({ fpLen: 256, fp: sha(text.slice(0, 256)) });
      expect(await fingerprint(fh, 10)).toEqual({ fpLen: 10, fp: sha(text.slice(0, 10)) });
      expect(await fingerprint(fh, 0)).toEqual({ fpLen: 0, fp: sha('') });
      // a size larger than the file (it shrank): what is there
      writeFileSync(join(d, 'g'), 'abc');
      const g = await open(join(d, 'g'), 'r');
      expect(await fingerprint(g, 100)).toEqual({ fpLen: 3, fp: sha('abc') });
      await g.close();
    } finally {
      await fh.close();
    }
  });

  it('sameStart: same first bytes yes; other bytes, or fewer bytes than fingerprinted, no', async () => {
    const d = dir();
    writeFileSync(join(d, 'f'), 'hello world');
    const fh = await open(join(d, 'f'), 'r');
    try {
      expect(await sameStart(fh, 11, 5, sha('hello'))).toBe(true);
      expect(await sameStart(fh, 11, 5, sha('world'))).toBe(false);
      // size 4 < fpLen 5: not that file any more, whatever its bytes
      expect(await sameStart(fh, 4, 5, sha('hello'))).toBe(false);
      // exactly fpLen bytes: compared
      expect(await sameStart(fh, 5, 5, sha('hello'))).toBe(true);
    } finally {
      await fh.close();
    }
  });
});

describe('OffsetStore', () => {
  const entry = (over: Partial<SavedFile> = {}): SavedFile => ({ path: '/var/log/a.log', key: '1:2', fpLen: 3, fp: sha('abc'), offset: 10, updated: 1000, ...over });

  it('a first start: no file, nothing known, the directory made', async () => {
    const d = join(dir(), 'sub', 'state');
    const store = new OffsetStore(d, 'files');
    const warnings: string[] = [];
    await store.load((m) => void warnings.push(m));
    expect(store.path).toBe(join(d, 'offsets-files.json'));
    expect(statSync(d).isDirectory()).toBe(true);
    expect([store.entries(), warnings, store.unreadableSince]).toEqual([[], [], undefined]);
  });

  it('writes atomically and reads back what it wrote; knowsPath by path; a second write of the same state writes nothing', async () => {
    const d = dir();
    const store = new OffsetStore(d, 'in');
    store.set(entry());
    store.set(entry({ key: '1:3', path: '/var/log/b.log', offset: 0 }));
    await store.write();
    const doc = JSON.parse(readFileSync(store.path, 'utf8')) as { version: number; input: string; files: SavedFile[] };
    expect([doc.version, doc.input, doc.files.map((f) => [f.key, f.offset])]).toEqual([1, 'in', [['1:2', 10], ['1:3', 0]]]);
    const mtime = statSync(store.path).mtimeMs;
    // only `updated` changed: not written again
    store.set(entry({ updated: 99_999 }));
    await new Promise((r) => setTimeout(r, 20));
    await store.write();
    expect(statSync(store.path).mtimeMs).toBe(mtime);
    // an offset changed: written
    store.set(entry({ offset: 11 }));
    await store.write();
    expect((JSON.parse(readFileSync(store.path, 'utf8')) as { files: SavedFile[] }).files[0]!.offset).toBe(11);

    const again = new OffsetStore(d, 'in');
    const warned: string[] = [];
    await again.load((m) => void warned.push(m));
    // a good state: no warning, not marked unreadable
    expect([warned, again.unreadableSince]).toEqual([[], undefined]);
    expect(again.get('1:2')).toMatchObject({ path: '/var/log/a.log', offset: 11, fpLen: 3 });
    expect([again.knowsPath('/var/log/b.log'), again.knowsPath('/var/log/c.log')]).toEqual([true, false]);
    expect(again.get('9:9')).toBeUndefined();
  });

  it('prune drops entries older than the bound unless kept', () => {
    const store = new OffsetStore(dir(), 'in');
    store.set(entry({ key: 'old', updated: 100 }));
    store.set(entry({ key: 'old-kept', updated: 100 }));
    store.set(entry({ key: 'edge', updated: 500 }));
    store.set(entry({ key: 'new', updated: 900 }));
    store.prune(500, (k) => k === 'old-kept');
    // updated < 500 and not kept: only "old"
    expect(store.entries().map((e) => e.key)).toEqual(['old-kept', 'edge', 'new']);
  });

  // [file content, the problem named] worked out from load()
  const untrusted: [string, string][] = [
    ['', 'empty file'],
    ['{"version":1,', 'not JSON'],
    ['null', 'unknown layout'],
    ['[]', 'unknown layout'],
    ['{"version":2,"files":[]}', 'unknown layout'],
    ['{"version":1,"files":{}}', 'unknown layout'],
    ['{"version":1}', 'unknown layout'],
  ];
  it.each(untrusted)('a state file %j is not trusted (%s): warned, marked with its mtime, nothing loaded', async (text, problem) => {
    const d = dir();
    const store = new OffsetStore(d, 'in');
    writeFileSync(store.path, text);
    const warned: Record<string, unknown>[] = [];
    await store.load((msg, fields) => void warned.push({ msg, ...fields }));
    expect(store.entries()).toEqual([]);
    expect(store.unreadableSince).toBe(statSync(store.path).mtimeMs);
    expect(warned).toHaveLength(1);
    expect(String(warned[0]!['problem'])).toContain(problem);
    expect(warned[0]!['msg']).toBe('offset state unreadable: files changed since it was written are read again from their start (bounded)');
  });

  it('bad entries are skipped and counted; good ones kept', async () => {
    const d = dir();
    const store = new OffsetStore(d, 'in');
    const good = { path: '/p', key: 'k', fpLen: 0, fp: sha(''), offset: 0 };
    const files = [
      good,
      null,
      'x',
      { ...good, key: 1 },
      { ...good, path: undefined },
      { ...good, fp: 5 },
      { ...good, fpLen: -1 },
      { ...good, fpLen: 1.5 },
      { ...good, offset: -1 },
      { ...good, offset: 2 ** 53 },
      { ...good, key: 'k2', offset: 7, fpLen: 256 },
    ];
    writeFileSync(store.path, JSON.stringify({ version: 1, input: 'in', files }));
    const warned: string[] = [];
    await store.load((_m, f) => void warned.push(String(f['problem'])));
    // 11 entries: 2 good, 9 bad
    expect(store.entries().map((e) => [e.key, e.offset])).toEqual([['k', 0], ['k2', 7]]);
    expect(warned).toEqual(['9 of 11 entries are not valid']);
    expect(store.unreadableSince).toBeDefined();
  });

  it('a state path that is a directory stops the start with a message naming it', async () => {
    const d = dir();
    const store = new OffsetStore(d, 'in');
    mkdirSync(store.path);
    await expect(store.load(() => {})).rejects.toThrow(new StateFileError(`the offsets file ${store.path} is a directory; remove it or set another state_dir`));
    await expect(store.load(() => {})).rejects.toMatchObject({ name: 'StateFileError' });
  });
});

/**
 * Fault tests of the file input on real files: rotation, truncation,
 * deletion, late files, huge files and lines, garbage, restarts.
 * Every wait polls a condition with a deadline; no fixed sleeps.
 */
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inputSchema, type InputConfig } from '../../config/schema.js';
import { silentLogger } from '../../log.js';
import { MetricRegistry } from '../../metrics/series.js';
import { createInput } from '../index.js';
import { oneHandler, type Input } from '../types.js';

const root = mkdtempSync(join(tmpdir(), 'qle-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const running: Input[] = [];
afterEach(async () => {
  for (const i of running.splice(0)) await i.stop();
});

let dirs = 0;
function freshDir(): string {
  const d = join(root, `t${dirs++}`);
  mkdirSync(d);
  return d;
}

interface Harness {
  input: Input;
  lines: string[];
  registry: MetricRegistry;
}

/** An input with fast polls (tests wait on conditions, so speed only shortens them). */
async function follow(dir: string, extra: Record<string, unknown> = {}, registry = new MetricRegistry()): Promise<Harness> {
  const config: InputConfig = {
    ...inputSchema.parse({
      type: 'file',
      paths: [join(dir, '*.log')],
      poll_interval: '20ms',
      rescan_interval: '100ms',
      checkpoint_interval: '100ms',
      source: 'nginx',
      ...extra,
    }),
    name: 'test',
  };
  const lines: string[] = [];
  const input = createInput(config, { open: oneHandler((l) => lines.push(l)), registry, stateDir: join(dir, 'state'), log: silentLogger });
  running.push(input);
  await input.start();
  return { input, lines, registry };
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function stop(h: Harness): Promise<void> {
  running.splice(running.indexOf(h.input), 1);
  await h.input.stop();
}

const numbered = (from: number, to: number, tag = 'line') => {
  let s = '';
  for (let i = from; i < to; i++) s += `${tag} ${i}\n`;
  return s;
};

function expectEachOnce(lines: string[], n: number, tag = 'line'): void {
  const want = Array.from({ length: n }, (_, i) => `${tag} ${i}`);
  expect([...lines].sort()).toEqual(want.sort());
}

const rotations = (r: MetricRegistry, kind: string) => r.counter('quay_log_exporter_rotations_total').at('test', kind).value;

describe('file input', () => {
  it('rotation by rename while a writer is writing: every line once', async () => {
    const dir = freshDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, '');
    const h = await follow(dir, { start_at: 'beginning' });
    // 2000 lines in batches of 20; the file is renamed away after line 1000
    // and the writer goes on at the same path (logrotate `create`).
    for (let i = 0; i < 2000; i += 20) {
      if (i === 1000) renameSync(file, join(dir, 'app.log.1'));
      appendFileSync(file, numbered(i, i + 20));
      // Let the reader catch up now and then, so the rename lands mid-reading.
      if (i % 200 === 180) await until(`line ${i - 180}`, () => h.lines.length > i - 180);
    }
    await until('2000 lines', () => h.lines.length >= 2000);
    expectEachOnce(h.lines, 2000);
    expect(rotations(h.registry, 'rename')).toBe(1);
  });

  it('copytruncate: detected, the file is read again from byte 0', async () => {
    const dir = freshDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, numbered(0, 100));
    const h = await follow(dir, { start_at: 'beginning' });
    await until('100 lines', () => h.lines.length === 100);
    truncateSync(file, 0);
    appendFileSync(file, numbered(0, 50, 'new')); // 50 × ~7 bytes: smaller than the old offset
    await until('150 lines', () => h.lines.length === 150);
    // 100 old + 50 new, none repeated.
    expect(h.lines.slice(100)).toEqual(numbered(0, 50, 'new').trimEnd().split('\n'));
    expect(rotations(h.registry, 'truncate')).toBe(1);
  });

  it('delete and recreate: the old file is released, the new one read from 0', async () => {
    const dir = freshDir();
    const file = join(dir, 'app.log');
    writeFileSync(file, numbered(0, 10));
    const h = await follow(dir, { start_at: 'beginning' });
    const watched = h.registry.gauge('quay_log_exporter_files_watched').at();
    await until('10 lines', () => h.lines.length === 10);
    expect(watched.value).toBe(1);
    unlinkSync(file);
    writeFileSync(file, numbered(10, 15));
    await until('15 lines', () => h.lines.length === 15);
    // The deleted file is held for the rotate wait (5 s) beside its successor, then let go: 2, then 1.
    await until('the successor followed beside the deleted file', () => watched.value === 2);
    await until('old file released', () => watched.value === 1);
    // Releasing it handed over nothing more: 10 old + 5 new, each once.
    expectEachOnce(h.lines, 15);
  });

  it('a file missing at start is waited for, then read from byte 0', async () => {
    const dir = freshDir();
    const h = await follow(dir); // default start_at saved-or-end; nothing there yet
    expect(h.lines).toEqual([]);
    writeFileSync(join(dir, 'late.log'), 'one\ntwo\nthree\n');
    await until('3 lines', () => h.lines.length === 3);
    expect(h.lines).toEqual(['one', 'two', 'three']);
  });

  it('reads a file of 1e6 lines exactly', async () => {
    const dir = freshDir();
    const fd = openSync(join(dir, 'big.log'), 'w');
    for (let i = 0; i < 1_000_000; i += 10_000) writeSync(fd, numbered(i, i + 10_000));
    closeSync(fd);
    const r = new MetricRegistry();
    let count = 0;
    let last = '';
    const config: InputConfig = { ...inputSchema.parse({ paths: [join(dir, '*.log')], start_at: 'beginning', poll_interval: '20ms' }), name: 'test' };
    const input = createInput(config, { open: oneHandler((l) => { count++; last = l; }), registry: r, stateDir: join(dir, 'state'), log: silentLogger });
    running.push(input);
    await input.start();
    await until('1e6 lines', () => count >= 1_000_000, 20_000);
    expect(count).toBe(1_000_000);
    expect(last).toBe('line 999999');
  });

  it('a 5 MiB line is cut to max_line_bytes once and counted; the next line is intact', async () => {
    const dir = freshDir();
    const file = join(dir, 'huge.log');
    writeFileSync(file, '');
    const h = await follow(dir, { start_at: 'beginning' });
    const fd = openSync(file, 'a');
    const piece = Buffer.alloc(256 * 1024, 0x7a);
    for (let i = 0; i < 20; i++) writeSync(fd, piece); // 20 × 256 KiB = 5 MiB
    writeSync(fd, '\nafter\n');
    closeSync(fd);
    await until('2 lines', () => h.lines.length === 2);
    expect(h.lines[0]!.length).toBe(1024 * 1024);
    expect(h.lines[1]).toBe('after');
    expect(h.registry.counter('quay_log_exporter_lines_truncated_total').at().value).toBe(1);
  });

  it('random binary garbage between valid lines: every valid line arrives, garbage counts as lines', async () => {
    const dir = freshDir();
    const file = join(dir, 'mixed.log');
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    const parts: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      parts.push(Buffer.from(`valid ${i}\n`));
      const junk = Buffer.from(Array.from({ length: 1 + (i % 50) }, () => rnd() || 1).map((b) => (b === 10 ? 0 : b)));
      parts.push(junk, Buffer.from('\n'));
    }
    writeFileSync(file, Buffer.concat(parts));
    const h = await follow(dir, { start_at: 'beginning' });
    // 200 valid + 200 garbage lines (garbage has no 0x0A) = 400
    await until('400 lines', () => h.lines.length === 400);
    expect(h.lines.filter((_, i) => i % 2 === 0)).toEqual(Array.from({ length: 200 }, (_, i) => `valid ${i}`));
  });

  it('cri framing on a followed file joins partials', async () => {
    const dir = freshDir();
    const file = join(dir, 'pod.log');
    writeFileSync(file, '');
    const h = await follow(dir, { start_at: 'beginning', framing: 'cri' });
    appendFileSync(file, '2026-11-22T10:15:32.1Z stdout P first half, \n');
    appendFileSync(file, '2026-11-22T10:15:32.2Z stdout F second half\n2026-11-22T10:15:32.3Z stderr F alone\n');
    await until('2 lines', () => h.lines.length === 2);
    expect(h.lines).toEqual(['first half, second half', 'alone']);
  });

  it('docker framing on a followed file joins partials', async () => {
    const dir = freshDir();
    const file = join(dir, 'ctr.log');
    writeFileSync(file, '');
    const h = await follow(dir, { start_at: 'beginning', framing: 'docker' });
    appendFileSync(file, '{"log":"abc","stream":"stdout","time":"t"}\n');
    appendFileSync(file, '{"log":"def\\n","stream":"stdout","time":"t"}\n');
    await until('1 line', () => h.lines.length === 1);
    expect(h.lines).toEqual(['abcdef']);
  });

  it('python tracebacks of two interleaved supervisord programs, followed live', async () => {
    const dir = freshDir();
    const file = join(dir, 'quay.log');
    writeFileSync(file, '');
    // A timeout no test run reaches: each event ends because its program's next record starts.
    const h = await follow(dir, { start_at: 'beginning', source: 'supervisord', multiline: { preset: 'python-traceback', timeout: '1h' } });
    const a = 'gcworker stdout | ';
    const b = 'securityworker stderr | ';
    // Records as Quay writes them (a Python header starts a record; an exception's text may go on over
    // lines that do not start one).
    const t = '2023-09-05 12:00:00,000 [88] ';
    appendFileSync(file, [`${a}${t}[ERROR] [gc] gc failed`, `${b}${t}[ERROR] [scan] scan failed`, `${a}Traceback (most recent call last):`, `${b}Traceback (most recent call last):`,
      `${a}  File "gc.py", line 1, in run`, `${b}  File "scan.py", line 2, in run`, `${a}KeyError: 'x'`, `${b}OSError: disk`].join('\n') + '\n');
    // Each program's next record closes its event; the two new records stay held (1 h timeout).
    appendFileSync(file, `${b}${t}[INFO] [scan] scan again\n${a}${t}[INFO] [gc] gc again\n`);
    await until('2 events', () => h.lines.length === 2);
    expect([...h.lines].sort()).toEqual([
      `${a}${t}[ERROR] [gc] gc failed\nTraceback (most recent call last):\n  File "gc.py", line 1, in run\nKeyError: 'x'`,
      `${b}${t}[ERROR] [scan] scan failed\nTraceback (most recent call last):\n  File "scan.py", line 2, in run\nOSError: disk`,
    ]);
  });

  it('excluded files (default: compressed rotations) are not read', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'app.log'), 'plain\n');
    writeFileSync(join(dir, 'app.log.1.gz'), 'compressed\n');
    writeFileSync(join(dir, 'skip.txt'), 'skipped\n');
    const h = await follow(dir, { paths: [join(dir, '*')], exclude: ['**/*.gz', '*.txt'], start_at: 'beginning' });
    appendFileSync(join(dir, 'app.log'), 'marker\n');
    await until('marker', () => h.lines.includes('marker'));
    // Only app.log: "plain" and the marker.
    expect(h.lines).toEqual(['plain', 'marker']);
    expect(h.registry.gauge('quay_log_exporter_files_watched').at().value).toBe(1);
  });

  it('a partial last line is held while it waits: the rest of it joins it', async () => {
    const dir = freshDir();
    const file = join(dir, 'p.log');
    writeFileSync(file, 'done\nha');
    // A timeout no test run reaches: the partial cannot be handed over early.
    const h = await follow(dir, { start_at: 'beginning', partial_line_timeout: '1h' });
    await until('first line', () => h.lines.length >= 1);
    appendFileSync(file, 'lf\nnext\n');
    await until('3 lines', () => h.lines.length >= 3);
    // "ha" + "lf" is one line, not two.
    expect(h.lines).toEqual(['done', 'half', 'next']);
  });

  it('a partial last line is handed over after partial_line_timeout, once', async () => {
    const dir = freshDir();
    const file = join(dir, 'p.log');
    writeFileSync(file, 'done\nhalf');
    const h = await follow(dir, { start_at: 'beginning', partial_line_timeout: '200ms' });
    await until('partial after timeout', () => h.lines.length >= 2);
    // The newline that ends it later does not make it a second, empty or repeated line.
    appendFileSync(file, '\nafter\n');
    await until('after', () => h.lines.length >= 3);
    expect(h.lines).toEqual(['done', 'half', 'after']);
  });

  describe('start_at', () => {
    async function run(dir: string, start_at: string): Promise<string[]> {
      const h = await follow(dir, { start_at });
      appendFileSync(join(dir, 'a.log'), 'marker\n');
      await until('marker', () => h.lines.includes('marker'));
      await stop(h);
      return h.lines;
    }

    it('beginning / end / saved-or-* with and without saved offsets', async () => {
      const dir = freshDir();
      writeFileSync(join(dir, 'a.log'), numbered(0, 5));
      // No state yet: saved-or-end starts at the end (only the marker), saved-or-beginning at 0.
      expect(await run(dir, 'saved-or-end')).toEqual(['marker']);
      // Saved offset is now after the first marker: both saved-or-* resume there.
      appendFileSync(join(dir, 'a.log'), 'x1\n');
      expect(await run(dir, 'saved-or-beginning')).toEqual(['x1', 'marker']);
      appendFileSync(join(dir, 'a.log'), 'x2\n');
      expect(await run(dir, 'saved-or-end')).toEqual(['x2', 'marker']);
      // beginning ignores the saved offset: 5 + marker + x1 + marker + x2 + marker + new marker = 11
      expect(await run(dir, 'beginning')).toEqual([...numbered(0, 5).trimEnd().split('\n'), 'marker', 'x1', 'marker', 'x2', 'marker', 'marker']);
      appendFileSync(join(dir, 'a.log'), 'x3\n');
      // end ignores it too: x3 is skipped.
      expect(await run(dir, 'end')).toEqual(['marker']);
    });

    it('saved-or-beginning with no state reads everything', async () => {
      const dir = freshDir();
      writeFileSync(join(dir, 'a.log'), numbered(0, 5));
      expect(await run(dir, 'saved-or-beginning')).toEqual([...numbered(0, 5).trimEnd().split('\n'), 'marker']);
    });
  });

  it('same device+inode with different first bytes (inode reuse) is a new file, read from 0', async () => {
    const dir = freshDir();
    const file = join(dir, 'a.log');
    writeFileSync(file, numbered(0, 10, 'alpha'));
    const h1 = await follow(dir, { start_at: 'saved-or-beginning' });
    await until('10 lines', () => h1.lines.length === 10);
    await stop(h1); // saved: offset 80 for this dev+inode
    // Rewritten in place: same inode, other content, longer than the saved offset.
    writeFileSync(file, numbered(0, 20, 'bravo'));
    const h2 = await follow(dir, { start_at: 'saved-or-beginning' });
    await until('20 lines', () => h2.lines.length >= 20);
    // All 20 lines: the old offset (80) was not applied to the new content.
    expectEachOnce(h2.lines, 20, 'bravo');
  });

  it('stop() then a new input on the same state_dir: exact totals, nothing repeated', async () => {
    const dir = freshDir();
    const file = join(dir, 'a.log');
    writeFileSync(file, numbered(0, 500));
    const h1 = await follow(dir, { start_at: 'saved-or-beginning' });
    appendFileSync(file, numbered(500, 1000));
    await stop(h1); // reads to the end of what was written before stop()
    appendFileSync(file, numbered(1000, 1500)); // written while nothing runs
    const h2 = await follow(dir); // default saved-or-end
    appendFileSync(file, numbered(1500, 2000));
    await until('all', () => h1.lines.length + h2.lines.length >= 2000);
    await stop(h2);
    // 2000 written = run 1 + run 2, each line exactly once.
    expect(h1.lines).toHaveLength(1000);
    expectEachOnce([...h1.lines, ...h2.lines], 2000);
  });
});

describe('file input: one stream per file', () => {
  it('each file opens its stream (pod from the path); a rotation continues it; a deletion ends it once; stop() ends none', async () => {
    const dir = freshDir();
    const a = join(dir, 'quay-app-7d9f-abcde_quay_quay-app-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log');
    const b = join(dir, 'quay-app-7d9f-fghij_quay_quay-app-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.log');
    writeFileSync(a, 'a1\n');
    writeFileSync(b, 'b1\n');
    const opened: { id: string; pod?: string; namespace?: string }[] = [];
    const ended: string[] = [];
    const got: string[] = [];
    const config: InputConfig = {
      ...inputSchema.parse({ type: 'file', paths: [join(dir, '*.log')], poll_interval: '20ms', rescan_interval: '100ms', checkpoint_interval: '100ms', start_at: 'beginning' }),
      name: 'test',
    };
    const input = createInput(config, {
      open: (info) => {
        opened.push({ ...info });
        const pod = info.pod ?? '?';
        return { line: (l) => got.push(`${pod} ${l}`), end: () => ended.push(pod) };
      },
      registry: new MetricRegistry(),
      stateDir: join(dir, 'state'),
      log: silentLogger,
    });
    running.push(input);
    await input.start();
    await until('a1, b1', () => got.length === 2);
    // Two files, two streams; pods and namespace from the /var/log/containers names.
    expect(opened.map((o) => o.pod).sort()).toEqual(['quay-app-7d9f-abcde', 'quay-app-7d9f-fghij']);
    expect(opened.map((o) => o.namespace)).toEqual(['quay', 'quay']);
    expect(new Set(opened.map((o) => o.id)).size).toBe(2);

    // a is rotated (renamed, a new file at its path): the same stream goes on, nothing ends.
    renameSync(a, `${a}.1`);
    writeFileSync(a, 'a2\n');
    // b is deleted: its stream ends once the rotate wait (5 s) has passed.
    unlinkSync(b);
    await until('a2', () => got.includes('quay-app-7d9f-abcde a2'));
    await until('b ended', () => ended.length > 0, 15_000);
    expect(opened).toHaveLength(2); // the successor of a opened no stream of its own
    expect(ended).toEqual(['quay-app-7d9f-fghij']);

    running.splice(running.indexOf(input), 1);
    await input.stop();
    // 2 lines of a, 1 of b, each once; stop() ended no stream (a's writer goes on without us).
    expect(got.sort()).toEqual(['quay-app-7d9f-abcde a1', 'quay-app-7d9f-abcde a2', 'quay-app-7d9f-fghij b1']);
    expect(ended).toEqual(['quay-app-7d9f-fghij']);
  }, 30_000);

  it("two pods' tracebacks of the same program, interleaved record by record: each joins its own pod's line", async () => {
    const dir = freshDir();
    const a = join(dir, 'quay-app-a_quay_quay-app-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log');
    const b = join(dir, 'quay-app-b_quay_quay-app-fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.log');
    writeFileSync(a, '');
    writeFileSync(b, '');
    const got: string[] = [];
    const registry = new MetricRegistry();
    const config: InputConfig = {
      ...inputSchema.parse({
        type: 'file', paths: [join(dir, '*.log')], poll_interval: '20ms', start_at: 'beginning', framing: 'cri', source: 'supervisord',
        // An hour: no event may end by its timeout while the records are written one by one (under load
        // a 100 ms timeout fired between two records and split an event); stop() hands them over.
        multiline: { preset: 'python-traceback', timeout: '1h' },
      }),
      name: 'test',
    };
    const input = createInput(config, {
      open: (info) => ({ line: (l) => got.push(`${info.pod}: ${l}`), end: () => {} }),
      registry,
      stateDir: join(dir, 'state'),
      log: silentLogger,
    });
    running.push(input);
    await input.start();
    const g = 'gcworker stdout | ';
    const cri = (t: string) => `2026-11-30T09:00:00.000000000Z stdout F ${t}\n`;
    const rec: [string, string][] = [
      [a, `${g}ERROR job a raised`], [b, `${g}ERROR job b raised`],
      [a, `${g}Traceback (most recent call last):`], [b, `${g}Traceback (most recent call last):`],
      [a, `${g}  File "a.py", line 1, in run`], [b, `${g}  File "b.py", line 2, in run`],
      [a, `${g}KeyError: 'a'`], [b, `${g}OSError: b`],
    ];
    let written = 0;
    for (const [f, t] of rec) {
      appendFileSync(f, cri(t));
      written += Buffer.byteLength(cri(t));
      // Each record is read before the next is written: the two files interleave record by record.
      await until('record read', () => registry.counter('quay_log_exporter_input_bytes_total').at('test').value === written);
    }
    expect(got).toEqual([]); // both events still open
    running.splice(running.indexOf(input), 1);
    await input.stop();
    // Both pods' gcworker: one event each, 4 records each, none crossed.
    expect(got.sort()).toEqual([
      `quay-app-a: ${g}ERROR job a raised\nTraceback (most recent call last):\n  File "a.py", line 1, in run\nKeyError: 'a'`,
      `quay-app-b: ${g}ERROR job b raised\nTraceback (most recent call last):\n  File "b.py", line 2, in run\nOSError: b`,
    ]);
  });
});

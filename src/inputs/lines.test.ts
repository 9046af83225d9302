/**
 * The line path through replayStream on real files: splitting, truncation,
 * invalid UTF-8, CRI and docker framing, multi-line events.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inputSchema, type InputConfig } from '../config/schema.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { replayStream } from './index.js';
import { LineSplitter } from './splitter.js';

const dir = mkdtempSync(join(tmpdir(), 'qle-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function replay(content: string | Buffer, extra: Record<string, unknown> = {}) {
  const file = join(dir, `f${n++}.log`);
  writeFileSync(file, content);
  const config: InputConfig = { ...inputSchema.parse({ type: 'file', ...extra }), name: 'test' };
  const lines: string[] = [];
  const registry = new MetricRegistry();
  await replayStream(file, config, { handler: (l) => lines.push(l), registry, log: silentLogger });
  const truncated = registry.counter('quay_log_exporter_lines_truncated_total').at().value;
  const bytes = registry.counter('quay_log_exporter_input_bytes_total').at('test').value;
  return { lines, truncated, bytes };
}

describe('splitting', () => {
  it('splits on \\n, strips \\r, keeps blank lines and hands over a last line without newline', async () => {
    const r = await replay('a\r\nb\n\nc');
    // a, b, "", c (partial, flushed at end of input) = 4
    expect(r.lines).toEqual(['a', 'b', '', 'c']);
    expect(r.bytes).toBe(7); // a \r \n b \n \n c
  });

  it('cuts long lines to max_line_bytes and counts them', async () => {
    const r = await replay(`${'x'.repeat(25)}\nshort\n${'y'.repeat(11)}\n`, { max_line_bytes: 10 });
    // 25 and 11 bytes are over 10: two cut lines.
    expect(r.lines).toEqual(['x'.repeat(10), 'short', 'y'.repeat(10)]);
    expect(r.truncated).toBe(2);
  });

  it('decodes multi-byte characters and replaces invalid bytes without losing a line', async () => {
    const bad = Buffer.from([0x66, 0xff, 0xfe, 0xc3, 0x0a, 0x67, 0x0a]); // "f\xff\xfe\xc3\n" "g\n"
    const r = await replay(Buffer.concat([Buffer.from('é ü €\n'), bad, Buffer.from('end\n')]));
    // 3 lines: the UTF-8 one, the invalid one (3 bad bytes → 3 U+FFFD), "g", "end" = 4
    expect(r.lines).toEqual(['é ü €', 'f\uFFFD\uFFFD\uFFFD', 'g', 'end']);
  });

  it('truncates by bytes, not characters, in a non-ASCII chunk', async () => {
    const r = await replay('ééééé\nok\n', { max_line_bytes: 4 });
    // "ééééé" is 10 bytes; its first 4 bytes are "éé".
    expect(r.lines).toEqual(['éé', 'ok']);
    expect(r.truncated).toBe(1);
  });

  it('keeps memory bounded on a 5 MiB line: one buffer, the line cut to 1 MiB', () => {
    const lines: string[] = [];
    let truncated = 0;
    const sp = new LineSplitter(1 << 20, (l) => lines.push(l), () => truncated++);
    const piece = Buffer.alloc(64 * 1024, 0x78);
    for (let i = 0; i < 80; i++) sp.write(piece); // 80 × 64 KiB = 5 MiB, no newline yet
    expect(sp.buf.length).toBe((1 << 20) + 1); // never grown
    sp.write(Buffer.from('\nnext\n'));
    expect(lines.map((l) => l.length)).toEqual([1 << 20, 4]);
    expect(truncated).toBe(1);
    expect(sp.consumed).toBe(5 * 1024 * 1024 + 6);
  });

  it('a full buffer decoded in pieces: every line intact, at its byte offset, across piece boundaries', () => {
    // 3 MiB of lines of 1..299 bytes, with one 700 KiB line (longer than a decode piece) in the middle.
    const want: string[] = [];
    for (let i = 0, bytes = 0; bytes < 3 << 20; i++) {
      want.push(i === 5000 ? 'y'.repeat(700 * 1024) : `line ${i} `.padEnd(1 + ((i * 37) % 299), 'x'));
      bytes += want[i]!.length + 1;
    }
    const got: Array<[string, number]> = [];
    const sp = new LineSplitter(1 << 20, (l, off) => got.push([l, off]), () => {});
    sp.write(Buffer.from(want.join('\n') + '\n'));
    expect(got.map(([l]) => l)).toEqual(want);
    // Offsets: each line starts one byte (the newline) after the previous one ends.
    let off = 0;
    got.forEach(([l, o]) => {
      expect(o).toBe(off);
      off += l.length + 1;
    });
  });

  it('multi-byte lines across decode pieces: cut at max_line_bytes as before, offsets in bytes', () => {
    // 16,000 lines alternating "s<i>" and 100 × "é" (200 bytes) = about 1.7 MB: dozens of 64 KiB
    // decode pieces, so pieces start and end inside the UTF-8 path. max_line_bytes 101: each é line
    // keeps 50 "é" and the first byte of the 51st, which decodes to U+FFFD; 8,000 lines are truncated.
    const long = 'é'.repeat(100);
    const text = Array.from({ length: 16_000 }, (_, i) => (i % 2 ? long : `s${i}`)).join('\n') + '\n';
    const got: Array<[string, number]> = [];
    let truncated = 0;
    const sp = new LineSplitter(101, (l, off) => got.push([l, off]), () => truncated++);
    sp.write(Buffer.from(text));
    expect(got.length).toBe(16_000);
    expect(truncated).toBe(8_000);
    expect(got[1]![0]).toBe('é'.repeat(50) + '\uFFFD');
    expect(got[15_998]![0]).toBe('s15998');
    // Line 15,998 starts after 7,999 é lines (201 bytes with their newline) and the short lines
    // s0…s15996 (8,000 of them, every even i < 15,998): s0, s2 … s8 are 3 bytes with the newline
    // (5 lines), s10 … s98 are 4 (45), s100 … s998 are 5 (450), s1000 … s9998 are 6 (4,500),
    // s10000 … s15996 are 7 (2,999 lines): 15 + 180 + 2,250 + 27,000 + 20,993 = 50,438.
    expect(got[15_998]![1]).toBe(7_999 * 201 + 50_438);
    expect(sp.consumed).toBe(Buffer.byteLength(text));
  });
});

describe('framing', () => {
  it('cri: joins P records per stream until F; an unparsable record is handed over raw', async () => {
    const text = [
      '2026-11-22T10:15:32.000000001Z stdout P hello ',
      '2026-11-22T10:15:32.000000002Z stderr F err line',
      '2026-11-22T10:15:32.000000003Z stdout P big ',
      '2026-11-22T10:15:32.000000004Z stdout F world',
      'not a cri record',
      '2026-11-22T10:15:32.000000005Z stdout F ',
      '2026-11-22T10:15:32.000000006Z stdout P dangling',
    ].join('\n');
    const r = await replay(text + '\n', { framing: 'cri' });
    // stderr's F comes out first (stdout still partial); then the joined stdout;
    // the raw line; an empty F record; the dangling P is flushed at end of input.
    expect(r.lines).toEqual(['err line', 'hello big world', 'not a cri record', '', 'dangling']);
  });

  it('docker: a log without trailing newline is joined with the next record of its stream', async () => {
    const rec = (log: string, stream = 'stdout') => JSON.stringify({ log, stream, time: '2026-11-22T10:15:32Z' });
    const text = [rec('part one, '), rec('oops\n', 'stderr'), rec('part two\n'), rec('win\r\n'), '{"broken', '[1,2]'].join('\n');
    const r = await replay(text + '\n', { framing: 'docker' });
    // stderr line, joined stdout line, "win" (\r\n stripped), two raw unparsable records = 5
    expect(r.lines).toEqual(['oops', 'part one, part two', 'win', '{"broken', '[1,2]']);
  });

  it('cri: a joined line is capped at max_line_bytes and counted once', async () => {
    const p = (t: string, tag: string) => `2026-11-22T10:15:32.1Z stdout ${tag} ${t}`;
    // Each record is 32 + 15 = 47 bytes (under 50); joined they are 4 × 15 = 60 (over 50).
    const recs = [p('a'.repeat(15), 'P'), p('b'.repeat(15), 'P'), p('c'.repeat(15), 'P'), p('d'.repeat(15), 'F')];
    const r = await replay(recs.join('\n') + '\n', { framing: 'cri', max_line_bytes: 50 });
    expect(r.lines).toEqual(['a'.repeat(15) + 'b'.repeat(15) + 'c'.repeat(15) + 'd'.repeat(5)]);
    expect(r.truncated).toBe(1);
  });
});

describe('multiline', () => {
  const tb = (p: string) => [
    `${p}Traceback (most recent call last):`,
    `${p}  File "/app/worker.py", line 10, in run`,
    `${p}    do()`,
    `${p}ValueError: boom`,
  ];

  it('python-traceback joins the traceback to the line before it, per supervisord program', async () => {
    const g = 'gcworker stdout | ';
    const m = 'repomirrorworker stderr | ';
    const gt = tb(g);
    const mt = tb(m);
    // Two programs interleave line by line.
    const text = [
      `${g}2026-11-22 10:00:00,000 [1] [ERROR] [gc] failed`,
      `${m}2026-11-22 10:00:00,001 [2] [ERROR] [mirror] failed`,
      gt[0], mt[0], gt[1], mt[1], gt[2], mt[2], gt[3], mt[3],
      `${g}2026-11-22 10:00:01,000 [1] [INFO] [gc] next`,
      `${m}2026-11-22 10:00:01,000 [2] [INFO] [mirror] next`,
      'nginx stdout | 10.0.0.1 - - "GET /" 200',
    ].join('\n');
    const r = await replay(text + '\n', { multiline: { preset: 'python-traceback' } });
    const joined = (first: string) =>
      [first, 'Traceback (most recent call last):', '  File "/app/worker.py", line 10, in run', '    do()', 'ValueError: boom'].join('\n');
    // 13 physical lines → 5 events: 2 joined tracebacks (5 lines each), 2 "next" lines, 1 nginx line.
    expect(r.lines).toEqual([
      joined(`${g}2026-11-22 10:00:00,000 [1] [ERROR] [gc] failed`),
      joined(`${m}2026-11-22 10:00:00,001 [2] [ERROR] [mirror] failed`),
      `${g}2026-11-22 10:00:01,000 [1] [INFO] [gc] next`,
      `${m}2026-11-22 10:00:01,000 [2] [INFO] [mirror] next`,
      'nginx stdout | 10.0.0.1 - - "GET /" 200',
    ]);
  });

  it('python-traceback keeps chained exceptions in one event and stops after the exception line', async () => {
    const text = [
      'ERROR failed',
      ...tb(''),
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      ...tb(''),
      '2026-11-22 10:15:33,000 [7] [INFO] [x] after',
      'Not an exception line',
    ].join('\n');
    const r = await replay(text + '\n', { source: 'gcworker', multiline: { preset: 'python-traceback' } });
    // 1 + 4 + 3 + 4 = 12 lines in the first event (the record line ends the exception text); then two single lines.
    expect(r.lines).toHaveLength(3);
    expect(r.lines[0]!.split('\n')).toHaveLength(12);
    expect(r.lines.slice(1)).toEqual(['2026-11-22 10:15:33,000 [7] [INFO] [x] after', 'Not an exception line']);
  });

  it('python-traceback joins a multi-line exception message and a bare "Exception: …" line, up to the next record', async () => {
    const text = [
      'gcworker stdout | 2026-11-22 10:15:32,000 [7] [ERROR] [workers.worker] Operation raised exception',
      'gcworker stdout | Traceback (most recent call last):',
      'gcworker stdout |   File "/quay-registry/workers/worker.py", line 87, in _operation_func',
      'gcworker stdout |     return operation_func()',
      'gcworker stdout | Exception: GC interrupted; will retry',
      'gcworker stdout | second line of the message',
      'gcworker stdout | 2026-11-22 10:15:33,000 [7] [INFO] [apscheduler.executors.default] Job done',
      'nginx stdout | not joined: another program',
    ].join('\n');
    const r = await replay(text + '\n', { source: 'supervisord', multiline: { preset: 'python-traceback' } });
    // lines 1-6 are one event (6 lines), then the record line, then nginx's line.
    expect(r.lines).toHaveLength(3);
    expect(r.lines[0]!.split('\n')).toHaveLength(6);
    expect(r.lines[0]!.endsWith('\nException: GC interrupted; will retry\nsecond line of the message')).toBe(true);
  });

  it('python-traceback: an exception message with indented lines of its own does not swallow the next record', async () => {
    const text = [
      '2023-09-05 08:01:30,100 [63] [ERROR] [workers.worker] Operation raised exception',
      'Traceback (most recent call last):',
      '  File "/quay-registry/workers/worker.py", line 86, in _operation_func',
      'psycopg2.OperationalError: server closed the connection unexpectedly',
      '\tThis probably means the server terminated abnormally',
      '2023-09-05 08:01:30,101 [63] [INFO] [apscheduler.executors.default] Job "X.y (trigger: interval[0:00:30])" executed successfully',
    ].join('\n');
    const r = await replay(text + '\n', { source: 'gcworker', multiline: { preset: 'python-traceback' } });
    // 5 lines in the exception's event (psycopg2's message goes on with a tab); apscheduler's record is its own.
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]!.split('\n')).toHaveLength(5);
    expect(r.lines[1]).toMatch(/^2023-09-05 08:01:30,101 .* executed successfully$/);
  });

  it('max_bytes cuts an event at a character boundary, counts it once, and still consumes its continuations', async () => {
    // header (6 bytes "ERROR ") + "\n" + 5 frames of "  " + 20 × "é" (2 + 40 = 42 bytes each) …
    const frame = '  ' + 'é'.repeat(20);
    const text = ['ERROR ', frame, frame, frame, frame, frame, 'INFO after'].join('\n') + '\n';
    const r = await replay(text, { source: 'gcworker', multiline: { pattern: '^\\s', max_bytes: 1024 } });
    // … = 6 + 5 × 43 = 221 bytes: under 1024, whole, nothing counted
    expect(r.lines).toEqual([['ERROR ', frame, frame, frame, frame, frame].join('\n'), 'INFO after']);
    expect(r.truncated).toBe(0);
    const big = '  ' + 'é'.repeat(600); // 1,202 bytes: alone past 1024
    const r2 = await replay(['ERROR ', big, big, 'INFO after', 'ERROR 2', big].join('\n') + '\n', { source: 'gcworker', multiline: { pattern: '^\\s', max_bytes: 1024 } });
    // event 1: "ERROR " (6) + "\n  " (3) + 507 "é" (1,014) = 1,023 bytes; the 508th "é" would make 1,025
    expect(r2.lines[0]).toBe('ERROR \n  ' + 'é'.repeat(507));
    expect(Buffer.byteLength(r2.lines[0]!)).toBe(1023);
    // the second frame was consumed with the event, not emitted as a line of its own
    // event 3: "ERROR 2" (7) + "\n  " (3) + 507 "é" (1,014) = exactly 1,024 bytes
    expect(r2.lines.slice(1)).toEqual(['INFO after', 'ERROR 2\n  ' + 'é'.repeat(507)]);
    // two events cut, each counted once
    expect(r2.truncated).toBe(2);
  });

  it('holds at most 64 open events: the oldest is handed over to make room', async () => {
    // 70 programs each open an event, none continued; then every one is emitted in file order.
    const lines = Array.from({ length: 70 }, (_, i) => `p${i} stdout | start ${i}`);
    const r = await replay(lines.join('\n') + '\n', { multiline: { preset: 'python-traceback' } });
    expect(r.lines).toEqual(lines);
  });

  it('pattern/previous with max_lines, and pattern/next', async () => {
    const prev = await replay('a\n b\n c\n d\ne\n', { source: 'nginx', multiline: { pattern: '^\\s', max_lines: 3 } });
    // a+b+c reach max_lines 3; " d" starts a new event; e alone.
    expect(prev.lines).toEqual(['a\n b\n c', ' d', 'e']);
    const next = await replay('x\\\ny\\\nz\nw\n', { source: 'nginx', multiline: { pattern: '\\\\$', match_which_line: 'next' } });
    expect(next.lines).toEqual(['x\\\ny\\\nz', 'w']);
    const inv = await replay('[1] a\nmore\n[2] b\n', { source: 'nginx', multiline: { pattern: '^\\[', invert_match: true } });
    expect(inv.lines).toEqual(['[1] a\nmore', '[2] b']);
  });
});

/**
 * The stages that hold lines (multi-line, CRI/docker framing) on their own:
 * where the oldest held line starts (what the saved offset may not pass),
 * the timeout by poll ticks, and the order of a flush. Offsets and times are
 * the ones given in each test.
 */
import { describe, expect, it } from 'vitest';
import { CriFraming, DockerFraming } from './framing.js';
import { supervisordTextStart } from '../formats/supervisord.js';
import { MultilineStage } from './multiline.js';

const collect = () => {
  const out: [string, number][] = [];
  return { out, sink: (line: string, at: number) => void out.push([line, at]) };
};
const traceback = { preset: 'python-traceback' as const, match_which_line: 'previous' as const, invert_match: false, timeout: 1000, max_lines: 500, max_bytes: 1024 * 1024 };

describe('MultilineStage (python-traceback, supervisord)', () => {
  it('heldFrom is the start of the oldest open event of any program; Infinity when none is open', () => {
    const c = collect();
    const ml = new MultilineStage(traceback, true, c.sink);
    expect(ml.heldFrom()).toBe(Infinity);
    ml.push('gcworker stdout | first', 100);
    ml.push('securityworker stdout | other', 130);
    expect(ml.heldFrom()).toBe(100);
    // gcworker's next record ends its event (start 100) and opens one at 160; the oldest held is now 130.
    ml.push('gcworker stdout | second', 160);
    expect(c.out).toEqual([['gcworker stdout | first', 100]]);
    expect(ml.heldFrom()).toBe(130);
    ml.flush();
    // Flushed oldest first: 130, then 160.
    expect(c.out).toEqual([['gcworker stdout | first', 100], ['securityworker stdout | other', 130], ['gcworker stdout | second', 160]]);
    expect(ml.heldFrom()).toBe(Infinity);
  });

  it('a continuation keeps the event open and restarts its timeout; the event is handed over 1 s after its last line', () => {
    const c = collect();
    const ml = new MultilineStage(traceback, true, c.sink);
    ml.push('gcworker stdout | ERROR failed', 0);
    ml.tick(10_000); // first tick stamps it
    ml.tick(10_999);
    expect(c.out).toEqual([]);
    ml.push('gcworker stdout | Traceback (most recent call last):', 40);
    ml.push('gcworker stdout |   File "gc.py", line 1, in run', 90);
    ml.push("gcworker stdout | KeyError: 'x'", 130);
    ml.tick(11_500); // stamped again after the continuation
    ml.tick(12_499);
    expect(c.out).toEqual([]);
    ml.tick(12_500);
    expect(c.out).toEqual([['gcworker stdout | ERROR failed\nTraceback (most recent call last):\n  File "gc.py", line 1, in run\nKeyError: \'x\'', 0]]);
    // After the exception line a new indented line would still join, but a plain one starts anew.
    ml.tick(20_000);
    expect(c.out).toHaveLength(1);
  });

  it('tabs indent like spaces; a plain line after a non-traceback event starts a new one', () => {
    const c = collect();
    const ml = new MultilineStage(traceback, false, c.sink);
    ml.push('head', 0);
    ml.push('\tindented', 5);
    ml.push('plain', 15);
    expect(c.out).toEqual([['head\n\tindented', 0]]);
  });

  it('max_lines: an event of exactly max_lines lines is complete; the next line starts anew', () => {
    const c = collect();
    const ml = new MultilineStage({ ...traceback, preset: undefined, pattern: '^ ', max_lines: 3 }, false, c.sink);
    ml.push('a', 0);
    ml.push(' b', 2);
    ml.push(' c', 5);
    ml.push(' d', 8); // would be the 4th line: a new event
    ml.flush();
    expect(c.out).toEqual([['a\n b\n c', 0], [' d', 8]]);
  });

  it('pattern with next: a matching line waits for the line after it; max_lines ends it', () => {
    const c = collect();
    const ml = new MultilineStage({ ...traceback, preset: undefined, pattern: '\\\\$', match_which_line: 'next', max_lines: 2 }, false, c.sink);
    ml.push('one \\', 0);
    ml.push('two', 6);
    ml.push('three', 10);
    ml.push('x \\', 16);
    ml.push('y \\', 20); // 2 lines: max_lines reached
    ml.push('z', 24);
    expect(c.out).toEqual([['one \\\ntwo', 0], ['three', 10], ['x \\\ny \\', 16], ['z', 24]]);
  });

  it('refuses a config with both or neither of preset and pattern, and a bad pattern, naming it', () => {
    const sink = () => {};
    expect(() => new MultilineStage({ ...traceback, pattern: 'x' }, false, sink)).toThrow('multiline: set either "preset" or "pattern", not both');
    expect(() => new MultilineStage({ ...traceback, preset: undefined }, false, sink)).toThrow('multiline: set "pattern" or "preset"');
    expect(() => new MultilineStage({ ...traceback, preset: undefined, pattern: '(' }, false, sink)).toThrow(/^multiline\.pattern: /);
  });
});

describe('supervisordTextStart', () => {
  it('finds the text after "<program> <stdout|stderr> | ", else 0', () => {
    expect(supervisordTextStart('nginx stdout | x')).toBe(15);
    expect(supervisordTextStart('gcworker stderr | x')).toBe(18);
    // supervisor_stdout always writes ' | ' (or ' |' at the end of an empty line): '|x' is no prefix (src/formats/supervisord.ts)
    expect(supervisordTextStart('nginx stdout |x')).toBe(0);
    expect(supervisordTextStart('nginx stdout |')).toBe(14);
    expect(supervisordTextStart('nginx stdin  | x')).toBe(0);
    expect(supervisordTextStart('nginx stdout - x')).toBe(0);
    expect(supervisordTextStart('nginx stdouts| x')).toBe(0);
    expect(supervisordTextStart(' stdout | x')).toBe(0);
    expect(supervisordTextStart('no-space-at-all')).toBe(0);
  });
});

describe('framing stages', () => {
  it('cri: heldFrom is the oldest open partial of either stream; flush hands over oldest first', () => {
    const c = collect();
    const cri = new CriFraming(c.sink, 1024, () => {}, 1000);
    expect(cri.heldFrom()).toBe(Infinity);
    cri.push('2026-11-22T10:15:32.1Z stderr P err-', 50);
    cri.push('2026-11-22T10:15:32.2Z stdout P out-', 90);
    expect(cri.heldFrom()).toBe(50);
    cri.flush();
    expect(c.out).toEqual([['err-', 50], ['out-', 90]]);
    expect(cri.heldFrom()).toBe(Infinity);
    // The other order: stdout older.
    cri.push('2026-11-22T10:15:33.1Z stdout P a', 200);
    cri.push('2026-11-22T10:15:33.2Z stderr P b', 240);
    cri.flush();
    expect(c.out.slice(2)).toEqual([['a', 200], ['b', 240]]);
  });

  it('cri: a partial is handed over by timeout, counted from the first tick that saw it', () => {
    const c = collect();
    const cri = new CriFraming(c.sink, 1024, () => {}, 1000);
    cri.push('2026-11-22T10:15:32.1Z stdout P part', 0);
    cri.tick(5000);
    cri.tick(5999);
    expect(c.out).toEqual([]);
    cri.tick(6000);
    expect(c.out).toEqual([['part', 0]]);
  });

  it('cri: records that are not CRI-shaped go on as they are', () => {
    const c = collect();
    const cri = new CriFraming(c.sink, 1024, () => {}, 1000);
    const bad = [
      'short P x', // time too short
      '2026/11/22T10:15:32.1Z stdout F x', // no "-" at 4
      '2026-11-22 10:15:32.1Z stdout F x', // no "T" at 10
      '2026-11-22T10:15:32.1Z stdin F x', // not stdout/stderr
      '2026-11-22T10:15:32.1Z stdoutt F x',
      '2026-11-22T10:15:32.1Z stdout X x', // tag not F/P
      '2026-11-22T10:15:32.1Z stdout FF x',
    ];
    bad.forEach((l, i) => cri.push(l, i));
    expect(c.out).toEqual(bad.map((l, i) => [l, i]));
    // Valid shapes: tags with ":"-separated extras, and an F record with no text.
    cri.push('2026-11-22T10:15:32.1Z stderr F:x:y text', 100);
    cri.push('2026-11-22T10:15:32.1Z stdout F', 110);
    expect(c.out.slice(bad.length)).toEqual([['text', 100], ['', 110]]);
  });

  it('docker: the stream decides which partial a record joins; non-object JSON goes on as it is', () => {
    const c = collect();
    const d = new DockerFraming(c.sink, 1024, () => {}, 1000);
    d.push('{"log":"out-","stream":"stdout"}', 0);
    d.push('{"log":"err\\n","stream":"stderr"}', 40);
    d.push('{"log":"end\\r\\n","stream":"stdout"}', 80);
    d.push('null', 120);
    d.push('"text"', 130);
    d.push('{"log":5}', 140);
    expect(c.out).toEqual([['err', 40], ['out-end', 0], ['null', 120], ['"text"', 130], ['{"log":5}', 140]]);
  });

  it('a joined line past max_line_bytes is cut, counted once, and the rest of it dropped', () => {
    const c = collect();
    let truncated = 0;
    const cri = new CriFraming(c.sink, 6, () => truncated++, 1000);
    cri.push('2026-11-22T10:15:32.1Z stdout P abc', 0);
    cri.push('2026-11-22T10:15:32.1Z stdout P def', 40); // exactly 6: not over
    cri.push('2026-11-22T10:15:32.1Z stdout F g', 80); // 7: over
    cri.push('2026-11-22T10:15:32.1Z stdout F next', 120);
    expect(c.out).toEqual([['abcdef', 0], ['next', 120]]);
    expect(truncated).toBe(1);
  });
});

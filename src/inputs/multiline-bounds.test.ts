/**
 * The multi-line stage's bounds and the rule options the other tests do not reach: max_bytes (first
 * line and joined lines, cut at a character), MAX_OPEN events across programs, the program map's
 * bound, invert_match, and the python-traceback rule's exception lines. Events and bytes by hand.
 */
import { describe, expect, it } from 'vitest';
import { MAX_OPEN, MultilineStage } from './multiline.js';

const base = { match_which_line: 'previous' as const, invert_match: false, timeout: 1000, max_lines: 500, max_bytes: 1024 };

function collect() {
  const out: [string, number][] = [];
  return { out, sink: (line: string, start: number) => void out.push([line, start]) };
}

describe('max_bytes', () => {
  it('a first line longer than max_bytes is cut and counted; later lines of the event are dropped, not counted again', () => {
    const c = collect();
    let cut = 0;
    const ml = new MultilineStage({ ...base, pattern: '^ ' }, false, c.sink, () => cut++);
    ml.push('x'.repeat(1500), 0);
    ml.push(' more', 1501);
    ml.flush();
    expect(c.out).toEqual([['x'.repeat(1024), 0]]);
    expect(cut).toBe(1);
  });

  it('joined lines up to exactly max_bytes are kept; the line that passes it is cut at the bound, counted once', () => {
    const c = collect();
    let cut = 0;
    const ml = new MultilineStage({ ...base, pattern: '^ ' }, false, c.sink, () => cut++);
    // 1000 + "\n" + 23 = 1024 bytes: exactly max_bytes
    ml.push('a'.repeat(1000), 0);
    ml.push(' ' + 'b'.repeat(22), 1001);
    ml.flush();
    expect(c.out[0]![0].length).toBe(1024);
    expect(cut).toBe(0);
    // 1000 + "\n" + 30: cut at 1024, then a further line dropped, still one count
    ml.push('a'.repeat(1000), 2000);
    ml.push(' ' + 'c'.repeat(29), 3001);
    ml.push(' d', 3031);
    ml.flush();
    expect(c.out[1]).toEqual(['a'.repeat(1000) + '\n ' + 'c'.repeat(22), 2000]);
    expect(cut).toBe(1);
  });

  it('never inside a character: "é" is 2 bytes, a cut at an odd byte keeps one character less', () => {
    const c = collect();
    const ml = new MultilineStage({ ...base, pattern: '^ ' }, false, c.sink);
    // 1023 bytes of "a" then "é" (bytes 1024–1025): the é does not fit
    ml.push('a'.repeat(1023) + 'é', 0);
    ml.flush();
    expect(c.out[0]![0]).toBe('a'.repeat(1023));
  });
});

describe('events open at once', () => {
  it(`past ${MAX_OPEN} open events (one per program), the oldest is handed over to make room`, () => {
    expect(MAX_OPEN).toBe(64);
    const c = collect();
    const ml = new MultilineStage({ ...base, pattern: '^ ' }, true, c.sink);
    for (let i = 0; i < 64; i++) ml.push(`p${i} stdout | start ${i}`, i * 100);
    expect(c.out).toEqual([]);
    expect(ml.heldFrom()).toBe(0);
    ml.push('p64 stdout | start 64', 6400);
    // the 65th: p0's event (start 0) handed over
    expect(c.out).toEqual([['p0 stdout | start 0', 0]]);
    expect(ml.heldFrom()).toBe(100);
    ml.flush();
    // the other 64, oldest first
    expect(c.out.map(([, s]) => s)).toEqual(Array.from({ length: 65 }, (_, i) => i * 100));
  });

  it('at 1024 programs, those with no open event are forgotten; open ones are kept', () => {
    const c = collect();
    const ml = new MultilineStage({ ...base, pattern: '^ ' }, true, c.sink);
    // 1024 programs known, every event handed over (flush)
    for (let i = 0; i < 1024; i++) ml.push(`p${i} stdout | x`, i);
    ml.flush();
    // p0 opens an event again
    ml.push('p0 stdout | y', 2000);
    ml.push('p0 stdout |  cont', 2001);
    // the 1025th program: the map is cleared of closed events; p0's open one stays and still joins
    ml.push('q stdout | z', 3000);
    ml.push('p0 stdout |  cont2', 3001);
    ml.flush();
    expect(c.out.slice(-2)).toEqual([
      ['p0 stdout | y\n cont\n cont2', 2000],
      ['q stdout | z', 3000],
    ]);
  });
});

describe('pattern options', () => {
  it('invert_match: lines that do NOT match join the event before', () => {
    const c = collect();
    // a line starting with a date starts an event; anything else continues it
    const ml = new MultilineStage({ ...base, pattern: '^\\d{4}-', invert_match: true }, false, c.sink);
    for (const [l, s] of [['2026-11-30 a', 0], ['  more', 13], ['plain', 20], ['2026-11-30 b', 26]] as const) ml.push(l, s);
    ml.flush();
    expect(c.out).toEqual([
      ['2026-11-30 a\n  more\nplain', 0],
      ['2026-11-30 b', 26],
    ]);
  });

  it('the pattern is matched against the text after the supervisord prefix', () => {
    const c = collect();
    const ml = new MultilineStage({ ...base, pattern: '^\\s' }, true, c.sink);
    ml.push('web stdout | first', 0);
    ml.push('web stdout |  second', 19);
    ml.flush();
    expect(c.out).toEqual([['web stdout | first\n second', 0]]);
  });
});

describe('python-traceback', () => {
  const tb = { ...base, preset: 'python-traceback' as const };

  it('the exception line after the frames and its message lines join; a new record ends it', () => {
    const c = collect();
    const ml = new MultilineStage(tb, false, c.sink);
    const lines = [
      'Traceback (most recent call last):',
      '  File "x.py", line 1, in <module>',
      'psycopg2.OperationalError: server closed the connection unexpectedly',
      '\tThis probably means the server terminated abnormally',
      'before or while processing the request.',
      '2026-11-30 10:00:00,000 [1] [INFO] [app] next record',
    ];
    lines.forEach((l, i) => ml.push(l, i * 100));
    ml.flush();
    expect(c.out).toEqual([
      [lines.slice(0, 5).join('\n'), 0],
      [lines[5]!, 500],
    ]);
  });

  it('a blank line joins only inside a traceback; an exception-like line without frames does not join', () => {
    const c = collect();
    const ml = new MultilineStage(tb, false, c.sink);
    ml.push('plain record', 0);
    ml.push('', 20);
    ml.push('ValueError: not after frames', 30);
    ml.flush();
    expect(c.out.map(([l]) => l)).toEqual(['plain record', '', 'ValueError: not after frames']);
  });
});

/**
 * LineSplitter on its own: what is a line, at which byte offset, what is held,
 * and what a flush hands over. Every expectation is worked out from the bytes
 * written in the test.
 */
import { describe, expect, it } from 'vitest';
import { LineSplitter } from './splitter.js';

function splitter(maxLineBytes = 1024) {
  const lines: [string, number][] = [];
  let truncated = 0;
  const sp = new LineSplitter(maxLineBytes, (line, at) => lines.push([line, at]), () => truncated++);
  const write = (s: string) => sp.write(Buffer.from(s));
  return { sp, lines, write, truncated: () => truncated };
}

describe('LineSplitter', () => {
  it('joins a line across writes and gives each line its byte offset', () => {
    const s = splitter();
    s.write('ab');
    expect(s.lines).toEqual([]);
    expect(s.sp.hasPartial).toBe(true);
    expect(s.sp.consumed).toBe(0);
    s.write('c\nde');
    // "abc" at 0; "de" held from byte 4.
    expect(s.lines).toEqual([['abc', 0]]);
    expect(s.sp.consumed).toBe(4);
    s.write('\nf\ng\n');
    expect(s.lines).toEqual([['abc', 0], ['de', 4], ['f', 7], ['g', 9]]);
    expect(s.sp.hasPartial).toBe(false);
    expect(s.sp.consumed).toBe(11);
  });

  it('drops one \\r before \\n; an empty line is a line', () => {
    const s = splitter();
    s.write('a\r\n\nb\r\r\nc\n');
    // "b\r\r": only the last \r goes.
    expect(s.lines).toEqual([['a', 0], ['', 3], ['b\r', 4], ['c', 8]]);
  });

  it('flushPartial hands over the held bytes (without a trailing \\r) at their offset, once', () => {
    const s = splitter();
    s.write('one\ntwo\r');
    s.sp.flushPartial();
    expect(s.lines).toEqual([['one', 0], ['two', 4]]);
    expect(s.sp.hasPartial).toBe(false);
    expect(s.sp.consumed).toBe(8);
    s.sp.flushPartial(); // nothing held: nothing more
    expect(s.lines).toHaveLength(2);
  });

  it('the newline that ends a flushed partial is not an empty line; only that one newline', () => {
    const s = splitter();
    s.write('half');
    s.sp.flushPartial();
    s.write('\n');
    s.write('\nnext\n');
    // "half" at 0; its newline (byte 4) skipped; the next newline (byte 5) is an empty line; "next" at 6.
    expect(s.lines).toEqual([['half', 0], ['', 5], ['next', 6]]);
    expect(s.sp.consumed).toBe(11);
  });

  it('after a flushed partial, text that goes on without a newline is a line of its own', () => {
    const s = splitter();
    s.write('ha');
    s.sp.flushPartial();
    s.write('lf\nx\n');
    expect(s.lines).toEqual([['ha', 0], ['lf', 2], ['x', 5]]);
  });

  it('reset() forgets a held partial and the flushed state, and goes on at the offset given', () => {
    const s = splitter();
    s.write('x');
    s.sp.flushPartial();
    s.write('held');
    s.sp.reset(100);
    expect(s.sp.hasPartial).toBe(false);
    expect(s.sp.consumed).toBe(100);
    s.write('\nb\n');
    // "held" is gone; the newline at 100 is a line (nothing was flushed since the reset).
    expect(s.lines).toEqual([['x', 0], ['', 100], ['b', 101]]);
  });

  it('a line longer than max_line_bytes is cut and counted; at exactly the limit it is whole', () => {
    const s = splitter(4);
    s.write('abcd\nabcde\nab');
    expect(s.lines).toEqual([['abcd', 0], ['abcd', 5]]);
    expect(s.truncated()).toBe(1);
    s.write('cdef');
    s.sp.flushPartial();
    // The partial "abcdef" (6 bytes) cut to 4 when flushed: counted too.
    expect(s.lines).toEqual([['abcd', 0], ['abcd', 5], ['abcd', 11]]);
    expect(s.truncated()).toBe(2);
  });

  it('multi-byte characters split across writes are decoded whole, offsets in bytes', () => {
    const s = splitter();
    const euro = Buffer.from('€'); // 3 bytes
    s.sp.write(Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]));
    s.sp.write(Buffer.concat([euro.subarray(2), Buffer.from('\nb\n')]));
    expect(s.lines).toEqual([['a€', 0], ['b', 5]]);
  });
});

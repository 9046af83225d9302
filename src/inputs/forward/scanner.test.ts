/**
 * FrameScanner and MessageSplitter against values encoded by @msgpack/msgpack (the other
 * implementation): for every msgpack type and length-field width, the scanner must find exactly the
 * encoded length, say "more" (-1) for every shorter prefix, and resume across pieces. EventTime as
 * the spec defines it (ext 0, seconds and nanoseconds big-endian).
 */
import { Encoder } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decoder, encoder, EventTime, FrameError, FrameScanner, MessageSplitter } from './protocol.js';

const plain = new Encoder();
const ext = (type: number, n: number) => ({ type, data: new Uint8Array(n).fill(7) });
/** Raw msgpack bytes by hand where the encoder would pick a shorter form. */
const raw = (...bytes: number[]) => Uint8Array.from(bytes);

// [name, encoded value] — each type the scanner sizes, with the head byte it starts with
const VALUES: [string, Uint8Array][] = [
  ['positive fixint 0x05', plain.encode(5)],
  ['negative fixint 0xff', plain.encode(-1)],
  ['nil 0xc0', plain.encode(null)],
  ['false 0xc2', plain.encode(false)],
  ['true 0xc3', plain.encode(true)],
  ['fixmap 0x82', plain.encode({ a: 1, b: 'x' })],
  ['fixarray 0x93', plain.encode([1, [2, 3], 'z'])],
  ['fixstr 0xa3', plain.encode('abc')],
  ['fixstr of 31 bytes 0xbf', plain.encode('s'.repeat(31))],
  ['bin 8 0xc4', plain.encode(new Uint8Array(200))],
  ['bin 16 0xc5', plain.encode(new Uint8Array(300))],
  ['bin 32 0xc6', plain.encode(new Uint8Array(70_000))],
  ['ext 8 0xc7', raw(0xc7, 3, 9, 1, 2, 3)],
  ['ext 16 0xc8', raw(0xc8, 0, 3, 9, 1, 2, 3)],
  ['ext 32 0xc9', raw(0xc9, 0, 0, 0, 3, 9, 1, 2, 3)],
  ['float 32 0xca', raw(0xca, 0x3f, 0x80, 0, 0)],
  ['float 64 0xcb', plain.encode(1.5)],
  ['uint 8 0xcc', plain.encode(200)],
  ['uint 16 0xcd', plain.encode(60_000)],
  ['uint 32 0xce', plain.encode(4_000_000_000)],
  ['uint 64 0xcf', raw(0xcf, 0, 0, 0, 1, 0, 0, 0, 0)],
  ['int 8 0xd0', plain.encode(-100)],
  ['int 16 0xd1', plain.encode(-30_000)],
  ['int 32 0xd2', plain.encode(-2_000_000_000)],
  ['int 64 0xd3', raw(0xd3, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0)],
  ['fixext 1 0xd4', raw(0xd4, 9, 1)],
  ['fixext 2 0xd5', raw(0xd5, 9, 1, 2)],
  ['fixext 4 0xd6', raw(0xd6, 9, 1, 2, 3, 4)],
  ['fixext 8 0xd7 (EventTime)', encoder.encode(new EventTime(1_700_000_000, 5))],
  ['fixext 16 0xd8', raw(0xd8, 9, ...new Array<number>(16).fill(1))],
  ['str 8 0xd9', plain.encode('s'.repeat(100))],
  ['str 16 0xda', plain.encode('s'.repeat(300))],
  ['str 32 0xdb', plain.encode('s'.repeat(70_000))],
  ['array 16 0xdc', plain.encode(new Array(20).fill(1))],
  ['array 32 0xdd', raw(0xdd, 0, 0, 0, 2, 1, 2)],
  ['map 16 0xde', plain.encode(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])))],
  ['map 32 0xdf', raw(0xdf, 0, 0, 0, 1, 0xa1, 0x61, 1)],
  ['ext in a map (a Forward entry)', plain.encode([1, ext(3, 5)])],
];

describe('FrameScanner', () => {
  it.each(VALUES)('%s: its length exactly, -1 for every shorter prefix', (_name, bytes) => {
    // the value followed by junk bytes that must not be read
    const buf = new Uint8Array(bytes.length + 3);
    buf.set(bytes);
    buf.set([0xc1, 0xc1, 0xc1], bytes.length);
    const lengths = bytes.length > 400 ? [0, 1, 2, 3, 4, 5, bytes.length - 1] : Array.from({ length: bytes.length }, (_, i) => i);
    for (const n of lengths) expect(new FrameScanner(1 << 20).scan(buf, n)).toBe(-1);
    expect(new FrameScanner(1 << 20).scan(buf, buf.length)).toBe(bytes.length);
  });

  it('resumes: the same value given one more byte at a time is found once, at its end', () => {
    const bytes = plain.encode(['tag', [[1, { log: 'x'.repeat(40) }], [2, { log: 'y' }]], { chunk: 'abc', size: 2 }]);
    const scanner = new FrameScanner(1 << 20);
    const found: number[] = [];
    for (let n = 1; n <= bytes.length; n++) {
      const r = scanner.scan(bytes, n);
      if (r >= 0) found.push(r);
    }
    expect(found).toEqual([bytes.length]);
    expect(scanner.scanned).toBe(0); // reset for the next frame
  });

  it('after a frame it starts again at the next one', () => {
    const a = plain.encode([1, 2]);
    const scanner = new FrameScanner(1 << 20);
    expect(scanner.scan(a, a.length)).toBe(a.length);
    expect(scanner.scan(plain.encode('xyz'), 4)).toBe(4);
  });

  it('0xc1 starts no value: FrameError malformed, naming the byte and offset', () => {
    const buf = raw(0x92, 0x01, 0xc1);
    expect(() => new FrameScanner(100).scan(buf, 3)).toThrow(new FrameError('malformed', 'byte 0xc1 at offset 2 starts no msgpack value'));
  });

  it('max bytes: a frame of exactly max is fine; one byte more, or a count that claims more, is too large', () => {
    const s = plain.encode('x'.repeat(10)); // 11 bytes
    expect(new FrameScanner(11).scan(s, s.length)).toBe(11);
    expect(() => new FrameScanner(10).scan(s, s.length)).toThrow(/larger than max_frame_bytes \(10\)/);
    // an array 32 claiming 1000 elements in a 100-byte limit: refused before they arrive
    expect(() => new FrameScanner(100).scan(raw(0xdd, 0, 0, 0x03, 0xe8), 5)).toThrow(FrameError);
    // a map 16 claiming 60 entries (120 values) in a 100-byte limit
    expect(() => new FrameScanner(100).scan(raw(0xde, 0, 60), 3)).toThrow(FrameError);
    // and one claiming 40 entries (80 values + 3 bytes of head) fits
    expect(new FrameScanner(100).scan(raw(0xde, 0, 40), 3)).toBe(-1);
  });
});

describe('MessageSplitter', () => {
  const frames = [plain.encode(['a', 1]), plain.encode({ k: 'v'.repeat(100) }), plain.encode('tail')];
  const all = Buffer.concat(frames);

  it('in one write: every value, as views, nothing pending', () => {
    const got: Uint8Array[] = [];
    const s = new MessageSplitter(1 << 20, (f) => void got.push(Uint8Array.from(f)));
    s.write(all);
    expect(got.map((f) => decoder.decode(f))).toEqual([['a', 1], { k: 'v'.repeat(100) }, 'tail']);
    expect(s.pending).toBe(0);
  });

  it('split at every byte: the same values, and what is pending in between', () => {
    for (let cut = 1; cut < all.length; cut++) {
      const got: unknown[] = [];
      const s = new MessageSplitter(1 << 20, (f) => void got.push(decoder.decode(f)));
      s.write(all.subarray(0, cut));
      s.write(all.subarray(cut));
      expect(got).toEqual([['a', 1], { k: 'v'.repeat(100) }, 'tail']);
      expect(s.pending).toBe(0);
    }
    const s = new MessageSplitter(1 << 20, () => {});
    s.write(all.subarray(0, frames[0]!.length + 5));
    expect(s.pending).toBe(5);
    s.clear();
    expect(s.pending).toBe(0);
  });

  it('one byte at a time through a value larger than the first buffer (grown by doubling)', () => {
    const big = plain.encode('z'.repeat(200_000));
    const got: string[] = [];
    const s = new MessageSplitter(1 << 20, (f) => void got.push(decoder.decode(f) as string));
    for (let i = 0; i < big.length; i += 7000) s.write(Buffer.from(big.subarray(i, Math.min(i + 7000, big.length))));
    expect(got).toEqual(['z'.repeat(200_000)]);
    // then small values go on as before
    s.write(Buffer.from(plain.encode(1)));
    expect(got).toHaveLength(2);
  });

  it('stops when asked; the rest stays pending', () => {
    const got: unknown[] = [];
    let n = 0;
    const s = new MessageSplitter(1 << 20, (f) => void got.push(decoder.decode(f)));
    s.write(all, () => n++ >= 1);
    expect(got).toEqual([['a', 1]]);
    expect(s.pending).toBe(all.length - frames[0]!.length);
  });
});

describe('EventTime', () => {
  it('ext type 0, 8 bytes: seconds then nanoseconds, big-endian', () => {
    const bytes = encoder.encode(new EventTime(0x01020304, 0x05060708));
    expect([...bytes]).toEqual([0xd7, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]);
    const back = decoder.decode(bytes) as EventTime;
    expect([back.seconds, back.nanoseconds]).toEqual([0x01020304, 0x05060708]);
  });

  it('from and to milliseconds: 1,700,000,000,123 ms is 1,700,000,000 s and 123,000,000 ns; below a whole ms rounds down', () => {
    const t = EventTime.fromMillis(1_700_000_000_123);
    expect([t.seconds, t.nanoseconds, t.toMillis()]).toEqual([1_700_000_000, 123_000_000, 1_700_000_000_123]);
    // 999,999 ns is still 0 ms
    expect(new EventTime(5, 999_999).toMillis()).toBe(5000);
    expect(new EventTime(5, 1_000_000).toMillis()).toBe(5001);
  });

  it('an EventTime ext of another length is malformed', () => {
    expect(() => decoder.decode(raw(0xd6, 0x00, 1, 2, 3, 4))).toThrow(/EventTime of 4 bytes, expected 8/);
  });
});

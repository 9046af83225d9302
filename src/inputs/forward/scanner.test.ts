/**
 * FrameScanner and MessageSplitter against values encoded by @msgpack/msgpack (the other
 * implementation): for every msgpack type and length-field width, the scanner must find exactly the
 * encoded length, say "more" (-1) for every shorter prefix, and resume across pieces. EventTime as
 * the spec defines it (ext 0, seconds and nanoseconds big-endian).
 */
import { Encoder } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { bytes, decodeFrame, decoder, encoder, EventTime, FrameError, FrameScanner, MessageSplitter, readEntry, salt, sha512Hex, text, timeToMillis } from './protocol.js';

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
  // the edges of each one-byte range: 0x7f/0xe0 fixints, empty and 15-entry fixmap and fixarray, empty fixstr,
  // nil/false/true inside an array (a wrong size for them would misplace the next value)
  ['positive fixint 127 0x7f', plain.encode(127)],
  ['negative fixint -32 0xe0', plain.encode(-32)],
  ['fixmap of 15 0x8f', plain.encode(Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i])))],
  ['empty fixmap 0x80', plain.encode({})],
  ['empty fixarray 0x90', plain.encode([])],
  ['fixarray of 15 0x9f', plain.encode(new Array(15).fill(0))],
  ['empty fixstr 0xa0', plain.encode('')],
  ['nil, false, true in an array', plain.encode([null, false, true, 1])],
  ['a map 32 of 2 (a count × 2)', raw(0xdf, 0, 0, 0, 2, 1, 2, 3, 4)],
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

describe('decodeFrame: the four modes, told apart by the second element (values from @msgpack/msgpack)', () => {
  const cat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
  const TAG = plain.encode('quay.nginx'); // fixstr 0xaa …
  // Two packed entries [1, {a: "x"}][2, {b: 1}]: 0x92 0x01 0x81 0xa1 0x61 0xa1 0x78 | 0x92 0x02 0x81 0xa1 0x62 0x01 (13 bytes)
  const PACKED = cat(plain.encode([1, { a: 'x' }]), plain.encode([2, { b: 1 }]));

  it('Message: [tag, time, record] and [tag, time, record, option]; a nil option is none', () => {
    const t = new EventTime(1_700_000_000, 5);
    const m = decodeFrame(encoder.encode(['quay.nginx', t, { log: 'a' }, { chunk: 'c1' }]));
    expect([m.tag, m.mode, m.entries, m.option, m.packed]).toEqual(['quay.nginx', 'Message', [[t, { log: 'a' }]], { chunk: 'c1' }, undefined]);
    expect(decodeFrame(plain.encode(['x', 7, { log: 'b' }])).option).toBeUndefined();
    expect(decodeFrame(plain.encode(['x', 7, { log: 'b' }, null])).option).toBeUndefined();
    expect(decodeFrame(plain.encode(['x', 7, { log: 'b' }])).entries).toEqual([[7, { log: 'b' }]]);
  });

  it('Forward: the entries as sent, a fixarray or an array 16; its option the third element', () => {
    const m = decodeFrame(plain.encode(['t', [[1, { a: 1 }], [2, { b: 2 }]], { size: 2, chunk: 'k' }]));
    expect([m.tag, m.mode, m.entries, m.option]).toEqual(['t', 'Forward', [[1, { a: 1 }], [2, { b: 2 }]], { size: 2, chunk: 'k' }]);
    const many = Array.from({ length: 16 }, (_, i) => [i, { i }]); // 16 entries: array 16 (0xdc 0x00 0x10)
    const f = decodeFrame(plain.encode(['t', many]));
    expect(plain.encode(many)[0]).toBe(0xdc);
    expect([f.mode, f.entries, f.option]).toEqual(['Forward', many, undefined]);
  });

  // [head bytes of the packed payload, what it is] for the 13-byte payload: every str and bin form
  const RAW_HEADS: [number[], string][] = [
    [[0xa0 + 13], 'fixstr'],
    [[0xd9, 13], 'str 8'],
    [[0xda, 0, 13], 'str 16'],
    [[0xdb, 0, 0, 0, 13], 'str 32 (Fluentd)'],
    [[0xc4, 13], 'bin 8 (Fluent Bit, the Node client)'],
    [[0xc5, 0, 13], 'bin 16'],
    [[0xc6, 0, 0, 0, 13], 'bin 32'],
  ];
  it.each(RAW_HEADS)('PackedForward as %j (%s): the payload bytes exactly, without the head', (head) => {
    const m = decodeFrame(cat([0x93], TAG, head, PACKED, plain.encode({ size: 2 })));
    expect(m.mode).toBe('PackedForward');
    expect(Array.from(m.packed!)).toEqual(Array.from(PACKED));
    expect(m.option).toEqual({ size: 2 });
    expect(m.entries).toBeUndefined();
  });

  it('compressed: gzip is CompressedPackedForward, "text" is plain PackedForward, anything else refused; no option at all is plain', () => {
    const frame = (option: unknown) => cat([0x93], TAG, [0xc4, 13], PACKED, plain.encode(option));
    expect(decodeFrame(frame({ compressed: 'gzip' })).mode).toBe('CompressedPackedForward');
    expect(decodeFrame(frame({ compressed: 'text' })).mode).toBe('PackedForward');
    expect(() => decodeFrame(frame({ compressed: 'zstd' }))).toThrow(new FrameError('malformed', 'compressed: "zstd" is not gzip'));
    const noOption = decodeFrame(cat([0x92], TAG, [0xc4, 13], PACKED));
    expect([noOption.mode, noOption.option]).toEqual(['PackedForward', undefined]);
  });

  it('a message as an array 16 (0xdc) is read like a fixarray', () => {
    const m = decodeFrame(cat([0xdc, 0, 3], TAG, plain.encode(9), plain.encode({ log: 'z' })));
    expect([m.tag, m.mode, m.entries]).toEqual(['quay.nginx', 'Message', [[9, { log: 'z' }]]]);
  });

  it('refused: not 2 to 4 elements, a tag that is not text, an option that is not a map, a Message without its record, a cut element', () => {
    const shape = 'a message is an array of 2 to 4 elements [tag, …]';
    expect(() => decodeFrame(plain.encode(['t']))).toThrow(shape);
    expect(() => decodeFrame(plain.encode(['t', 1, {}, {}, 5]))).toThrow(shape);
    expect(() => decodeFrame(plain.encode({ tag: 't' }))).toThrow(shape);
    expect(() => decodeFrame(cat([0xdc, 0, 5], TAG, [1, 2, 3, 4]))).toThrow(shape);
    expect(() => decodeFrame(plain.encode([5, 1, {}]))).toThrow('the tag is not a string');
    expect(() => decodeFrame(plain.encode(['t', 1, {}, [1]]))).toThrow('the option is not a map');
    expect(() => decodeFrame(plain.encode(['t', 1, {}, 'o']))).toThrow('the option is not a map');
    expect(() => decodeFrame(plain.encode(['t', 1]))).toThrow('a Message-mode message needs [tag, time, record]');
    // [tag, 1, {…} cut after its head: 0x93 tag 0x01 0x81
    expect(() => decodeFrame(cat([0x93], TAG, [0x01, 0x81]))).toThrow('a message ends inside an element');
    // each is a FrameError with reason malformed
    const thrown = (() => {
      try {
        decodeFrame(plain.encode(['t']));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(FrameError);
    expect((thrown as FrameError).reason).toBe('malformed');
  });
});

describe('readEntry, timeToMillis, text, bytes', () => {
  it('an entry is [time, record] or [[time, metadata], record]; anything else is none', () => {
    const t = new EventTime(1, 2);
    expect(readEntry([5, { a: 1 }])).toEqual({ time: 5, record: { a: 1 } });
    expect(readEntry([t, { a: 1 }, 'extra'])).toEqual({ time: t, record: { a: 1 } });
    expect(readEntry([[t, { meta: 1 }], { a: 1 }])).toEqual({ time: t, record: { a: 1 } });
    for (const bad of [undefined, 'x', [5], [], [5, null], [5, [1]], [5, new Uint8Array(2)], [5, 'rec'], ['5', { a: 1 }], [[], { a: 1 }], [null, { a: 1 }]]) {
      expect(readEntry(bad)).toBeUndefined();
    }
  });

  it('times: seconds (integer or float) × 1000; EventTime to the whole millisecond', () => {
    expect(timeToMillis(1_700_000_000)).toBe(1_700_000_000_000);
    expect(timeToMillis(1.5)).toBe(1500);
    expect(timeToMillis(new EventTime(2, 999_999))).toBe(2000);
    expect(timeToMillis(new EventTime(2, 1_000_000))).toBe(2001);
  });

  it('handshake fields as text or bytes, from str or bin; anything else is none', () => {
    expect(text('héllo')).toBe('héllo');
    expect(text(Uint8Array.from([0x68, 0xc3, 0xa9]))).toBe('hé');
    expect([text(5), text(null), bytes(5), bytes(undefined)]).toEqual([undefined, undefined, undefined, undefined]);
    expect(Array.from(bytes('hé')!)).toEqual([0x68, 0xc3, 0xa9]);
    const b = Uint8Array.from([1, 2]);
    expect(bytes(b)).toBe(b);
    // sha512 of the parts in order, as the spec's digests: sha512("ab") whether given as 'a','b' or bytes
    expect(sha512Hex('a', Uint8Array.from([0x62]))).toBe(sha512Hex('ab'));
    expect(sha512Hex('ab')).toBe('2d408a0717ec188158278a796c689044361dc6fdde28d6f04973b80896e1823975cdbf12eb63f9e0591328ee235d80e9b5bf1aa6a44f4617ff3caf6400eb172d');
    expect(salt()).toHaveLength(16);
  });
});

describe('FrameError reasons', () => {
  const reasonOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (err) {
      return err instanceof FrameError ? err.reason : 'not a FrameError';
    }
    return undefined;
  };

  it('too_large for a 32-bit length with its high byte set (2^24 + 1 bytes claimed, 2^24 allowed); malformed for each refused message', () => {
    expect(reasonOf(() => new FrameScanner(1 << 24).scan(raw(0xdb, 1, 0, 0, 1), 5))).toBe('too_large');
    // 2^24 − 1 bytes claimed: 5 + 16,777,215 = 16,777,220 in all, within 2^25: more bytes needed, no error
    expect(new FrameScanner(1 << 25).scan(raw(0xdb, 0, 0xff, 0xff, 0xff), 5)).toBe(-1);
    for (const frame of [plain.encode([5, 1, {}]), plain.encode(['t', 1, {}, [1]]), plain.encode(['t', 1]), Uint8Array.of(0x93, 0xa1, 0x74, 0x01, 0x81)]) {
      expect(reasonOf(() => decodeFrame(frame))).toBe('malformed');
    }
    // an EventTime of 4 bytes
    expect(reasonOf(() => decoder.decode(raw(0xd6, 0, 1, 2, 3, 4)))).toBe('malformed');
  });
});

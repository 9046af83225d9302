/**
 * Fluent Forward protocol v1, the parts both ends need
 * (https://github.com/fluent/fluentd/wiki/Forward-Protocol-Specification-v1):
 * EventTime (ext type 0), the frame scanner that finds where one message
 * ends in a byte stream, the four event modes, and the shared_key handshake.
 * Values are decoded and encoded by @msgpack/msgpack; only the framing is ours
 * (see README.md: the library's stream decoder cannot say how many bytes a
 * message took, and decodes a str-packed PackedForward payload as UTF-8).
 */
import { createHash, randomBytes } from 'node:crypto';
import { Decoder, Encoder, ExtensionCodec } from '@msgpack/msgpack';

/** Seconds and nanoseconds since the epoch: the spec's EventTime, ext type 0 (8 bytes, both big-endian uint32). */
export class EventTime {
  constructor(
    readonly seconds: number,
    readonly nanoseconds: number,
  ) {}

  static fromMillis(ms: number): EventTime {
    const s = Math.floor(ms / 1000);
    return new EventTime(s, Math.round((ms - s * 1000) * 1e6));
  }

  toMillis(): number {
    return this.seconds * 1000 + Math.floor(this.nanoseconds / 1e6);
  }
}

const codec = new ExtensionCodec();
codec.register({
  type: 0,
  encode: (value: unknown) => {
    if (!(value instanceof EventTime)) return null;
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, value.seconds);
    v.setUint32(4, value.nanoseconds);
    return b;
  },
  decode: (data: Uint8Array) => {
    if (data.length !== 8) throw new FrameError('malformed', `EventTime of ${data.length} bytes, expected 8`);
    const v = new DataView(data.buffer, data.byteOffset, 8);
    return new EventTime(v.getUint32(0), v.getUint32(4));
  },
});

/** Records and options: str as JS strings. */
export const decoder = new Decoder({ extensionCodec: codec });
/** Handshake messages: salts and digests as the exact bytes sent, str or bin alike. */
export const rawDecoder = new Decoder({ extensionCodec: codec, rawStrings: true });
export const encoder = new Encoder({ extensionCodec: codec, ignoreUndefined: true });

export type FrameErrorReason = 'malformed' | 'too_large' | 'decompress' | 'handshake';

/** A frame the connection cannot go on after; the connection is closed with this reason logged. */
export class FrameError extends Error {
  constructor(
    readonly reason: FrameErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Finds the end of one msgpack value (a whole Forward message) in bytes that
 * arrive in pieces. Resumable: the position and the count of values still to
 * read survive between calls, so a 16 MiB frame arriving in 64 KiB reads is
 * scanned once, not once per read.
 */
export class FrameScanner {
  private pos = 0;
  private remaining = 1;

  constructor(private readonly maxBytes: number) {}

  /**
   * Scans `buf[0..end)`, where the frame starts at 0. Returns the frame's
   * length once it is complete, -1 while more bytes are needed. Throws
   * FrameError on a byte no msgpack value starts with, or past maxBytes.
   */
  scan(buf: Uint8Array, end: number): number {
    let pos = this.pos;
    let remaining = this.remaining;
    while (remaining > 0) {
      if (pos >= end) break;
      const b = buf[pos]!;
      let size: number;
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) size = 1;
      else if (b <= 0x8f) {
        size = 1;
        remaining += 2 * (b & 0x0f);
      } else if (b <= 0x9f) {
        size = 1;
        remaining += b & 0x0f;
      } else if (b <= 0xbf) size = 1 + (b & 0x1f);
      else {
        const need = HEAD_BYTES[b - 0xc0]!;
        if (need < 0) throw new FrameError('malformed', `byte 0x${b.toString(16)} at offset ${pos} starts no msgpack value`);
        if (pos + need > end) break;
        switch (b) {
          case 0xc4: case 0xd9: size = 2 + buf[pos + 1]!; break;
          case 0xc5: case 0xda: size = 3 + u16(buf, pos + 1); break;
          case 0xc6: case 0xdb: size = 5 + u32(buf, pos + 1); break;
          case 0xc7: size = 3 + buf[pos + 1]!; break;
          case 0xc8: size = 4 + u16(buf, pos + 1); break;
          case 0xc9: size = 6 + u32(buf, pos + 1); break;
          case 0xdc: size = 3; remaining += u16(buf, pos + 1); break;
          case 0xdd: size = 5; remaining += u32(buf, pos + 1); break;
          case 0xde: size = 3; remaining += 2 * u16(buf, pos + 1); break;
          case 0xdf: size = 5; remaining += 2 * u32(buf, pos + 1); break;
          default: size = need; // fixed-size numbers and fixext
        }
      }
      // Every value takes at least a byte: a count past the limit is a lie, said early.
      if (pos + size > this.maxBytes || pos + remaining > this.maxBytes) {
        throw new FrameError('too_large', `a frame larger than max_frame_bytes (${this.maxBytes})`);
      }
      if (pos + size > end) break;
      pos += size;
      remaining--;
    }
    if (remaining === 0) {
      this.pos = 0;
      this.remaining = 1;
      return pos;
    }
    this.pos = pos;
    this.remaining = remaining;
    return -1;
  }

  /** Bytes of the current frame already scanned (for moving a partial frame to the buffer's start). */
  get scanned(): number {
    return this.pos;
  }
}

/**
 * For head bytes 0xc0..0xdf: the bytes needed to know the value's size
 * (head + length field), or the whole size of fixed-size values; -1 for 0xc1.
 */
const HEAD_BYTES: readonly number[] = [
  1, -1, 1, 1, // nil, (never used), false, true
  2, 3, 5, // bin 8/16/32
  2, 3, 5, // ext 8/16/32 (length field; the type byte is counted in the size)
  5, 9, // float 32/64
  2, 3, 5, 9, // uint 8/16/32/64
  2, 3, 5, 9, // int 8/16/32/64
  3, 4, 6, 10, 18, // fixext 1/2/4/8/16
  2, 3, 5, // str 8/16/32
  3, 5, // array 16/32
  3, 5, // map 16/32
];

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

/**
 * Bytes in, whole msgpack values out, in order: at most one partial value is
 * held (≤ maxBytes plus one read), in a buffer grown by doubling, so a large
 * value costs O(size) copies whatever the read sizes. Values complete within
 * one read are handed on as views of it, without a copy.
 */
export class MessageSplitter {
  private buf: Buffer | undefined;
  private len = 0;
  private readonly scanner: FrameScanner;

  constructor(
    maxBytes: number,
    private readonly onMessage: (frame: Uint8Array) => void,
  ) {
    this.scanner = new FrameScanner(maxBytes);
  }

  /** Throws FrameError (or whatever onMessage throws); the caller drops the source then. */
  write(chunk: Buffer, stopped: () => boolean = () => false): void {
    let data: Buffer;
    let end: number;
    if (this.len === 0) {
      data = chunk;
      end = chunk.length;
    } else {
      this.append(chunk);
      data = this.buf!;
      end = this.len;
    }
    let start = 0;
    while (start < end && !stopped()) {
      const view = data.subarray(start, end);
      const n = this.scanner.scan(view, view.length);
      if (n < 0) break;
      this.onMessage(view.subarray(0, n));
      start += n;
    }
    this.keep(data, start, end);
  }

  /** Bytes of a value not complete yet. */
  get pending(): number {
    return this.len;
  }

  clear(): void {
    this.buf = undefined;
    this.len = 0;
  }

  private keep(data: Buffer, start: number, end: number): void {
    const rest = end - start;
    if (rest === 0) {
      this.len = 0;
      // A big value's buffer is let go, so an idle source does not keep its memory.
      if (this.buf && this.buf.length > KEEP_BUFFER) this.buf = undefined;
      return;
    }
    if (data === this.buf) {
      if (start > 0) data.copyWithin(0, start, end);
    } else {
      if (!this.buf || this.buf.length < rest) this.buf = Buffer.allocUnsafe(Math.max(rest * 2, 64 * 1024));
      data.copy(this.buf, 0, start, end);
    }
    this.len = rest;
  }

  private append(chunk: Buffer): void {
    const need = this.len + chunk.length;
    if (this.buf!.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.buf!.length * 2));
      this.buf!.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    chunk.copy(this.buf!, this.len);
    this.len = need;
  }
}

const KEEP_BUFFER = 256 * 1024;

// ---- messages ----

export type ForwardTime = number | EventTime;
export type FluentRecord = Record<string, unknown>;
export interface Entry {
  readonly time: ForwardTime;
  readonly record: FluentRecord;
}

export interface ForwardOption {
  readonly size?: number;
  readonly chunk?: string;
  readonly compressed?: string;
}

export type Mode = 'Message' | 'Forward' | 'PackedForward' | 'CompressedPackedForward';

export interface DecodedFrame {
  readonly tag: string;
  readonly mode: Mode;
  /** Message and Forward: the entries as they were sent (time, record or a Fluent Bit ≥ 5 [time, metadata] pair). */
  readonly entries?: readonly unknown[];
  /** PackedForward: the concatenated msgpack entries, still packed (str or bin on the wire). */
  readonly packed?: Uint8Array;
  readonly option: ForwardOption | undefined;
}

/**
 * Splits one message into tag, mode, entries and option. The second element's
 * head byte says the mode: an array is Forward, str or bin is PackedForward
 * (Fluentd packs it as str 32, Fluent Bit and the Node client as bin), anything
 * else is Message's time.
 */
export function decodeFrame(frame: Uint8Array): DecodedFrame {
  const head = frame[0]!;
  const length = head >= 0x90 && head <= 0x9f ? head & 0x0f : head === 0xdc ? u16(frame, 1) : -1;
  const first = head === 0xdc ? 3 : 1;
  if (length < 2 || length > 4) throw new FrameError('malformed', 'a message is an array of 2 to 4 elements [tag, …]');
  const items = splitArray(frame, first, length);
  const tag = decoder.decode(frame.subarray(items[0]!, items[1]!));
  if (typeof tag !== 'string') throw new FrameError('malformed', 'the tag is not a string');
  const second = frame[items[1]!]!;
  const decodeOption = (i: number): ForwardOption | undefined => {
    if (items.length <= i + 1) return undefined;
    const o = decoder.decode(frame.subarray(items[i]!, items[i + 1]!));
    if (o === null) return undefined;
    if (typeof o !== 'object' || Array.isArray(o)) throw new FrameError('malformed', 'the option is not a map');
    return o as ForwardOption;
  };
  const isArray = (second >= 0x90 && second <= 0x9f) || second === 0xdc || second === 0xdd;
  const isRaw = (second >= 0xa0 && second <= 0xbf) || second === 0xd9 || second === 0xda || second === 0xdb || second === 0xc4 || second === 0xc5 || second === 0xc6;
  if (isArray) {
    const entries = decoder.decode(frame.subarray(items[1]!, items[2]!)) as unknown[];
    return { tag, mode: 'Forward', entries, option: decodeOption(2) };
  }
  if (isRaw) {
    const start = items[1]! + rawHeaderBytes(second);
    const option = decodeOption(2);
    const mode = option?.compressed === 'gzip' ? 'CompressedPackedForward' : 'PackedForward';
    if (option?.compressed !== undefined && option.compressed !== 'gzip' && option.compressed !== 'text') {
      throw new FrameError('malformed', `compressed: "${String(option.compressed)}" is not gzip`);
    }
    return { tag, mode, packed: frame.subarray(start, items[2]!), option };
  }
  if (length < 3) throw new FrameError('malformed', 'a Message-mode message needs [tag, time, record]');
  const time = decoder.decode(frame.subarray(items[1]!, items[2]!));
  const record = decoder.decode(frame.subarray(items[2]!, items[3]!));
  return { tag, mode: 'Message', entries: [[time, record]], option: decodeOption(3) };
}

/** Offsets where each of `length` array elements starts, plus the end. */
function splitArray(frame: Uint8Array, first: number, length: number): number[] {
  const at = [first];
  const scanner = new FrameScanner(Infinity);
  let pos = first;
  for (let i = 0; i < length; i++) {
    const n = scanner.scan(frame.subarray(pos), frame.length - pos);
    if (n < 0) throw new FrameError('malformed', 'a message ends inside an element');
    pos += n;
    at.push(pos);
  }
  return at;
}

function rawHeaderBytes(head: number): number {
  if (head >= 0xa0 && head <= 0xbf) return 1;
  return head === 0xd9 || head === 0xc4 ? 2 : head === 0xda || head === 0xc5 ? 3 : 5;
}

/**
 * One entry in any form the spec and its implementations send: `[time, record]`,
 * or Fluent Bit ≥ 5's `[[time, metadata], record]`. Returns undefined for
 * anything else (counted and skipped, as Fluentd's skip_invalid_event).
 */
export function readEntry(entry: unknown): Entry | undefined {
  if (!Array.isArray(entry) || entry.length < 2) return undefined;
  let time = entry[0] as unknown;
  if (Array.isArray(time)) time = time[0];
  const record = entry[1] as unknown;
  if (typeof record !== 'object' || record === null || Array.isArray(record) || record instanceof Uint8Array) return undefined;
  if (typeof time !== 'number' && !(time instanceof EventTime)) return undefined;
  return { time, record: record as FluentRecord };
}

export function timeToMillis(time: ForwardTime): number {
  return typeof time === 'number' ? time * 1000 : time.toMillis();
}

// ---- handshake (the spec's "Handshake Messages") ----

export function sha512Hex(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

export function salt(): Uint8Array {
  return randomBytes(16);
}

const utf8 = new TextDecoder();
/** A handshake field as text, whether sent as str or bin. */
export function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return utf8.decode(v);
  return undefined;
}

export function bytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  return undefined;
}

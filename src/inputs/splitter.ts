/**
 * Turns bytes into lines, fast. The caller reads big chunks straight into
 * `buf` (after the `fill` bytes of a partial line kept from the last chunk)
 * and calls `commit(n)`. The complete-line part of the buffer is decoded to a
 * string once and split with indexOf; the partial last line stays as bytes
 * until its newline arrives, so a multi-byte character split across reads is
 * decoded whole. Invalid UTF-8 becomes U+FFFD, never an error.
 *
 * Lines longer than `maxLineBytes` are cut to that many bytes and counted.
 * Memory stays bounded: once the buffer is full without a newline, the first
 * `maxLineBytes` are kept (as a string) and the rest is skipped until the
 * newline, so a 5 MiB line costs one buffer, not 5 MiB.
 *
 * Offsets: `consumed` is the file offset of the first byte not yet handed to
 * the sink (the start of a partial or oversize line being read).
 */
import { isAscii } from 'node:buffer';
import type { Sink } from './stage.js';

export const READ_CHUNK = 1 << 20;
const NL = 10;
/**
 * Largest piece decoded to one string. V8 puts a string over 128 KiB in its
 * large-object space (a mapping of its own, freed only by a full GC), and Node
 * makes one over ~1 MB an external string malloc'd outside the heap, whose
 * memory glibc keeps. 64 KiB pieces are young-generation strings that die in
 * the next scavenge: a 1M-line replay took 0.91x the CPU of 512 KiB pieces
 * and peak RSS fell 137 -> 114 MB (32, 64 and 120 KiB measured alike).
 */
const DECODE_MAX = 64 * 1024;
const CR = 13;

export class LineSplitter {
  readonly buf: Buffer;
  /** Bytes of a partial line at the start of `buf`. */
  fill = 0;
  /** File offset of buf[0]. */
  private base = 0;
  /** Head of an oversize line whose rest is being skipped. */
  private head: string | null = null;
  private headStart = 0;
  /** A partial was just handed over: the newline that ends it, if it comes next, is not another (empty) line. */
  private endsFlushed = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly sink: Sink,
    /** Called once per truncated line. */
    private readonly onTruncated: () => void,
  ) {
    // Bigger than a line may be: a full buffer without a newline is then surely too long.
    this.buf = Buffer.allocUnsafe(Math.max(READ_CHUNK, maxLineBytes + 1));
  }

  /** Room left in `buf` after the partial line; never 0 after a commit. */
  get space(): number {
    return this.buf.length - this.fill;
  }

  /** File offset of the first byte not yet handed over. */
  get consumed(): number {
    return this.head !== null ? this.headStart : this.base;
  }

  /** Whether a partial (or oversize, unfinished) line is held. */
  get hasPartial(): boolean {
    return this.fill > 0 || this.head !== null;
  }

  /** Forget everything and continue at `offset` (a new file, or a truncated one). */
  reset(offset: number): void {
    this.base = offset;
    this.fill = 0;
    this.head = null;
    this.endsFlushed = false;
  }

  /** Copy a chunk in (for streams such as stdin, which bring their own buffers). */
  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.space, chunk.length - off);
      chunk.copy(this.buf, this.fill, off, off + n);
      off += n;
      this.commit(n);
    }
  }

  /** Process `n` new bytes written at buf[fill]. */
  commit(n: number): void {
    const buf = this.buf;
    const end = this.fill + n;
    let start = 0;
    if (this.endsFlushed && n > 0) {
      this.endsFlushed = false;
      if (this.fill === 0 && buf[0] === NL) start = 1;
    }
    if (this.head !== null) {
      // Skipping the rest of an oversize line (fill is 0 in this state).
      const nl = buf.indexOf(NL, 0);
      if (nl < 0 || nl >= end) {
        this.base += end;
        this.fill = 0;
        return;
      }
      const head = this.head;
      this.head = null;
      this.onTruncated();
      this.sink(head, this.headStart);
      start = nl + 1;
    }
    const last = end > start ? buf.lastIndexOf(NL, end - 1) : -1;
    if (last < start) {
      // No complete line yet: keep the partial at the front of the buffer.
      if (start > 0 && end > start) buf.copyWithin(0, start, end);
      this.base += start;
      this.fill = end - start;
      if (this.fill === buf.length) {
        this.head = buf.toString('utf8', 0, this.maxLineBytes);
        this.headStart = this.base;
        this.base += this.fill;
        this.fill = 0;
      }
      return;
    }
    this.split(start, last);
    const rest = end - last - 1;
    if (rest > 0) buf.copyWithin(0, last + 1, end);
    this.base += last + 1;
    this.fill = rest;
  }

  /** Hand over the partial last line as it is (timeout, end of input). */
  flushPartial(): void {
    if (this.head !== null) {
      const head = this.head;
      this.head = null;
      this.onTruncated();
      this.sink(head, this.headStart);
    }
    if (this.fill > 0) {
      let len = this.fill;
      if (this.buf[len - 1] === CR) len--;
      if (len > this.maxLineBytes) {
        len = this.maxLineBytes;
        this.onTruncated();
      }
      this.sink(this.buf.toString('utf8', 0, len), this.base);
      this.base += this.fill;
      this.fill = 0;
      this.endsFlushed = true;
    }
  }

  /** Lines in buf[start..last], `last` being a newline; decoded in pieces of at most DECODE_MAX bytes. */
  protected split(start: number, last: number): void {
    while (last - start >= DECODE_MAX) {
      const cut = this.buf.lastIndexOf(NL, start + DECODE_MAX - 1);
      if (cut < start) break; // a single longer line: decode it whole
      this.splitRange(start, cut);
      start = cut + 1;
    }
    this.splitRange(start, last);
  }

  private splitRange(start: number, last: number): void {
    const buf = this.buf;
    const sink = this.sink;
    const max = this.maxLineBytes;
    const base = this.base + start;
    let i = 0;
    let j: number;
    if (isAscii(buf.subarray(start, last + 1))) {
      // 'ascii' decodes several times faster than 'utf8' and is the same for these bytes.
      const s = buf.toString('ascii', start, last + 1);
      // One byte per character: string index = byte offset.
      while ((j = s.indexOf('\n', i)) !== -1) {
        let e = j;
        if (e > i && s.charCodeAt(e - 1) === CR) e--;
        if (e - i > max) {
          this.onTruncated();
          e = i + max;
        }
        sink(s.slice(i, e), base + i);
        i = j + 1;
      }
      return;
    }
    // Multi-byte or invalid bytes: the k-th "\n" of the string is the k-th
    // 0x0A of the bytes (UTF-8 never hides 0x0A inside a sequence, and the
    // decoder never swallows it), so walk both to know byte lengths.
    const s = buf.toString('utf8', start, last + 1);
    let b = start;
    while ((j = s.indexOf('\n', i)) !== -1) {
      const bn = buf.indexOf(NL, b);
      if (bn - b > max) {
        this.onTruncated();
        sink(buf.toString('utf8', b, b + max), this.base + b);
      } else {
        let e = j;
        if (e > i && s.charCodeAt(e - 1) === CR) e--;
        sink(s.slice(i, e), this.base + b);
      }
      b = bn + 1;
      i = j + 1;
    }
  }
}

/**
 * Multi-line events, as Telegraf's `multiline` parser does them: a line that
 * matches `pattern` (or does not, with `invert_match`) belongs to the event
 * before it (`match_which_line: previous`) or after it (`next`). An event is
 * handed over when a line that does not belong to it arrives, when it reaches
 * `max_lines`, after `timeout`, or when the input ends.
 *
 * The `python-traceback` preset joins to the event before it: indented lines,
 * `Traceback (most recent call last):`, the chained-exception headers, blank
 * lines inside a traceback, the exception line right after the frames and
 * the further lines of its message (src/formats/python-traceback.ts, rule 1).
 *
 * In a supervisord stream (`<program> <stdout|stderr> | text`) programs
 * interleave, so the rule is applied to the text after the prefix, per
 * program: a continuation joins the open event of its own program. The event
 * keeps its first line's prefix; continuations are appended after "\n"
 * without theirs.
 *
 * Memory is bounded: an event holds at most `max_bytes` of text (what comes
 * after is consumed with the event, not kept, and the event is counted once
 * as truncated), and at most MAX_OPEN events are open at once (the oldest is
 * handed over to make room), so a stage holds at most MAX_OPEN × max_bytes.
 */
import type { MultilineConfig } from '../config/schema.js';
import { supervisordTextStart } from '../formats/supervisord.js';
import { startsRecord, TRACEBACK, tracebackLine, TracebackLine } from '../formats/python-traceback.js';
import type { Sink, Stage } from './stage.js';

/** One open event (objects are reused per program, not made per line). */
class Event {
  text = '';
  /** UTF-8 bytes of `text`. */
  bytes = 0;
  /** Text past max_bytes was dropped. */
  cut = false;
  start = 0;
  lines = 0;
  open = false;
  seen = 0;
  /** python-traceback: a `Traceback …` header has been seen. */
  tb = false;
  /** python-traceback: the last line was indented (a frame). */
  indented = false;
  /** python-traceback: the exception line was joined; its message's further lines follow. */
  exceptionText = false;
}

type Rule = (line: string, from: number, ev: Event) => boolean;

const SPACE = 32;
const TAB = 9;

function isTracebackHeader(line: string, from: number): boolean {
  return line.startsWith(TRACEBACK, from);
}

/** src/formats/python-traceback.ts rule 1, applied line by line with the event's state. */
const pythonTraceback: Rule = (line, from, ev) => {
  const kind = tracebackLine(line, from);
  if (kind === TracebackLine.Frame || kind === TracebackLine.Header) {
    ev.exceptionText = false;
    return true;
  }
  if (kind === TracebackLine.Blank) return ev.tb; // a blank line between chained tracebacks
  if (!ev.tb) return false;
  // The exception line right after the frames ("ValueError: boom", "Exception: …"),
  // then the further lines of its message, until a line that starts a record (also right after an
  // indented line of the message itself, as psycopg2's "\tThis probably means…").
  if ((ev.indented || ev.exceptionText) && !startsRecord(line, from)) {
    ev.exceptionText = true;
    return true;
  }
  return false;
};

/** Open events at once, across programs: Quay runs about 25 supervisord programs. */
export const MAX_OPEN = 64;

/** `text` cut to at most `max` UTF-8 bytes, never inside a character. */
function cutUtf8(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back to a character boundary
  return buf.subarray(0, end).toString('utf8');
}

export class MultilineStage implements Stage {
  readonly push: Sink;
  private readonly rule: Rule;
  private readonly previous: boolean;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private open = 0;
  /** Non-supervisord inputs: one stream, one event. */
  private readonly single = new Event();
  /** Supervisord inputs: one event per program. */
  private readonly byProgram = new Map<string, Event>();

  constructor(
    config: MultilineConfig,
    supervisord: boolean,
    private readonly next: Sink,
    /** Called once per event cut at max_bytes. */
    private readonly onTruncated: () => void = () => {},
  ) {
    if (config.preset === 'python-traceback') {
      if (config.pattern !== undefined) throw new Error('multiline: set either "preset" or "pattern", not both');
      this.rule = pythonTraceback;
      this.previous = true;
    } else if (config.pattern !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(config.pattern);
      } catch (err) {
        throw new Error(`multiline.pattern: ${(err as Error).message}`);
      }
      const invert = config.invert_match;
      this.rule = (line, from) => re.test(from === 0 ? line : line.slice(from)) !== invert;
      this.previous = config.match_which_line === 'previous';
    } else {
      throw new Error('multiline: set "pattern" or "preset"');
    }
    this.maxLines = config.max_lines;
    this.maxBytes = config.max_bytes;
    this.timeoutMs = config.timeout;
    this.push = supervisord ? (line, start) => this.pushPrefixed(line, start) : (line, start) => this.add(this.single, line, 0, start);
  }

  private pushPrefixed(line: string, start: number): void {
    const from = supervisordTextStart(line);
    const program = from === 0 ? '' : line.slice(0, line.indexOf(' '));
    let ev = this.byProgram.get(program);
    if (ev === undefined) {
      // Garbage shaped like a prefix must not grow the map without bound.
      if (this.byProgram.size >= 1024) for (const [k, e] of this.byProgram) if (!e.open) this.byProgram.delete(k);
      ev = new Event();
      this.byProgram.set(program, ev);
    }
    this.add(ev, line, from, start);
  }

  private add(ev: Event, line: string, from: number, start: number): void {
    const joins = this.rule(line, from, ev);
    if (this.previous) {
      if (ev.open && joins && ev.lines < this.maxLines) {
        this.append(ev, line, from);
      } else {
        if (ev.open) this.emit(ev);
        this.begin(ev, line, from, start);
      }
      return;
    }
    // `next`: a matching line waits for the line after it.
    if (joins) {
      if (ev.open) this.append(ev, line, from);
      else this.begin(ev, line, from, start);
      if (ev.lines >= this.maxLines) this.emit(ev);
    } else if (ev.open) {
      this.append(ev, line, from);
      this.emit(ev);
    } else {
      this.next(line, start);
    }
  }

  private begin(ev: Event, line: string, from: number, start: number): void {
    if (this.open >= MAX_OPEN) this.emitOldest();
    this.open++;
    ev.open = true;
    ev.cut = false;
    ev.bytes = Buffer.byteLength(line);
    ev.text = ev.bytes > this.maxBytes ? this.cutEvent(ev, line, this.maxBytes) : line;
    ev.start = start;
    ev.lines = 1;
    ev.seen = 0;
    ev.tb = isTracebackHeader(line, from);
    ev.exceptionText = false;
    const c = line.charCodeAt(from);
    ev.indented = c === SPACE || c === TAB;
  }

  private append(ev: Event, line: string, from: number): void {
    if (!ev.cut) {
      const part = '\n' + (from === 0 ? line : line.slice(from));
      const bytes = Buffer.byteLength(part);
      if (ev.bytes + bytes <= this.maxBytes) {
        ev.text += part;
        ev.bytes += bytes;
      } else {
        ev.text += this.cutEvent(ev, part, this.maxBytes - ev.bytes);
      }
    }
    ev.lines++;
    ev.seen = 0; // the timeout counts from the last line, so a slow traceback stays whole
    if (!ev.tb) ev.tb = isTracebackHeader(line, from);
    const c = line.charCodeAt(from);
    ev.indented = c === SPACE || c === TAB;
  }

  /** The part of `text` that fits in `room` bytes; the event is marked and counted as cut. */
  private cutEvent(ev: Event, text: string, room: number): string {
    ev.cut = true;
    ev.bytes = this.maxBytes;
    this.onTruncated();
    return cutUtf8(text, room);
  }

  private emitOldest(): void {
    let oldest: Event | undefined;
    for (const ev of this.byProgram.values()) if (ev.open && (oldest === undefined || ev.start < oldest.start)) oldest = ev;
    if (oldest) this.emit(oldest);
  }

  private emit(ev: Event): void {
    this.open--;
    ev.open = false;
    const text = ev.text;
    ev.text = '';
    this.next(text, ev.start);
  }

  heldFrom(): number {
    let min = this.single.open ? this.single.start : Infinity;
    for (const ev of this.byProgram.values()) if (ev.open && ev.start < min) min = ev.start;
    return min;
  }

  flush(): void {
    const open = [this.single, ...this.byProgram.values()].filter((ev) => ev.open);
    // Oldest first, so the order of the file is kept as far as it can be.
    open.sort((a, b) => a.start - b.start);
    for (const ev of open) this.emit(ev);
  }

  tick(now: number): void {
    const check = (ev: Event) => {
      if (!ev.open) return;
      if (ev.seen === 0) ev.seen = now;
      else if (now - ev.seen >= this.timeoutMs) this.emit(ev);
    };
    check(this.single);
    for (const ev of this.byProgram.values()) check(ev);
  }
}

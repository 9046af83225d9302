/**
 * The one rule for Python tracebacks and exception text, for every program
 * (gunicorn, mirror, GC, and any other Python worker):
 *
 *   Traceback (most recent call last):                       header
 *     File "/quay-registry/workers/worker.py", line 87, …    frame (indented)
 *       return operation_func()                               code (indented)
 *   (blank)                                                   between chained tracebacks
 *   During handling of the above exception, another …       chain header
 *   The above exception was the direct cause of …           chain header
 *   Exception: GC interrupted; will retry                     the exception line
 *   second line of a multi-line exception message             exception text
 *
 * 1. Joined (`multiline: {preset: python-traceback}`): all of it joins the
 *    record that logged it, up to the next line that starts a record
 *    (startsRecord), and counts once, as that record counts.
 * 2. Alone (no multiline stage): a line that isTracebackLine() (an empty
 *    line included) counts `matched` for its program's source and moves no
 *    metric. The further
 *    lines of a multi-line exception message cannot be told from a changed
 *    format one at a time: they count `unmatched`; join them with the preset.
 */

export const TRACEBACK = 'Traceback (most recent call last):';
const DURING = 'During handling of the above exception';
const CAUSE = 'The above exception was the direct cause';

/**
 * `Name: text` or `Name` where Name ends in Error, Exception, Exit, Interrupt
 * or Warning, optionally module-qualified: `KeyError: 'x'`,
 * `botocore.exceptions.ClientError: …`, and the bare `Exception: …`.
 */
const EXCEPTION_LINE = /^(?:[A-Za-z_]\w*\.)*\w*(?:Error|Exception|Exit|Interrupt|Warning)(?::|$)/;

export const enum TracebackLine {
  /** Not recognisably part of a traceback. */
  None = 0,
  /** Empty: between chained tracebacks (and Python prints no other empty line in one). */
  Blank = 4,
  /** Indented: a frame or its code. */
  Frame = 1,
  /** `Traceback (most recent call last):` or a chain header. */
  Header = 2,
  /** The exception line. */
  Exception = 3,
}

/** What `line` (from `start`) is in a traceback, looking at this line alone. */
export function tracebackLine(line: string, start: number): TracebackLine {
  const c = line.charCodeAt(start);
  if (c === 32 || c === 9) return TracebackLine.Frame;
  if (Number.isNaN(c)) return TracebackLine.Blank;
  if (line.startsWith(TRACEBACK, start) || line.startsWith(DURING, start) || line.startsWith(CAUSE, start)) return TracebackLine.Header;
  if (isExceptionLine(line, start)) return TracebackLine.Exception;
  return TracebackLine.None;
}

/** Rule 2: a traceback line arriving alone. */
export function isTracebackLine(line: string, start: number): boolean {
  return tracebackLine(line, start) !== TracebackLine.None;
}

export function isExceptionLine(line: string, start: number): boolean {
  const c = line.charCodeAt(start);
  // Cheap first check: an exception name starts with a letter or "_".
  if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95)) return false;
  return EXCEPTION_LINE.test(start === 0 && line.length <= 200 ? line : line.slice(start, start + 200));
}

/**
 * Rule 1's end: a line that begins a new record of the same program — a
 * Python text header (`2021-07-14 …`), a JSONLOG record (`{`), gunicorn's own
 * `[2021-07-14 … +0000]`, skopeo's `time="…"` / `level=…`. Exception text runs until one.
 */
export function startsRecord(line: string, start: number): boolean {
  const c = line.charCodeAt(start);
  return (c >= 48 && c <= 57) || c === 123 /* { */ || c === 91 /* [ */ || line.startsWith('time="', start) || line.startsWith('level=', start);
}

/**
 * Quay's Python lines with `JSONLOG=true` (conf/logging_json.conf and
 * conf/logging_debug_json.conf: `formatter_json` = `loghandler.JsonFormatter`
 * with no `format=`, the same in every tag v3.5.1 … master).
 *
 * With no format string the formatter's only format field is `message`, so a
 * line is exactly `{"data": {…}, "message": "…"}`: `data` holds the record's
 * non-standard attributes (`{}` up to 3.14; `{"taskName": null}` from 3.15,
 * Python 3.12) plus `exc_info`, a list of formatted traceback frames when the
 * record carried an exception (the exception's own `Name: text` line is not
 * in it). There is no time, pid, level or logger name: they read as "".
 * json.dumps escapes newlines, so a JSON record is always one line.
 */

/** One Python record, whichever format it came in. */
export interface PythonRecord {
  timestamp: string;
  pid: string;
  level: string;
  logger: string;
  message: string;
}

/** Read a JSONLOG record from `start` into `out`; false when the text is not one. */
export function readPythonJson(line: string, start: number, out: PythonRecord): boolean {
  // A joined multi-line entry (a traceback printed raw after the record) continues after "\n".
  const nl = line.indexOf('\n', start);
  const end = nl < 0 ? line.length : nl;
  if (line.charCodeAt(start) !== 123 /* { */ || line.charCodeAt(end - 1) !== 125 /* } */) return false;
  let rec: unknown;
  try {
    rec = JSON.parse(start === 0 && end === line.length ? line : line.slice(start, end));
  } catch {
    return false;
  }
  if (typeof rec !== 'object' || rec === null || !('message' in rec)) return false;
  const message = (rec as { message: unknown }).message;
  // A dict logged without a "message" key gives null.
  if (message !== null && typeof message !== 'string') return false;
  out.timestamp = '';
  out.pid = '';
  out.level = '';
  out.logger = '';
  out.message = message ?? '';
  return true;
}

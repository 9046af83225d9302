/**
 * The header reader every Python source uses (gunicorn, mirror, GC): one
 * record, the same fields whichever format Quay wrote it in — the text header
 * (python-text.ts) or, with `JSONLOG=true`, a JSON object (python-json.ts),
 * which carries the message only (timestamp, pid, level, logger read "").
 * One reader per parser; after a successful read() its fields describe the
 * current line.
 */
import type { PatternLibrary } from '../grok/index.js';
import { parsePythonTime } from '../quay/time.js';
import { readPythonJson, type PythonRecord } from './python-json.js';
import { PythonTextHeader } from './python-text.js';

export const enum PythonFormat {
  Text = 0,
  Json = 1,
}

export class PythonLogReader implements PythonRecord {
  private readonly text: PythonTextHeader;

  timestamp = '';
  pid = '';
  level = '';
  logger = '';
  message = '';
  /** The format of the line last read. */
  format: PythonFormat = PythonFormat.Text;

  constructor(
    grok: PatternLibrary,
    private readonly zoneOffsetMinutes = 0,
  ) {
    this.text = new PythonTextHeader(grok);
  }

  /** Parse the line from `start`; false when it is no Python log record in either format. */
  read(line: string, start: number): boolean {
    if (line.charCodeAt(start) === 123 /* { */) {
      if (!readPythonJson(line, start, this)) return false;
      this.format = PythonFormat.Json;
      return true;
    }
    if (!this.text.read(line, start, this)) return false;
    this.format = PythonFormat.Text;
    return true;
  }

  /** The current line's time in epoch ms (zone from config.python_log_timezone); NaN for a JSON record (it has none). */
  timeMs(): number {
    return this.timestamp === '' ? Number.NaN : parsePythonTime(this.timestamp, this.zoneOffsetMinutes);
  }
}

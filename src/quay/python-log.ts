/**
 * Reads the header Quay's Python processes put on every log line
 * (`%(asctime)s [%(process)d] [%(levelname)s] [%(name)s] %(message)s`)
 * through the QUAY_PYTHON_LOG grok pattern. One reader per parser; after a
 * successful read() its fields describe the current line (no allocation
 * beyond the captured strings).
 */
import type { PatternLibrary } from '../grok/index.js';
import { parsePythonTime } from './time.js';

export class PythonLogReader {
  private readonly re: RegExp;
  private readonly gTime: number;
  private readonly gPid: number;
  private readonly gLevel: number;
  private readonly gLogger: number;
  private readonly gMessage: number;

  timestamp = '';
  pid = '';
  level = '';
  logger = '';
  message = '';

  constructor(
    grok: PatternLibrary,
    private readonly zoneOffsetMinutes = 0,
  ) {
    const p = grok.compile('%{QUAY_PYTHON_LOG}', { mode: 'sticky' });
    this.re = p.regex;
    this.gTime = p.group('timestamp');
    this.gPid = p.group('pid');
    this.gLevel = p.group('level');
    this.gLogger = p.group('logger');
    this.gMessage = p.group('message');
  }

  /** Parse the line from `start`; false when it is not a Python log line. */
  read(line: string, start: number): boolean {
    this.re.lastIndex = start;
    const m = this.re.exec(line);
    if (m === null) return false;
    this.timestamp = m[this.gTime]!;
    this.pid = m[this.gPid]!;
    this.level = m[this.gLevel]!;
    this.logger = m[this.gLogger]!;
    this.message = m[this.gMessage] ?? '';
    return true;
  }

  /** The current line's time in epoch ms (zone from config.python_log_timezone). */
  timeMs(): number {
    return parsePythonTime(this.timestamp, this.zoneOffsetMinutes);
  }
}

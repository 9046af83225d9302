/**
 * Reads the header Quay's Python processes put on every log line
 * (`%(asctime)s [%(process)d] [%(levelname)s] [%(name)s] %(message)s`)
 * through the QUAY_PYTHON_LOG grok pattern. One reader per parser; after a
 * successful read() its fields describe the current line.
 */
import type { PatternLibrary } from '../grok/index.js';
import { MessagePattern } from './message-pattern.js';
import { parsePythonTime } from './time.js';

const FIELDS = ['timestamp', 'pid', 'level', 'logger', 'message'] as const;

export class PythonLogReader {
  private readonly header: MessagePattern;

  timestamp = '';
  pid = '';
  level = '';
  logger = '';
  message = '';

  constructor(
    grok: PatternLibrary,
    private readonly zoneOffsetMinutes = 0,
  ) {
    this.header = new MessagePattern(grok, 'QUAY_PYTHON_LOG', FIELDS);
  }

  /** Parse the line from `start`; false when it is not a Python log line. */
  read(line: string, start: number): boolean {
    const h = this.header;
    if (!h.match(line, start)) return false;
    this.timestamp = h.get(0);
    this.pid = h.get(1);
    this.level = h.get(2);
    this.logger = h.get(3);
    this.message = h.get(4);
    return true;
  }

  /** The current line's time in epoch ms (zone from config.python_log_timezone). */
  timeMs(): number {
    return parsePythonTime(this.timestamp, this.zoneOffsetMinutes);
  }
}

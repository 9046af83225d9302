/**
 * Quay's Python text header (conf/logging*.conf `formatter_generic`, every
 * tag v3.5.1 … master):
 * `%(asctime)s [%(process)d] [%(levelname)s] [%(name)s] %(message)s`,
 * read through the QUAY_PYTHON_LOG grok pattern (overridable).
 */
import type { PatternLibrary } from '../grok/index.js';
import { MessagePattern } from '../quay/message-pattern.js';
import type { PythonRecord } from './python-json.js';

const FIELDS = ['timestamp', 'pid', 'level', 'logger', 'message'] as const;

export class PythonTextHeader {
  private readonly header: MessagePattern;

  constructor(grok: PatternLibrary) {
    this.header = new MessagePattern(grok, 'QUAY_PYTHON_LOG', FIELDS);
  }

  /** Read `line` from `start` into `out`; false when it is no Python text line. */
  read(line: string, start: number, out: PythonRecord): boolean {
    const h = this.header;
    if (!h.match(line, start)) return false;
    out.timestamp = h.get(0);
    out.pid = h.get(1);
    out.level = h.get(2);
    out.logger = h.get(3);
    out.message = h.get(4);
    return true;
  }
}

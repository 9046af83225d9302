/**
 * The fields a parser read from the line it is parsing, for the LogRecord the
 * router builds after it returns. One object, reused: parsers write only when
 * `active` (a records output is configured), so without one the hot path pays
 * a boolean test and allocates nothing. The names per kind of line are in
 * README.md ("Fields of a line"): keep them stable, they are a contract.
 */
import type { FieldValue } from './record.js';

export class LineFields {
  active = false;
  private values: Record<string, FieldValue> | undefined;

  set(name: string, value: FieldValue): void {
    (this.values ??= {})[name] = value;
  }

  /** A text field, left out when empty (a capture that did not take part, a JSONLOG record without it). */
  text(name: string, value: string): void {
    if (value !== '') (this.values ??= {})[name] = value;
  }

  /** The Python log header's `pid` (a number), `level` and `logger`, those the line has. */
  python(header: { readonly pid: string; readonly level: string; readonly logger: string }): void {
    const pid = Number(header.pid);
    if (header.pid !== '' && Number.isSafeInteger(pid)) this.set('pid', pid);
    this.text('level', header.level);
    this.text('logger', header.logger);
  }

  /** The fields of the line just parsed, and a fresh start for the next. */
  take(): Record<string, FieldValue> {
    const v = this.values ?? {};
    this.values = undefined;
    return v;
  }
}

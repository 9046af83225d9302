/**
 * The fields a parser read from the line it is parsing, for the LogRecord the
 * router builds after it returns. One object, reused: parsers write only when
 * `active` (a records output is configured), so without one the hot path pays
 * a boolean test and allocates nothing.
 */
import type { FieldValue } from './record.js';

export class LineFields {
  active = false;
  private values: Record<string, FieldValue> | undefined;

  set(name: string, value: FieldValue): void {
    (this.values ??= {})[name] = value;
  }

  /** The fields of the line just parsed, and a fresh start for the next. */
  take(): Record<string, FieldValue> {
    const v = this.values ?? {};
    this.values = undefined;
    return v;
  }
}

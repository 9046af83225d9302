/**
 * One named grok pattern compiled for matching a log message from its start,
 * with its fields resolved to capture indexes once. Shared by the Quay
 * parsers (the Python log header, mirror, GC, oc-mirror). A field a user's
 * override leaves out reads as "".
 */
import type { PatternLibrary } from '../grok/index.js';

export class MessagePattern {
  private readonly re: RegExp;
  private readonly idx: Int32Array;
  private m: RegExpExecArray | null = null;

  constructor(grok: PatternLibrary, name: string, fields: readonly string[], anchorEnd = false) {
    const compiled = grok.compile(`%{${name}}`, { mode: 'sticky', anchorEnd });
    this.re = compiled.regex;
    this.idx = Int32Array.from(fields.map((f) => compiled.group(f)));
  }

  /** Match at `start` of `text`; on success the fields are readable with get(). */
  match(text: string, start = 0): boolean {
    this.re.lastIndex = start;
    this.m = this.re.exec(text);
    return this.m !== null;
  }

  /** Field `i` (its position in the constructor's list) of the last match. */
  get(i: number): string {
    const g = this.idx[i]!;
    return g < 0 || this.m === null ? '' : (this.m[g] ?? '');
  }
}

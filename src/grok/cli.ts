/**
 * `quay-log-exporter grok --pattern P [LINE…]`: try a pattern on lines, like
 * Telegraf's `--test`. One JSON object per input line on `out`:
 *   {"line": "...", "fields": {...}, "tags": {...}}   or   {"line": "...", "match": false}
 * A GrokError from compiling the pattern propagates (the CLI prints it, exit 2).
 */
import type { PatternLibrary } from './library.js';
import { PATTERN_NAME } from './translate.js';

export interface GrokCommandOptions {
  readonly library: PatternLibrary;
  /** A grok expression (`%{QUAY_NGINX_ACCESS}`) or a bare pattern name (`QUAY_NGINX_ACCESS`). */
  readonly pattern: string;
  readonly lines: AsyncIterable<string> | string[];
  /** Receives each JSON object, without a trailing newline. */
  readonly out: (s: string) => void;
}

/** A bare name is shorthand for a reference to it. */
export function grokExpressionFor(pattern: string): string {
  return PATTERN_NAME.test(pattern) ? `%{${pattern}}` : pattern;
}

export async function runGrokCommand(opts: GrokCommandOptions): Promise<{ matched: number; unmatched: number }> {
  const compiled = opts.library.compile(grokExpressionFor(opts.pattern));
  let matched = 0;
  let unmatched = 0;
  for await (const raw of opts.lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = compiled.match(line);
    if (m) {
      matched++;
      opts.out(JSON.stringify({ line, fields: m.fields, tags: m.tags }));
    } else {
      unmatched++;
      opts.out(JSON.stringify({ line, match: false }));
    }
  }
  return { matched, unmatched };
}

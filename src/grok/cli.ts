/**
 * `quay-log-exporter grok --pattern P [LINE…]`: try a pattern on lines, like
 * Telegraf's `--test`. One JSON object per input line on `out`:
 *   {"line": "...", "fields": {...}, "tags": {...}}   or   {"line": "...", "match": false}
 * plus "measurement" and "time" (RFC 3339, to the nanosecond) when the pattern has Telegraf's
 * `:measurement` / `:ts…` captures.
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
  /** Zone of `ts…` captures without an offset (config `grok.timezone`); default UTC. */
  readonly timezone?: string;
}

/** RFC 3339 UTC with nine fraction digits, from ns since the epoch. */
function rfc3339Nano(ns: bigint): string {
  const ms = ns >= 0n ? ns / 1_000_000n : -((-ns + 999_999n) / 1_000_000n);
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  return new Date(Number(ms)).toISOString().slice(0, 19) + '.' + frac.toString().padStart(9, '0') + 'Z';
}

/** A bare name is shorthand for a reference to it. */
export function grokExpressionFor(pattern: string): string {
  return PATTERN_NAME.test(pattern) ? `%{${pattern}}` : pattern;
}

export async function runGrokCommand(opts: GrokCommandOptions): Promise<{ matched: number; unmatched: number }> {
  const compiled = opts.library.compile(grokExpressionFor(opts.pattern), opts.timezone ? { timezone: opts.timezone } : {});
  let matched = 0;
  let unmatched = 0;
  for await (const raw of opts.lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = compiled.match(line);
    if (m) {
      matched++;
      const extra: { measurement?: string; time?: string } = {};
      if (m.measurement !== undefined) extra.measurement = m.measurement;
      if (m.timestamp !== undefined) extra.time = rfc3339Nano(m.timestamp.epochNs);
      opts.out(JSON.stringify({ line, fields: m.fields, tags: m.tags, ...extra }));
    } else {
      unmatched++;
      opts.out(JSON.stringify({ line, match: false }));
    }
  }
  return { matched, unmatched };
}

/**
 * Telegraf's grok parser (plugins/parsers/grok) on top of our compiler: the
 * same options (`grok_patterns`, `grok_custom_patterns`,
 * `grok_custom_pattern_files`, `grok_timezone`, `grok_multiline`,
 * `grok_unique_timestamp`) and the same metric from a line: measurement,
 * tags, fields, time. It is what a Telegraf user's config means, and the
 * reference our translation of Telegraf's parser tests runs against.
 */
import { readFileSync } from 'node:fs';
import { GrokError } from './errors.js';
import { PatternLibrary } from './library.js';
import { resolveTimeZone } from './time.js';
import type { CompiledGrok } from './types.js';

export interface TelegrafGrokOptions {
  /** `grok_patterns`; default `["%{COMBINED_LOG_FORMAT}"]`. The first that matches with a named capture wins. */
  readonly patterns?: readonly string[];
  /** `grok_custom_patterns`: `NAME regex` lines. */
  readonly customPatterns?: string;
  /** `grok_custom_pattern_files`. */
  readonly customPatternFiles?: readonly string[];
  /** `grok_timezone`: UTC (default), Local, or an IANA name; an unknown one falls back to UTC with a warning, as in Telegraf. */
  readonly timezone?: string;
  /** `grok_multiline`: the whole text is one event. */
  readonly multiline?: boolean;
  /** `grok_unique_timestamp`: `auto` (default) nudges repeated times apart, `disable` keeps them. */
  readonly uniqueTimestamp?: 'auto' | 'disable';
  /** The measurement name when no `:measurement` capture gives one. */
  readonly measurement?: string;
  /** Tags added to every metric. */
  readonly defaultTags?: Readonly<Record<string, string>>;
  /** "Now" in ns since the epoch (default: the clock): the time of a line without one, the year of a syslog stamp. */
  readonly now?: () => bigint;
  /** Where a warning goes (default: nowhere). */
  readonly warn?: (message: string) => void;
}

export interface TelegrafMetric {
  readonly name: string;
  readonly tags: Record<string, string>;
  readonly fields: Record<string, string | number>;
  /** Nanoseconds since the epoch. */
  readonly time: bigint;
}

export class TelegrafGrokParser {
  private readonly compiled: CompiledGrok[];
  private readonly modder = new TimestampModder();

  constructor(
    private readonly options: TelegrafGrokOptions = {},
    library: PatternLibrary = PatternLibrary.bundled(),
  ) {
    // Telegraf refuses to start on a bad custom pattern: so does this parser (the exporter's own
    // config loading is lenient instead, see PatternLibrary.loadText).
    const problems: GrokError[] = [];
    if (options.customPatterns) problems.push(...library.loadText(options.customPatterns, 'grok_custom_patterns'));
    for (const file of options.customPatternFiles ?? []) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new GrokError(`cannot read grok_custom_pattern_files entry ${file}: ${(err as Error).message}`);
      }
      problems.push(...library.loadText(text, file));
    }
    if (problems.length > 0) throw problems[0]!;
    let timezone = resolveTimeZone(options.timezone) && options.timezone;
    if (options.timezone && !timezone) {
      options.warn?.(`Improper timezone supplied (${options.timezone}), setting loc to UTC`);
      timezone = 'UTC';
    }
    const patterns = (options.patterns ?? ['%{COMBINED_LOG_FORMAT}']).map((p) => p.trim()).filter((p) => p !== '');
    if (patterns.length === 0) throw new GrokError('pattern required');
    this.compiled = patterns.map((p) => library.compile(p, { timezone: timezone || 'UTC' }));
  }

  /** The metric of one line, null when no pattern matches with a named capture. */
  parseLine(line: string): TelegrafMetric | null {
    const nowNs = this.options.now?.() ?? BigInt(Date.now()) * 1_000_000n;
    for (const c of this.compiled) {
      // A pattern without a named capture makes no metric (Telegraf: no values).
      if (c.fields.length === 0) continue;
      const m = c.match(line, 0, { now: Number(nowNs / 1_000_000n) });
      if (!m) continue;
      const tags: Record<string, string> = { ...this.options.defaultTags, ...m.tags };
      const time = m.timestamp?.epochNs ?? nowNs;
      return {
        name: m.measurement ?? this.options.measurement ?? '',
        tags,
        fields: m.fields,
        time: this.options.uniqueTimestamp === 'disable' ? time : this.modder.next(time),
      };
    }
    return null;
  }

  /** Metrics of a text: one per line, or one for the whole text with `multiline`. */
  parse(text: string): TelegrafMetric[] {
    const out: TelegrafMetric[] = [];
    const events = this.options.multiline ? [text] : text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (!this.options.multiline && events[events.length - 1] === '') events.pop();
    for (const e of events) {
      const m = this.parseLine(e);
      if (m) out.push(m);
    }
    return out;
  }
}

/**
 * Telegraf's tsModder: when lines repeat the same time, each repeat is moved
 * one unit later (the unit one step finer than the time's own precision:
 * ms → µs, µs → ns, s → ms), so points that InfluxDB would merge stay apart.
 */
export class TimestampModder {
  private dupe = 0n;
  private last = 0n;
  private incr = 0n;
  private incrn = 0n;
  private rollover = 0n;

  next(ts: bigint): bigint {
    if (ts === 0n) return ts;
    try {
      if (this.last === 0n) {
        this.incrn = 0n;
        this.rollover = 0n;
        return ts;
      }
      if (ts !== this.last && ts !== this.dupe) {
        this.incr = 0n;
        this.incrn = 0n;
        this.rollover = 0n;
        return ts;
      }
      if (ts === this.last) this.dupe = ts;
      if (ts === this.dupe && this.incr === 0n) {
        // Count the trailing zero digits of the nanoseconds: the precision of the time.
        let d = 10n;
        let counter = 1;
        while (ts % d === 0n) {
          d *= 10n;
          counter++;
        }
        this.incr = counter <= 6 ? 1n : counter <= 9 ? 1_000n : 1_000_000n;
      }
      this.incrn++;
      if (this.incrn === 999n && this.incr > 1n) {
        this.rollover = this.incr * this.incrn;
        this.incrn = 1n;
        this.incr = this.incr / 1000n;
        if (this.incr < 1n) this.incr = 1n;
      }
      return ts + this.incr * this.incrn + this.rollover;
    } finally {
      this.last = ts;
    }
  }
}

/** The public shapes of the grok engine (see README.md). */

/**
 * Field types, as in `%{NAME:field:type}`. `measurement` and `timestamp` are
 * Telegraf's modifiers: the capture names the metric / gives the line's time
 * instead of becoming a field. Timestamp types are written `ts`, `ts-epoch`,
 * `ts-epochmilli`, `ts-epochnano`, `ts-syslog`, `ts-httpd`, `ts-rfc3339`, …,
 * or `ts-"Go layout"`; they compile to type 'timestamp' with a `timestamp` spec.
 * `seconds` is ours: a Go duration or a plain number, as seconds (float).
 */
export type GrokType = 'string' | 'int' | 'float' | 'tag' | 'drop' | 'duration' | 'seconds' | 'measurement' | 'timestamp';

export const GROK_TYPES: readonly GrokType[] = ['string', 'int', 'float', 'tag', 'drop', 'duration', 'seconds', 'measurement', 'timestamp'];

/** How a timestamp-typed capture is read (Telegraf's `ts*` modifiers). */
export type TimestampSpec =
  | { readonly kind: 'epoch' | 'epochmilli' | 'epochnano' | 'syslog' | 'generic' }
  /** A Go layout (`02/Jan/2006:15:04:05 -0700`); `name` is the named layout it came from (`ts-httpd`), if any. */
  | { readonly kind: 'layout'; readonly layout: string; readonly name?: string };

export interface GrokField {
  readonly name: string;
  /** Capture group index in `CompiledGrok.regex` (1-based, as in `exec` results). */
  readonly group: number;
  readonly type: GrokType;
  /** Set when type is 'timestamp'. */
  readonly timestamp?: TimestampSpec;
}

export interface CompileOptions {
  /**
   * 'search' (default): unanchored, no y flag. 'sticky': RegExp with the `y`
   * flag, for `re.lastIndex = start; re.exec(line)` so the hot path matches
   * after a prefix without slicing.
   */
  readonly mode?: 'search' | 'sticky';
  /** Anchor the end: append `$` (no m flag). */
  readonly anchorEnd?: boolean;
  /** Extra RegExp flags, e.g. 'i'. `g` and `y` are refused (the mode decides). */
  readonly flags?: string;
  /**
   * Capture only these named fields; the others still match but capture
   * nothing, so a hot path that reads few fields allocates fewer strings per
   * match. Default: every named field.
   */
  readonly capture?: readonly string[];
  /**
   * IANA zone (`Europe/Berlin`), `UTC` (default) or `Local`, for timestamps
   * whose text has no offset (Telegraf's `grok_timezone`). An unknown zone is
   * refused by `compile` (Telegraf warns and falls back to UTC).
   */
  readonly timezone?: string;
}

/** The time a timestamp-typed capture gave, exact to the nanosecond. */
export interface GrokTimestamp {
  /** Nanoseconds since the Unix epoch. */
  readonly epochNs: bigint;
  /** Milliseconds since the Unix epoch (rounded down), for Date / OpenTelemetry. */
  readonly epochMs: number;
}

export interface GrokMatch {
  /** Named captures by type: strings, or numbers for int/float/duration/seconds. */
  readonly fields: Record<string, string | number>;
  /** `:tag` captures. */
  readonly tags: Record<string, string>;
  /** The first (outermost) `:measurement` capture that took part, when the expression has one. */
  readonly measurement?: string;
  /**
   * The line's own time from the `ts*` capture, when there is one and its text
   * parsed; absent otherwise (Telegraf then uses the time of reading).
   */
  readonly timestamp?: GrokTimestamp;
}

export interface MatchOptions {
  /**
   * "Now", in ms since the epoch: the year of a timestamp whose layout has
   * none (`ts-syslog`, `ts-"Jan 2 15:04:05"`). Default Date.now().
   */
  readonly now?: number;
}

export interface CompiledGrok {
  /** The grok expression as given. */
  readonly expression: string;
  /** The expanded JS RegExp source. */
  readonly source: string;
  /** Shared; hot paths set lastIndex (sticky mode) and call exec. */
  readonly regex: RegExp;
  readonly fields: readonly GrokField[];
  /** Capture group index of a named field, -1 if absent (the first one when a name is used twice). */
  group(name: string): number;
  /**
   * Convenience, not for hot paths: match (from `start` in sticky mode) and
   * convert by type; tag-typed fields go to `tags`, drop-typed are omitted,
   * measurement/timestamp-typed set `measurement`/`timestamp`; a field that
   * did not participate, or whose text does not convert, is omitted (as
   * Telegraf does). null when no match. An expression with no named capture
   * still matches (empty records): a rule may count such lines; Telegraf's
   * parser makes no metric from it (`fields` is empty: see telegraf.ts).
   */
  match(line: string, start?: number, options?: MatchOptions): GrokMatch | null;
  /**
   * The raw text of each field (same order as `fields`), undefined where it
   * did not take part; null when no match. As Oniguruma gives them: a capture
   * in a repetition keeps the value of the last repetition that set it.
   */
  captures(line: string, start?: number): Array<string | undefined> | null;
}

/** The public shapes of the grok engine (see README.md). */

export type GrokType = 'string' | 'int' | 'float' | 'tag' | 'drop' | 'duration';

export const GROK_TYPES: readonly GrokType[] = ['string', 'int', 'float', 'tag', 'drop', 'duration'];

export interface GrokField {
  readonly name: string;
  /** Capture group index in `CompiledGrok.regex` (1-based, as in `exec` results). */
  readonly group: number;
  readonly type: GrokType;
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
}

export interface GrokMatch {
  readonly fields: Record<string, string | number>;
  readonly tags: Record<string, string>;
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
   * convert by type; tag-typed fields go to `tags`, drop-typed are omitted; a
   * field that did not participate is omitted. null when no match.
   */
  match(line: string, start?: number): GrokMatch | null;
}

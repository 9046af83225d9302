/**
 * PatternLibrary: named grok patterns (bundled patterns/*.grok, user files,
 * config) and the compiler that turns expressions into shared RegExps.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrokError } from './errors.js';
import { parseGoDurationNanos, parseGoDurationSeconds, toFloat, toInt } from './convert.js';
import { parseTimestamp, resolveTimeZone } from './time.js';
import { expand, PATTERN_NAME, type PatternDef, type RepeatFix } from './translate.js';
import type { CompileOptions, CompiledGrok, GrokField, GrokMatch, GrokTimestamp, MatchOptions } from './types.js';

/** Both src/grok (vitest) and dist/grok (after tsc) sit two levels below the repo root. */
export const BUNDLED_PATTERNS_DIR = fileURLToPath(new URL('../../patterns/', import.meta.url));
const BASE_FILE = 'grok-base.grok';

/** Compiled expressions kept per library; expressions come from config, so this only guards against misuse. */
const MAX_CACHED = 1000;

interface ParsedLine {
  readonly name: string;
  readonly regex: string;
  readonly origin: string;
}

/** Bundled files in load order: grok-base.grok first, then the rest sorted. */
export function bundledPatternFiles(dir: string = BUNDLED_PATTERNS_DIR): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new GrokError(`cannot read the bundled patterns folder ${dir}: ${(err as Error).message}`);
  }
  const files = entries
    .filter((f) => f.endsWith('.grok'))
    .sort((a, b) => (a === BASE_FILE ? -1 : b === BASE_FILE ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return files.map((f) => join(dir, f));
}

let bundledText: Array<{ path: string; text: string }> | undefined;

export class PatternLibrary {
  private readonly defs = new Map<string, PatternDef>();
  private readonly cache = new Map<string, CompiledGrok>();

  /** A library with every bundled patterns/*.grok (files read once per process). */
  static bundled(): PatternLibrary {
    bundledText ??= bundledPatternFiles().map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    const lib = new PatternLibrary();
    for (const f of bundledText) lib.loadText(f.text, f.path);
    return lib;
  }

  /**
   * Loads a pattern file; its names override earlier definitions. A file that
   * cannot be read throws. A bad line does not: see loadText.
   */
  loadFile(path: string): GrokError[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new GrokError(`cannot read pattern file ${path}: ${(err as Error).message}`);
    }
    return this.loadText(text, path);
  }

  /**
   * Loads `NAME regex` lines (`#` comments and blank lines skipped). Whitespace
   * around a line is trimmed, as Telegraf does: write `[ ]` or `\s` when a
   * pattern must end in a space.
   *
   * A bad line does not refuse the file (Logstash and Telegraf users bring
   * files of hundreds of patterns, most unused): its name is defined as
   * broken, so an expression that uses it fails with the line's own error,
   * and the error is returned (and kept in `problems`) for a warning at load
   * and for `check-config`. Every bad line is reported, not only the first.
   */
  loadText(text: string, origin: string): GrokError[] {
    const found: GrokError[] = [];
    const lines = text.split(/\r?\n/);
    for (let ln = 0; ln < lines.length; ln++) {
      const line = lines[ln]!.trim();
      if (line === '' || line.startsWith('#')) continue;
      const at = `${origin}:${ln + 1}`;
      const m = /^(\S+)(?:\s+(.*))?$/.exec(line)!;
      const name = m[1]!;
      let problem: GrokError | undefined;
      if (!PATTERN_NAME.test(name)) {
        problem = new GrokError(`${at}: invalid pattern name "${name}" (expected "NAME regex", NAME of letters, digits, _ . -)`, name, at);
      } else if (m[2] === undefined || m[2] === '') {
        problem = new GrokError(`${at}: pattern ${name} has no regex (expected "NAME regex")`, name, at);
      } else {
        try {
          checkSyntax(name, m[2], at);
        } catch (err) {
          if (!(err instanceof GrokError)) throw err;
          problem = new GrokError(`${at}: pattern ${name} ${JSON.stringify(m[2])}: ${reason(err.message, name, at)}`, name, at);
        }
      }
      if (problem) {
        found.push(problem);
        if (PATTERN_NAME.test(name)) this.defs.set(name, { regex: m[2] ?? '', origin: at, broken: problem });
        continue;
      }
      this.defs.set(name, { regex: m[2]!, origin: at });
    }
    this.problems.push(...found);
    this.cache.clear();
    return found;
  }

  /** Every bad line of the pattern files and texts loaded so far (each also a broken name). */
  readonly problems: GrokError[] = [];

  /** Defines (or overrides) one pattern; `origin` labels it in error messages. */
  define(name: string, regex: string, origin?: string): void {
    if (!PATTERN_NAME.test(name)) throw new GrokError(`invalid pattern name "${name}"`, name, origin);
    try {
      checkSyntax(name, regex, origin);
    } catch (err) {
      if (!(err instanceof GrokError)) throw err;
      const at = origin ? `${origin}: ` : '';
      throw new GrokError(`${at}pattern ${name} ${JSON.stringify(regex)}: ${reason(err.message, name, origin)}`, name, origin);
    }
    this.defs.set(name, { regex, origin });
    this.cache.clear();
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  names(): string[] {
    return [...this.defs.keys()].sort();
  }

  /** Where a pattern was defined (`file:line`), undefined when unknown or defined in code. */
  origin(name: string): string | undefined {
    return this.defs.get(name)?.origin;
  }

  /** The regex text of a pattern as defined. */
  definition(name: string): string | undefined {
    return this.defs.get(name)?.regex;
  }

  /** Compiles every defined pattern; returns the errors (empty when all compile). */
  validate(): GrokError[] {
    const errors: GrokError[] = [];
    for (const name of this.names()) {
      try {
        this.compile(`%{${name}}`);
      } catch (err) {
        if (err instanceof GrokError) errors.push(err);
        else throw err;
      }
    }
    return errors;
  }

  compile(expression: string, options: CompileOptions = {}): CompiledGrok {
    const mode = options.mode ?? 'search';
    const anchorEnd = options.anchorEnd === true;
    let flags = options.flags ?? '';
    const capture = options.capture ? new Set(options.capture) : undefined;
    const key = `${mode}\u0000${anchorEnd ? 1 : 0}\u0000${flags}\u0000${options.capture?.join(',') ?? '*'}\u0000${options.timezone ?? ''}\u0000${expression}`;
    const hit = this.cache.get(key);
    if (hit) return hit;

    if (/[gy]/.test(flags)) throw new GrokError(`flags "${flags}": g and y are not allowed (use mode: 'sticky')`);
    let text = expression;
    // Oniguruma allows (?i) anywhere; JS only as a flag, so only a leading one is honoured.
    if (text.startsWith('(?i)')) {
      text = text.slice(4);
      if (!flags.includes('i')) flags += 'i';
    }
    const zone = resolveTimeZone(options.timezone);
    if (zone === undefined) throw new GrokError(`unknown time zone "${options.timezone}" (use UTC, Local or an IANA name such as Europe/Berlin)`);
    // `.` matches a newline, as in Logstash (its grok compiles with Ruby's MULTILINE): a
    // multi-line event is one text. A single line has no newline, so nothing else changes.
    if (!flags.includes('s')) flags += 's';
    const ex = expand(text, (n) => this.defs.get(n), { name: null }, { multiline: flags.includes('m'), capture, dotAll: true });
    const stamps = ex.fields.filter((f) => f.type === 'timestamp');
    if (stamps.length > 1) {
      // Telegraf's rule: one time per line, else which one wins is a guess.
      throw new GrokError(`more than one timestamp capture (${stamps.map((f) => f.name).join(', ')}) in "${expression}": a line has one time`);
    }
    const source = anchorEnd ? `(?:${ex.source})$` : ex.source;
    if (mode === 'sticky') flags += 'y';
    const regex = this.buildRegExp(source, flags, expression, ex.expanded);
    const stepFlags = flags.replace(/[gy]/g, '') + 'y';
    const repeats = ex.repeats.map((r) => ({ ...r, regex: new RegExp(r.step, stepFlags) }));
    const compiled = new Compiled(expression, source, regex, ex.fields, mode === 'sticky', zone, repeats);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(key, compiled);
    return compiled;
  }

  /** new RegExp, blaming the innermost pattern that is invalid on its own when it fails. */
  private buildRegExp(source: string, flags: string, expression: string, expanded: readonly string[]): RegExp {
    try {
      return new RegExp(source, flags);
    } catch (err) {
      for (const name of expanded) {
        const def = this.defs.get(name)!;
        try {
          const alone = expand(def.regex, (n) => this.defs.get(n), { name, origin: def.origin }, { multiline: flags.includes('m'), dotAll: true });
          new RegExp(alone.source, flags);
        } catch (inner) {
          if (inner instanceof GrokError) throw inner;
          const at = def.origin ? ` (${def.origin})` : '';
          throw new GrokError(`invalid regular expression in pattern ${name}${at} ${JSON.stringify(def.regex)}: ${v8Reason(inner as Error)}`, name, def.origin);
        }
      }
      throw new GrokError(`invalid regular expression for "${expression}": ${v8Reason(err as Error)}`);
    }
  }
}

/** Refuses untranslatable syntax at load time, with the file:line, before any reference is resolved. */
function checkSyntax(name: string, regex: string, origin: string | undefined): void {
  const ex = expand(regex, () => undefined, { name, origin }, { syntaxOnly: true });
  try {
    new RegExp(ex.source);
  } catch (err) {
    const at = origin ? ` (${origin})` : '';
    throw new GrokError(`invalid regular expression in pattern ${name}${at}: ${v8Reason(err as Error)}`, name, origin);
  }
}

/** V8's reason without the translated source it quotes (the user never wrote that text). */
function v8Reason(err: Error): string {
  return err.message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, '');
}

/** A compiler message without the "in pattern X (file:line)" tail that the caller already says. */
function reason(message: string, name: string, origin: string | undefined): string {
  const tail = origin ? ` in pattern ${name} (${origin})` : ` in pattern ${name}`;
  const prefix = `invalid regular expression in pattern ${name}${origin ? ` (${origin})` : ''}: `;
  let m = message.startsWith(prefix) ? message.slice(prefix.length) : message;
  if (m.endsWith(tail)) m = m.slice(0, -tail.length);
  return m;
}

class Compiled implements CompiledGrok {
  private readonly firstGroup = new Map<string, number>();

  constructor(
    readonly expression: string,
    readonly source: string,
    readonly regex: RegExp,
    readonly fields: readonly GrokField[],
    private readonly sticky: boolean,
    private readonly zone: string,
    private readonly repeats: ReadonlyArray<RepeatFix & { readonly regex: RegExp }>,
  ) {
    for (const f of fields) if (!this.firstGroup.has(f.name)) this.firstGroup.set(f.name, f.group);
  }

  group(name: string): number {
    return this.firstGroup.get(name) ?? -1;
  }

  captures(line: string, start = 0): Array<string | undefined> | null {
    let m: RegExpExecArray | null;
    if (this.sticky) {
      this.regex.lastIndex = start;
      m = this.regex.exec(line);
    } else {
      // No g/y flag: exec ignores lastIndex, so search from `start` on a slice.
      m = this.regex.exec(start > 0 ? line.slice(start) : line);
    }
    if (!m) return null;
    const texts: Array<string | undefined> = this.fields.map((f) => m[f.group]);
    for (const r of this.repeats) lastValues(r, m[r.group], texts);
    return texts;
  }

  match(line: string, start = 0, options: MatchOptions = {}): GrokMatch | null {
    const texts = this.captures(line, start);
    if (!texts) return null;
    const fields: Record<string, string | number> = {};
    const tags: Record<string, string> = {};
    let measurement: string | undefined;
    let timestamp: GrokTimestamp | undefined;
    // Fields are in group order, so when a name repeats the later participating capture wins.
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i]!;
      const text = texts[i];
      // An empty capture makes no field (Telegraf skips it; Logstash keeps none by default).
      if (text === undefined || text === '') continue;
      switch (f.type) {
        case 'string':
          fields[f.name] = text;
          break;
        case 'tag':
          tags[f.name] = text;
          break;
        case 'drop':
          break;
        case 'measurement':
          // The outermost (first) one wins: %{TEST:name:measurement} names the whole line (Telegraf).
          measurement ??= text;
          break;
        case 'timestamp': {
          const t = parseTimestamp(f.timestamp!, text, this.zone, options.now ?? Date.now());
          if (t) timestamp = t;
          break;
        }
        case 'int':
        case 'float':
        case 'duration':
        case 'seconds': {
          const v =
            f.type === 'int' ? toInt(text) : f.type === 'float' ? toFloat(text) : f.type === 'duration' ? parseGoDurationNanos(text) : parseGoDurationSeconds(text);
          if (!Number.isNaN(v)) fields[f.name] = v;
          break;
        }
      }
    }
    const out: { fields: typeof fields; tags: typeof tags; measurement?: string; timestamp?: GrokTimestamp } = { fields, tags };
    if (measurement !== undefined) out.measurement = measurement;
    if (timestamp !== undefined) out.timestamp = timestamp;
    return out;
  }
}

/**
 * Oniguruma's value for captures inside a repetition: the last repetition that
 * set each one (see RepeatFix). `span` is the text the whole repetition matched.
 */
function lastValues(r: RepeatFix & { readonly regex: RegExp }, span: string | undefined, texts: Array<string | undefined>): void {
  if (span === undefined || span === '') return;
  let pos = 0;
  while (pos < span.length) {
    r.regex.lastIndex = pos;
    const step = r.regex.exec(span);
    if (!step || r.regex.lastIndex === pos) break;
    for (const f of r.fields) if (step[f.group] !== undefined) texts[f.field] = step[f.group];
    pos = r.regex.lastIndex;
  }
}

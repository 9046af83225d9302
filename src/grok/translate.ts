/**
 * Expands a grok expression into one JS RegExp source.
 *
 * A real tokenizer, not regex replacement: it walks escapes, character
 * classes, groups and quantifiers so that it knows exactly which `(` in the
 * output captures. Only named fields capture (`%{X:name}`, `(?<name>…)`), plus
 * the hidden group of each emulated atomic group; every other group becomes
 * `(?:…)`. Field names map to group indexes here, never to JS named groups,
 * so names like `client.ip` or `[http][status]` work.
 *
 * Oniguruma-only syntax is translated where JS has an equivalent and refused
 * with a GrokError where it has not (see README.md for the table).
 */
import { GrokError } from './errors.js';
import { timestampSpec } from './time.js';
import { GROK_TYPES, type GrokField, type GrokType, type TimestampSpec } from './types.js';
import { posixClassRanges, UNICODE_WORD } from './unicode.js';

export interface PatternDef {
  readonly regex: string;
  /** `file:line`, or a label such as `config grok.patterns`; undefined when defined in code. */
  readonly origin: string | undefined;
  /** Set when the pattern's line was refused at load: using the pattern throws this. */
  readonly broken?: GrokError;
}

export type PatternLookup = (name: string) => PatternDef | undefined;

/** Where the text being translated came from, for error messages. */
interface Scope {
  /** Pattern name, or null for the expression given to compile(). */
  readonly name: string | null;
  readonly origin: string | undefined;
}

/** Names a pattern may have (also what `%{…}` accepts). */
export const PATTERN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Escapes Oniguruma has and JS lacks (or means differently without the u flag). */
const REFUSED_ESCAPES: Record<string, string> = {
  G: '\\G (match-start anchor)',
  K: '\\K (keep)',
  R: '\\R (generic newline)',
  X: '\\X (extended grapheme cluster)',
  y: '\\y (text-segment boundary)',
  Y: '\\Y (text-segment non-boundary)',
  g: '\\g<…> (subexpression call)',
  p: '\\p{…} (Unicode property)',
  P: '\\P{…} (Unicode property)',
  Q: '\\Q…\\E (quoted span)',
};

/** Oniguruma's inline options in effect (Ruby syntax: `m` is dot-all). */
interface Flags {
  readonly ci: boolean;
  readonly dotAll: boolean;
  readonly extended: boolean;
}

interface Paren {
  readonly atomicGroup: number; // 0 for an ordinary group
  /** Where the group starts in `out` (for a quantifier that follows it). */
  readonly outStart: number;
  /** First index in `fields` of the fields inside the group. */
  readonly fieldStart: number;
  /** The inline options to restore when the group closes. */
  readonly savedFlags: Flags;
  /** A `|` at this group's own level. */
  hasAlt: boolean;
  /** Fields inside that are not set on every pass through the group. */
  readonly conditional: Set<number>;
}

/** A group just closed: what a quantifier right after it applies to. */
interface Closed {
  readonly outStart: number;
  readonly fieldStart: number;
  readonly fieldEnd: number;
  /** Fields not set on every pass through the group. */
  readonly conditional: ReadonlySet<number>;
}

export interface Expansion {
  readonly source: string;
  readonly fields: GrokField[];
  /** Every pattern expanded, innermost first (used to blame an invalid RegExp on one pattern). */
  readonly expanded: string[];
  /** Repetitions whose captures need Oniguruma's "last value set" (see RepeatFix). */
  readonly repeats: RepeatFix[];
}

/**
 * A repeated group with captures not set on every repetition (`(?: (?:A=%{X:a}|B=%{Y:b}))*`).
 * Oniguruma keeps each capture's value from the last repetition that set it; a JS RegExp
 * resets captures on every repetition. The whole repetition is captured (`group`), and
 * `CompiledGrok.match` walks its text one repetition at a time with `step` (sticky): each
 * repetition is the first that leaves a text the rest of the repetitions can match, which is
 * the split the full match made, and later values overwrite earlier ones.
 */
export interface RepeatFix {
  /** Capture group of the whole repetition in the full RegExp. */
  group: number;
  /** One repetition, then a lookahead that the rest is repetitions to the end. */
  readonly step: string;
  /** Fields inside: index in `fields`, and capture group in `step`. */
  readonly fields: ReadonlyArray<{ readonly field: number; readonly group: number }>;
}

export interface ExpandOptions {
  /** With the m flag `^`/`$` are line anchors, so \A, \z, \Z need flag-proof forms. */
  readonly multiline?: boolean;
  /**
   * Check syntax only: `%{…}` references are not looked up (their target may
   * be loaded later); they expand to an empty group.
   */
  readonly syntaxOnly?: boolean;
  /** Capture only these named fields; the others become non-capturing groups. */
  readonly capture?: ReadonlySet<string>;
  /** Whether `.` matches a newline outside any (?-m) (true when the RegExp gets the s flag). */
  readonly dotAll?: boolean;
}

/** Expands `text` (an expression or one pattern's regex) into a JS RegExp source. */
export function expand(
  text: string,
  lookup: PatternLookup,
  scope: { name: string | null; origin?: string | undefined },
  options: ExpandOptions = {},
): Expansion {
  const ex = new Expander(lookup, options, text);
  ex.stack = scope.name === null ? [] : [scope.name];
  ex.translate(text, { name: scope.name, origin: scope.origin });
  return { source: ex.out, fields: ex.fields, expanded: ex.expanded, repeats: ex.repeats };
}

function where(scope: Scope, expression: string): string {
  if (scope.name === null) return `the expression "${expression.length > 120 ? expression.slice(0, 117) + '...' : expression}"`;
  return scope.origin ? `pattern ${scope.name} (${scope.origin})` : `pattern ${scope.name}`;
}

class Expander {
  out = '';
  groups = 0;
  readonly fields: GrokField[] = [];
  readonly expanded: string[] = [];
  readonly repeats: RepeatFix[] = [];
  stack: string[] = [];
  private flags: Flags;
  /** The group that closed last, while a quantifier may still follow it. */
  private closed: Closed | undefined;
  /** The frame of the whole expression (a reference's own frame is passed to translate()). */
  private readonly root: Paren;

  constructor(
    private readonly lookup: PatternLookup,
    private readonly options: ExpandOptions,
    private readonly topText: string,
  ) {
    this.flags = { ci: false, dotAll: options.dotAll ?? false, extended: false };
    this.root = this.frame(0);
  }

  private frame(atomicGroup: number): Paren {
    return { atomicGroup, outStart: this.out.length, fieldStart: this.fields.length, savedFlags: this.flags, hasAlt: false, conditional: new Set() };
  }

  /** Whether a named field becomes a capture group (all do, unless `capture` lists some). */
  private captures(name: string): boolean {
    return this.options.capture === undefined || this.options.capture.has(name);
  }

  private fail(scope: Scope, what: string): never {
    throw new GrokError(`${what} in ${where(scope, this.topText)}`, scope.name ?? undefined, scope.origin);
  }

  /** Translates `src` into `out`; `base` is the group it sits in (the reference's, or the root). */
  translate(src: string, scope: Scope, base: Paren = this.root): void {
    const parens: Paren[] = [];
    const outer = this.flags;
    let i = 0;
    const n = src.length;
    while (i < n) {
      const c = src[i]!;
      const atomStart = this.out.length;
      if (c !== '*' && c !== '+' && c !== '?' && c !== '{') this.closed = undefined;
      switch (c) {
        case '\\':
          i = this.escape(src, i, scope, false);
          break;
        case '[':
          i = this.charClass(src, i, scope);
          break;
        case '(':
          i = this.openGroup(src, i, scope, parens);
          break;
        case ')': {
          const p = parens.pop();
          if (!p) this.fail(scope, `unbalanced ")" at offset ${i}`);
          // Atomic (?>X) is emulated as (?:(?=(X))\N): the lookahead finds what X
          // matches first and the backreference consumes exactly that, so the
          // engine cannot backtrack into it.
          this.out += p.atomicGroup ? `))\\${p.atomicGroup})` : ')';
          this.closeFrame(p, parens[parens.length - 1] ?? base);
          i++;
          continue;
        }
        case '|':
          (parens[parens.length - 1] ?? base).hasAlt = true;
          this.out += c;
          i++;
          break;
        case '*':
        case '+':
        case '?':
        case '{': {
          const q = this.quantifier(src, i);
          if (!q) {
            this.out += '\\{';
            i++;
            break;
          }
          i = this.quantified(src, i, scope, q, parens, base);
          continue;
        }
        case '.':
          // Ruby's (?m) is JS's dot-all; without it `.` stops at a newline only.
          this.out += this.flags.dotAll === (this.options.dotAll ?? false) ? '.' : this.flags.dotAll ? '[\\s\\S]' : '[^\\n]';
          i++;
          break;
        case '%':
          if (src[i + 1] === '{') {
            i = this.reference(src, i, scope, parens, base);
            continue;
          }
          this.out += c;
          i++;
          break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
        case '\f':
        case '\v':
          if (!this.flags.extended) this.out += c;
          i++;
          break;
        case '#':
          if (this.flags.extended) {
            const nl = src.indexOf('\n', i);
            i = nl < 0 ? n : nl + 1;
            break;
          }
          this.out += c;
          i++;
          break;
        default:
          this.out += this.flags.ci ? caseless(c) : c;
          i++;
      }
      this.lastAtom = atomStart;
    }
    if (parens.length > 0) this.fail(scope, `missing ")" (${parens.length} group(s) left open)`);
    this.flags = outer;
  }

  /** Where the last atom (the target of a quantifier) starts in `out`. */
  private lastAtom = 0;

  /** A quantifier at `i`: `*`, `+`, `?`, `{n}`, `{n,}`, `{,m}`, `{n,m}`; undefined for a literal `{`. */
  private quantifier(src: string, i: number): { text: string; min: number; max: number; end: number } | undefined {
    const c = src[i]!;
    if (c === '*') return { text: '*', min: 0, max: Infinity, end: i + 1 };
    if (c === '+') return { text: '+', min: 1, max: Infinity, end: i + 1 };
    if (c === '?') return { text: '?', min: 0, max: 1, end: i + 1 };
    const q = /^\{(\d*)(,?)(\d*)\}/.exec(src.slice(i, i + 24));
    if (!q || (q[1] === '' && !(q[2] === ',' && q[3] !== ''))) return undefined;
    const min = q[1] === '' ? 0 : Number(q[1]);
    const max = q[2] === '' ? min : q[3] === '' ? Infinity : Number(q[3]);
    // Oniguruma's {,m} means {0,m}; in JS it would be literal text.
    return { text: `{${min}${q[2]}${q[3]}}`, min, max, end: i + q[0].length };
  }

  /**
   * Emits a quantifier (and any that are stacked on it, which Oniguruma reads
   * as nested: `.?*` is `(?:.?)*`), lazy `?` kept, possessive `+` emulated
   * with an atomic group. Returns the index after it.
   */
  private quantified(src: string, i: number, scope: Scope, first: { text: string; min: number; max: number; end: number }, parens: Paren[], base: Paren): number {
    const start = this.closed?.outStart ?? this.lastAtom;
    if (start === this.out.length) this.fail(scope, `quantifier "${first.text}" with nothing to repeat at offset ${i}`);
    // The repeated group as translated, before any quantifier (for a RepeatFix).
    const body = this.out.slice(start);
    let q: { text: string; min: number; max: number; end: number } | undefined = first;
    let min = 1;
    let max = 1;
    let stacked = false;
    while (q) {
      if (stacked) this.out = `${this.out.slice(0, start)}(?:${this.out.slice(start)})`;
      this.out += q.text;
      min *= q.min;
      max *= q.max;
      i = q.end;
      const c = src[i];
      if (c === '?') {
        this.out += '?';
        i++;
      } else if (c === '+' && (q.text === '*' || q.text === '+' || q.text === '?')) {
        // Possessive (Ruby syntax: only after * + ?): an atomic group around it.
        const g = this.insertGroupBefore(start);
        this.out = `${this.out.slice(0, start)}(?:(?=(${this.out.slice(start)}))\\${g})`;
        i++;
      }
      const next = src[i];
      q = next === '*' || next === '+' || next === '?' || next === '{' ? this.quantifier(src, i) : undefined;
      stacked = true;
    }
    const closed = this.closed;
    this.closed = undefined;
    if (closed && closed.outStart === start) {
      const parent = parens[parens.length - 1] ?? base;
      if (max > 1 && closed.conditional.size > 0 && !this.options.syntaxOnly) this.repeatFix(start, body, closed, scope);
      if (min === 0) for (let f = closed.fieldStart; f < closed.fieldEnd; f++) parent.conditional.add(f);
    }
    return i;
  }

  /** Wraps the repetition at `start` in a capture and records how to redo its captures the Oniguruma way. */
  private repeatFix(start: number, body: string, closed: Closed, scope: Scope): void {
    const first = countGroups(this.out.slice(0, start)) + 1;
    const inside = countGroups(body);
    const local = (text: string, offset: number): string =>
      text.replace(/\\\\|\\(\d+)/g, (m, d: string | undefined) => {
        if (d === undefined) return m;
        const n = Number(d);
        if (n < first || n >= first + inside) {
          this.fail(scope, 'a backreference from inside a repeated group with optional captures to a capture outside it is not supported');
        }
        return `\\${n - first + 1 + offset}`;
      });
    const step = `(?:${local(body, 0)})(?=(?:${local(body, inside)})*$)`;
    const fields: Array<{ field: number; group: number }> = [];
    for (let f = closed.fieldStart; f < closed.fieldEnd; f++) fields.push({ field: f, group: this.fields[f]!.group - first + 1 });
    const g = this.insertGroupBefore(start);
    this.out = `${this.out.slice(0, start)}(${this.out.slice(start)})`;
    this.repeats.push({ group: g, step, fields });
  }

  /**
   * A capture group inserted before output position `start` (for possessive
   * quantifiers and repetitions): every group number already emitted at or after `start` moves up by one.
   */
  private insertGroupBefore(start: number): number {
    const before = this.out.slice(0, start);
    // The capture groups opened before `start` keep their numbers.
    const g = countGroups(before) + 1;
    if (g <= this.groups) {
      // Renumber: later groups (fields and backreferences in the tail) shift by one.
      const tail = this.out.slice(start).replace(/\\\\|\\(\d+)/g, (m, d: string | undefined) => (d !== undefined && Number(d) >= g ? `\\${Number(d) + 1}` : m));
      this.out = before + tail;
      for (let f = 0; f < this.fields.length; f++) {
        const fld = this.fields[f]!;
        if (fld.group >= g) this.fields[f] = { ...fld, group: fld.group + 1 };
      }
      for (const r of this.repeats) if (r.group >= g) r.group++;
    }
    this.groups++;
    return g;
  }

  private closeFrame(p: Paren, parent: Paren): void {
    const conditional = new Set<number>(p.conditional);
    // A field in one branch of an alternation is not set when another branch matches.
    if (p.hasAlt) for (let f = p.fieldStart; f < this.fields.length; f++) conditional.add(f);
    for (const f of conditional) parent.conditional.add(f);
    this.closed = { outStart: p.outStart, fieldStart: p.fieldStart, fieldEnd: this.fields.length, conditional };
    this.flags = p.savedFlags;
  }

  private escape(src: string, i: number, scope: Scope, inClass: boolean): number {
    const c = src[i + 1];
    if (c === undefined) this.fail(scope, 'trailing backslash');
    const refused = REFUSED_ESCAPES[c];
    if (refused) this.fail(scope, `${refused} is not supported`);
    if (c === 'x' && src[i + 2] === '{') {
      const m = /^\\x\{([0-9a-fA-F]{1,4})\}/.exec(src.slice(i, i + 9));
      if (!m) this.fail(scope, '\\x{…} code point above U+FFFF or malformed');
      this.out += `\\u${m[1]!.padStart(4, '0')}`;
      return i + m[0].length;
    }
    // Oniguruma's \e (escape) and \a (bell); without the u flag JS reads them as plain letters.
    if (c === 'e' || c === 'a') {
      this.out += c === 'e' ? '\\x1b' : '\\x07';
      return i + 2;
    }
    if (c === 'h') {
      this.out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      return i + 2;
    }
    if (c === 'H') {
      if (inClass) this.fail(scope, '\\H (non-hex-digit) inside a character class is not supported');
      this.out += '[^0-9a-fA-F]';
      return i + 2;
    }
    // Oniguruma's \w is Unicode (é, ß, 文 are word characters): paths and names with them match.
    if (c === 'w') {
      this.out += inClass ? UNICODE_WORD : `[${UNICODE_WORD}]`;
      return i + 2;
    }
    if (!inClass) {
      const m = this.options.multiline;
      if (c === 'A') {
        this.out += m ? '(?<![\\s\\S])' : '^';
        return i + 2;
      }
      if (c === 'z') {
        this.out += m ? '(?![\\s\\S])' : '$';
        return i + 2;
      }
      if (c === 'Z') {
        this.out += m ? '(?=\\n?(?![\\s\\S]))' : '(?=\\n?$)';
        return i + 2;
      }
      if (c >= '1' && c <= '9') {
        this.fail(
          scope,
          `numbered backreference "\\${c}" is not supported (groups are renumbered; name the group (?<name>…) and use \\k<name>)`,
        );
      }
      if (c === 'k') return this.namedBackreference(src, i, scope);
    }
    this.out += this.flags.ci && /[a-zA-Z]/.test(c) && !/[dDsSwWbBtnrfvxucp0]/.test(c) ? caseless(c) : '\\' + c;
    return i + 2;
  }

  /** \k<name> refers to the latest field of that name seen so far. */
  private namedBackreference(src: string, i: number, scope: Scope): number {
    const m = /^\\k(?:<([^>]+)>|'([^']+)')/.exec(src.slice(i, i + 256));
    if (!m) this.fail(scope, 'malformed \\k<name> backreference');
    const name = m[1] ?? m[2]!;
    for (let f = this.fields.length - 1; f >= 0; f--) {
      if (this.fields[f]!.name === name) {
        this.out += `(?:\\${this.fields[f]!.group})`;
        return i + m[0].length;
      }
    }
    if (this.options.syntaxOnly) {
      this.out += '(?:)';
      return i + m[0].length;
    }
    this.fail(scope, `backreference \\k<${name}> to a field not captured before it`);
  }

  /** A bracket class; a class nested in it (Oniguruma's union, `[[[:alnum:]]_-]`) is merged into it. */
  private charClass(src: string, start: number, scope: Scope): number {
    this.out += '[';
    const negated = src[start + 1] === '^';
    if (negated) this.out += '^';
    const i = this.classBody(src, negated ? start + 2 : start + 1, scope, start);
    this.out += ']';
    return i;
  }

  /** Emits the inside of a class starting at `i` (after `[` / `[^`); returns the index after its `]`. */
  private classBody(src: string, i: number, scope: Scope, start: number): number {
    // A `]` first in the class is literal in Oniguruma; in JS `[]` is empty.
    if (src[i] === ']') {
      this.out += '\\]';
      i++;
    }
    while (i < src.length) {
      const c = src[i]!;
      if (c === ']') return i + 1;
      if (c === '\\') {
        i = this.escape(src, i, scope, true);
        continue;
      }
      if (c === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i, i + 16));
        if (posix) {
          if (posix[1]) this.fail(scope, `negated POSIX class "${posix[0]}" is not supported`);
          const ranges = posixClassRanges(posix[2]!);
          if (ranges === undefined) this.fail(scope, `unknown POSIX class "${posix[0]}"`);
          this.out += ranges;
          i += posix[0].length;
          continue;
        }
        if (src[i + 1] === '^') {
          this.fail(scope, 'negated character class nested in "[…]" is not supported (JS classes cannot subtract; escape a literal as \\[)');
        }
        // A nested class is a union with the outer one.
        i = this.classBody(src, i + 1, scope, i);
        continue;
      }
      if (c === '&' && src[i + 1] === '&') {
        this.fail(scope, 'character class intersection "&&" is not supported');
      }
      this.out += c;
      if (this.flags.ci && /[a-zA-Z\u00c0-\uffff]/.test(c)) {
        const other = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        if (other.length === 1 && other !== c) {
          // A range x-y keeps its shape in the other case (a-z → A-Z).
          if (src[i + 1] === '-' && src[i + 2] !== undefined && src[i + 2] !== ']') {
            const to = src[i + 2]!;
            const otherTo = to === to.toLowerCase() ? to.toUpperCase() : to.toLowerCase();
            this.out += `-${to}${other}-${otherTo}`;
            i += 3;
            continue;
          }
          this.out += other;
        }
      }
      i++;
    }
    this.fail(scope, `unterminated character class starting at offset ${start}`);
  }

  private openGroup(src: string, i: number, scope: Scope, parens: Paren[]): number {
    if (src[i + 1] !== '?') {
      // Plain groups only group: captures are for named fields.
      parens.push(this.frame(0));
      this.out += '(?:';
      return i + 1;
    }
    const rest = src.slice(i, i + 260);
    const simple = /^\(\?(?::|=|!|<=|<!)/.exec(rest);
    if (simple) {
      parens.push(this.frame(0));
      this.out += simple[0];
      return i + simple[0].length;
    }
    const named = /^\(\?(?:P?<([^>=!][^>]*)>|'([^']+)')/.exec(rest);
    if (named) {
      const name = named[1] ?? named[2]!;
      parens.push(this.frame(0));
      if (!this.captures(name)) {
        this.out += '(?:';
        return i + named[0].length;
      }
      this.out += '(';
      this.fields.push({ name, group: ++this.groups, type: 'string' });
      return i + named[0].length;
    }
    if (rest.startsWith('(?>')) {
      const g = ++this.groups;
      parens.push(this.frame(g));
      this.out += '(?:(?=(';
      return i + 3;
    }
    if (rest.startsWith('(?#')) {
      const end = src.indexOf(')', i);
      if (end < 0) this.fail(scope, 'unterminated comment group (?#…');
      return end + 1;
    }
    if (rest.startsWith('(?(')) this.fail(scope, 'conditional group (?(…)…) is not supported');
    if (rest.startsWith('(?~')) this.fail(scope, 'absent operator (?~…) is not supported');
    const flags = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (flags) {
      // Inline options: (?imx-imx) to the end of the enclosing group, (?imx-imx:…) inside it.
      let next = this.flags;
      for (const [letters, on] of [
        [flags[1] ?? '', true],
        [flags[2] ?? '', false],
      ] as const) {
        for (const l of letters) {
          if (l === 'i') next = { ...next, ci: on };
          else if (l === 'm') next = { ...next, dotAll: on };
          else if (l === 'x') next = { ...next, extended: on };
          else this.fail(scope, `inline option "${l}" in "${flags[0]}" is not supported (options: i, m, x)`);
        }
      }
      if (flags[3] === ':') {
        parens.push(this.frame(0));
        this.out += '(?:';
      }
      this.flags = next;
      return i + flags[0].length;
    }
    this.fail(scope, `unsupported group syntax "${rest.slice(0, 4)}"`);
  }

  /**
   * `%{NAME}`, `%{NAME:field}`, `%{NAME:field:type}` (types include Telegraf's
   * `measurement` and `ts…`, with `ts-"layout"` quoted). As in Logstash, text
   * after a space is ignored: `%{NAME some words}` is `%{NAME}`.
   */
  private reference(src: string, i: number, scope: Scope, parens: Paren[], base: Paren): number {
    const layout = /^%\{([^{}:\s]+):([^{}:\s]+):(ts-"[^"]*")\}/.exec(src.slice(i, i + 400));
    const end = layout ? i + layout[0].length - 1 : src.indexOf('}', i + 2);
    if (end < 0) this.fail(scope, `unterminated reference "${src.slice(i, i + 30)}"`);
    let body = src.slice(i + 2, end);
    if (/\s/.test(body) && !layout) {
      // Logstash ignores what follows the name (and field) up to the "}": %{NAGIOSLOGLINE - CURRENT HOST STATE}
      // is %{NAGIOSLOGLINE}, %{WORD:verb the method} is %{WORD:verb}.
      body = /^[^\s]*/.exec(body)![0];
    }
    const parts = layout ? [layout[1]!, layout[2]!, layout[3]!] : body.split(':');
    const [name, field, typeText] = parts;
    if (parts.length > 3 || !name || !PATTERN_NAME.test(name) || field === '' || typeText === '') {
      this.fail(scope, `malformed reference "%{${body}}" (expected %{NAME}, %{NAME:field} or %{NAME:field:type})`);
    }
    let type: GrokType = 'string';
    let ts: TimestampSpec | undefined;
    if (typeText !== undefined) {
      ts = timestampSpec(typeText);
      if (ts) type = 'timestamp';
      else if ((GROK_TYPES as readonly string[]).includes(typeText) && typeText !== 'timestamp') type = typeText as GrokType;
      else {
        this.fail(
          scope,
          `unknown type "${typeText}" in "%{${body}}" (types: string, int, float, tag, drop, duration, seconds, measurement, ts, ts-epoch, ts-epochmilli, ts-epochnano, ts-syslog, ts-httpd, ts-rfc3339, … or ts-"Go layout")`,
        );
      }
    }
    const frame = this.frame(0);
    parens.push(frame);
    if (field !== undefined && this.captures(field)) {
      this.out += '(';
      this.fields.push(ts ? { name: field, group: ++this.groups, type, timestamp: ts } : { name: field, group: ++this.groups, type });
    } else {
      this.out += '(?:';
    }
    if (this.options.syntaxOnly) {
      this.out += ')';
      parens.pop();
      this.closeFrame(frame, parens[parens.length - 1] ?? base);
      return end + 1;
    }
    const def = this.lookup(name);
    if (!def) this.fail(scope, `unknown pattern "${name}" used`);
    if (def.broken) throw def.broken;
    const at = this.stack.indexOf(name);
    if (at >= 0) {
      const cycle = [...this.stack.slice(at), name].join(' -> ');
      this.fail(scope, `pattern cycle ${cycle}`);
    }
    this.stack.push(name);
    // The referenced pattern is a group of its own: its top-level `|` and inline options stay inside.
    this.translate(def.regex, { name, origin: def.origin }, frame);
    this.stack.pop();
    if (!this.expanded.includes(name)) this.expanded.push(name);
    this.out += ')';
    parens.pop();
    this.closeFrame(frame, parens[parens.length - 1] ?? base);
    return end + 1;
  }
}

/** Capture groups opened in a translated source (escapes and classes skipped). */
function countGroups(src: string): number {
  let count = 0;
  for (let k = 0; k < src.length; k++) {
    const ch = src[k];
    if (ch === '\\') {
      k++;
      continue;
    }
    if (ch === '[') {
      k++;
      while (k < src.length && src[k] !== ']') {
        if (src[k] === '\\') k++;
        k++;
      }
      continue;
    }
    if (ch === '(' && src[k + 1] !== '?') count++;
  }
  return count;
}

/** `a` → `[aA]` (for (?i) scopes when the whole RegExp is not case-insensitive). */
function caseless(c: string): string {
  const lower = c.toLowerCase();
  const upper = c.toUpperCase();
  if (lower === upper || lower.length !== 1 || upper.length !== 1) return c;
  return `[${lower}${upper}]`;
}

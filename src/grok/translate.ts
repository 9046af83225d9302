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
import { GROK_TYPES, type GrokField, type GrokType } from './types.js';

export interface PatternDef {
  readonly regex: string;
  /** `file:line`, or a label such as `config grok.patterns`; undefined when defined in code. */
  readonly origin: string | undefined;
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

/** POSIX bracket classes, as ASCII ranges (Oniguruma's ASCII-range meaning). */
const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  ascii: '\\x00-\\x7f',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\r\\n\\v\\f',
  upper: 'A-Z',
  word: '\\w',
  xdigit: '0-9a-fA-F',
};

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

interface Paren {
  readonly atomicGroup: number; // 0 for an ordinary group
}

export interface Expansion {
  readonly source: string;
  readonly fields: GrokField[];
  /** Every pattern expanded, innermost first (used to blame an invalid RegExp on one pattern). */
  readonly expanded: string[];
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
  return { source: ex.out, fields: ex.fields, expanded: ex.expanded };
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
  stack: string[] = [];

  constructor(
    private readonly lookup: PatternLookup,
    private readonly options: ExpandOptions,
    private readonly topText: string,
  ) {}

  /** Whether a named field becomes a capture group (all do, unless `capture` lists some). */
  private captures(name: string): boolean {
    return this.options.capture === undefined || this.options.capture.has(name);
  }

  private fail(scope: Scope, what: string): never {
    throw new GrokError(`${what} in ${where(scope, this.topText)}`, scope.name ?? undefined, scope.origin);
  }

  translate(src: string, scope: Scope): void {
    const parens: Paren[] = [];
    let i = 0;
    const n = src.length;
    while (i < n) {
      const c = src[i]!;
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
          i++;
          break;
        }
        case '*':
        case '+':
        case '?':
          this.out += c;
          i = this.afterQuantifier(src, i + 1, scope, c);
          break;
        case '{': {
          const q = /^\{(\d*)(,?)(\d*)\}/.exec(src.slice(i, i + 24));
          if (q && (q[1] !== '' || (q[2] === ',' && q[3] !== ''))) {
            // Oniguruma's {,m} means {0,m}; in JS it would be literal text.
            this.out += `{${q[1] === '' ? '0' : q[1]}${q[2]}${q[3]}}`;
            i = this.afterQuantifier(src, i + q[0].length, scope, q[0]);
          } else {
            this.out += '\\{';
            i++;
          }
          break;
        }
        case '%':
          if (src[i + 1] === '{') {
            i = this.reference(src, i, scope);
          } else {
            this.out += c;
            i++;
          }
          break;
        default:
          this.out += c;
          i++;
      }
    }
    if (parens.length > 0) this.fail(scope, `missing ")" (${parens.length} group(s) left open)`);
  }

  /** After a quantifier: lazy `?` passes, possessive `+` is refused. */
  private afterQuantifier(src: string, i: number, scope: Scope, quantifier: string): number {
    if (src[i] === '+') {
      this.fail(
        scope,
        `possessive quantifier "${quantifier}+" is not supported (JS RegExp has none; use an atomic group (?>…) or a tighter class)`,
      );
    }
    if (src[i] === '?') {
      this.out += '?';
      return i + 1;
    }
    return i;
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
    this.out += '\\' + c;
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

  private charClass(src: string, start: number, scope: Scope): number {
    let i = start + 1;
    this.out += '[';
    if (src[i] === '^') {
      this.out += '^';
      i++;
    }
    // A `]` first in the class is literal in Oniguruma; in JS `[]` is empty.
    if (src[i] === ']') {
      this.out += '\\]';
      i++;
    }
    while (i < src.length) {
      const c = src[i]!;
      if (c === ']') {
        this.out += ']';
        return i + 1;
      }
      if (c === '\\') {
        i = this.escape(src, i, scope, true);
        continue;
      }
      if (c === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(src.slice(i, i + 16));
        if (posix) {
          if (posix[1]) this.fail(scope, `negated POSIX class "${posix[0]}" is not supported`);
          const ranges = POSIX_CLASSES[posix[2]!];
          if (!ranges) this.fail(scope, `unknown POSIX class "${posix[0]}"`);
          this.out += ranges;
          i += posix[0].length;
          continue;
        }
        this.fail(scope, 'nested character class "[" inside "[…]" is not supported (escape a literal as \\[)');
      }
      if (c === '&' && src[i + 1] === '&') {
        this.fail(scope, 'character class intersection "&&" is not supported');
      }
      this.out += c;
      i++;
    }
    this.fail(scope, `unterminated character class starting at offset ${start}`);
  }

  private openGroup(src: string, i: number, scope: Scope, parens: Paren[]): number {
    if (src[i + 1] !== '?') {
      // Plain groups only group: captures are for named fields.
      this.out += '(?:';
      parens.push({ atomicGroup: 0 });
      return i + 1;
    }
    const rest = src.slice(i, i + 260);
    const simple = /^\(\?(?::|=|!|<=|<!)/.exec(rest);
    if (simple) {
      this.out += simple[0];
      parens.push({ atomicGroup: 0 });
      return i + simple[0].length;
    }
    const named = /^\(\?(?:P?<([^>=!][^>]*)>|'([^']+)')/.exec(rest);
    if (named) {
      const name = named[1] ?? named[2]!;
      if (!this.captures(name)) {
        this.out += '(?:';
        parens.push({ atomicGroup: 0 });
        return i + named[0].length;
      }
      this.out += '(';
      this.fields.push({ name, group: ++this.groups, type: 'string' });
      parens.push({ atomicGroup: 0 });
      return i + named[0].length;
    }
    if (rest.startsWith('(?>')) {
      const g = ++this.groups;
      this.out += '(?:(?=(';
      parens.push({ atomicGroup: g });
      return i + 3;
    }
    if (rest.startsWith('(?#')) {
      const end = src.indexOf(')', i);
      if (end < 0) this.fail(scope, 'unterminated comment group (?#…');
      return end + 1;
    }
    if (rest.startsWith('(?(')) this.fail(scope, 'conditional group (?(…)…) is not supported');
    if (rest.startsWith('(?~')) this.fail(scope, 'absent operator (?~…) is not supported');
    const flags = /^\(\?[a-zA-Z]*(?:-[a-zA-Z]*)?[:)]/.exec(rest);
    if (flags) {
      this.fail(
        scope,
        `inline flag group "${flags[0]}" is not supported (only a leading (?i) at the very start of the whole expression, which becomes the i flag)`,
      );
    }
    this.fail(scope, `unsupported group syntax "${rest.slice(0, 4)}"`);
  }

  private reference(src: string, i: number, scope: Scope): number {
    const end = src.indexOf('}', i + 2);
    if (end < 0) this.fail(scope, `unterminated reference "${src.slice(i, i + 30)}"`);
    const body = src.slice(i + 2, end);
    const parts = body.split(':');
    const [name, field, typeText] = parts;
    if (parts.length > 3 || !name || !PATTERN_NAME.test(name) || field === '' || typeText === '') {
      this.fail(scope, `malformed reference "%{${body}}" (expected %{NAME}, %{NAME:field} or %{NAME:field:type})`);
    }
    let type: GrokType = 'string';
    if (typeText !== undefined) {
      if (!(GROK_TYPES as readonly string[]).includes(typeText)) {
        this.fail(scope, `unknown type "${typeText}" in "%{${body}}" (types: ${GROK_TYPES.join(', ')})`);
      }
      type = typeText as GrokType;
    }
    if (field !== undefined && this.captures(field)) {
      this.out += '(';
      this.fields.push({ name: field, group: ++this.groups, type });
    } else {
      this.out += '(?:';
    }
    if (this.options.syntaxOnly) {
      this.out += ')';
      return end + 1;
    }
    const def = this.lookup(name);
    if (!def) this.fail(scope, `unknown pattern "${name}" used`);
    const at = this.stack.indexOf(name);
    if (at >= 0) {
      const cycle = [...this.stack.slice(at), name].join(' -> ');
      this.fail(scope, `pattern cycle ${cycle}`);
    }
    this.stack.push(name);
    this.translate(def.regex, { name, origin: def.origin });
    this.stack.pop();
    if (!this.expanded.includes(name)) this.expanded.push(name);
    this.out += ')';
    return end + 1;
  }
}

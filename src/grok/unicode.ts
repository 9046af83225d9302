/**
 * Oniguruma's Unicode meaning of `\w` and the POSIX bracket classes, as
 * character-class ranges for a RegExp without the `u` flag (the compiler's
 * RegExps have none, so that Oniguruma-style escapes such as `\-` or `\_`
 * stay valid). Built once from V8's own Unicode property tables; BMP only
 * (a character outside it is two UTF-16 units to a RegExp without `u`).
 */

function ranges(test: RegExp): string {
  let out = '';
  let from = -1;
  const hex = (c: number): string => `\\u${c.toString(16).padStart(4, '0')}`;
  const flush = (to: number): void => {
    if (from < 0) return;
    out += from === to ? hex(from) : from + 1 === to ? hex(from) + hex(to) : `${hex(from)}-${hex(to)}`;
    from = -1;
  };
  for (let c = 0x80; c <= 0xffff; c++) {
    // Surrogate halves are not characters on their own.
    const inClass = (c < 0xd800 || c > 0xdfff) && test.test(String.fromCharCode(c));
    if (inClass && from < 0) from = c;
    else if (!inClass) flush(c - 1);
  }
  flush(0xffff);
  return out;
}

/** The ASCII part as written (what a reader of the expanded source knows), then the non-ASCII ranges. */
function withAscii(ascii: string, test: RegExp): string {
  return ascii + ranges(test);
}

/** Unicode word characters (Letter, Mark, Decimal_Number, Connector_Punctuation), as Oniguruma's `\w`. */
export const UNICODE_WORD = withAscii('a-zA-Z0-9_', /^[\p{L}\p{M}\p{Nd}\p{Pc}]$/u);

const POSIX: Record<string, () => string> = {
  alnum: () => withAscii('a-zA-Z0-9', /^[\p{Alphabetic}\p{Nd}]$/u),
  alpha: () => withAscii('a-zA-Z', /^\p{Alphabetic}$/u),
  ascii: () => '\\x00-\\x7f',
  blank: () => withAscii(' \\t', /^[\p{Zs}\t]$/u),
  cntrl: () => withAscii('\\x00-\\x1f\\x7f', /^\p{Cc}$/u),
  digit: () => withAscii('0-9', /^\p{Nd}$/u),
  graph: () => withAscii('\\x21-\\x7e', /^[^\p{White_Space}\p{Cc}\p{Cn}\p{Cs}]$/u),
  lower: () => withAscii('a-z', /^\p{Lowercase}$/u),
  print: () => withAscii('\\x20-\\x7e', /^[^\p{White_Space}\p{Cc}\p{Cn}\p{Cs}]|\p{Zs}$/u),
  // Oniguruma's punct: Unicode punctuation plus the ASCII symbols POSIX counts ($+<=>^`|~).
  punct: () => withAscii('!-\\/:-@\\[-`{-~', /^\p{P}$/u),
  space: () => withAscii(' \\t\\r\\n\\v\\f', /^\p{White_Space}$/u),
  upper: () => withAscii('A-Z', /^\p{Uppercase}$/u),
  word: () => UNICODE_WORD,
  xdigit: () => '0-9a-fA-F',
};

const built = new Map<string, string>();

/** Class-body ranges of a POSIX class (`alpha` → `a-zA-Z\u00aa…`), undefined when unknown. */
export function posixClassRanges(name: string): string | undefined {
  const make = POSIX[name];
  if (!make) return undefined;
  let r = built.get(name);
  if (r === undefined) built.set(name, (r = make()));
  return r;
}

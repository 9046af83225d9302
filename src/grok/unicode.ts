/**
 * Oniguruma's Unicode meaning of `\w` and the POSIX bracket classes, as
 * character-class ranges for a RegExp without the `u` flag (the compiler's
 * RegExps have none, so that Oniguruma-style escapes such as `\-` or `\_`
 * stay valid). Built once from V8's own Unicode property tables; BMP only
 * (a character outside it is two UTF-16 units to a RegExp without `u`).
 */

/** Every BMP character from U+0080 up, surrogate halves left out (they are not characters on their own). */
let bmp: string | undefined;

/**
 * `\uXXXX-\uYYYY` ranges of the non-ASCII BMP characters in `cls` (a class body for a `u` RegExp).
 * One global scan over all of them: each run of matches is one range (a few ms, once per class).
 */
function ranges(cls: string): string {
  if (bmp === undefined) {
    const units = new Uint16Array(0x10000 - 0x80 - 0x800);
    let n = 0;
    for (let c = 0x80; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) units[n++] = c;
    bmp = new TextDecoder('utf-16le').decode(units);
  }
  const hex = (c: number): string => `\\u${c.toString(16).padStart(4, '0')}`;
  let out = '';
  for (const m of bmp.matchAll(new RegExp(`[${cls}]+`, 'gu'))) {
    // A run may cross the surrogate gap, which is not in the string: split it there.
    const from = m[0].charCodeAt(0);
    const to = m[0].charCodeAt(m[0].length - 1);
    if (from < 0xd800 && to > 0xdfff) out += `${hex(from)}-${hex(0xd7ff)}${hex(0xe000)}-${hex(to)}`;
    else out += from === to ? hex(from) : `${hex(from)}-${hex(to)}`;
  }
  return out;
}

/** The ASCII part as written (what a reader of the expanded source knows), then the non-ASCII ranges. */
function withAscii(ascii: string, cls: string): string {
  return ascii + ranges(cls);
}

/** Unicode word characters (Letter, Mark, Decimal_Number, Connector_Punctuation), as Oniguruma's `\w`. */
export const UNICODE_WORD = withAscii('a-zA-Z0-9_', '\\p{L}\\p{M}\\p{Nd}\\p{Pc}');

const POSIX: Record<string, () => string> = {
  alnum: () => withAscii('a-zA-Z0-9', '\\p{Alphabetic}\\p{Nd}'),
  alpha: () => withAscii('a-zA-Z', '\\p{Alphabetic}'),
  ascii: () => '\\x00-\\x7f',
  blank: () => withAscii(' \\t', '\\p{Zs}'),
  cntrl: () => withAscii('\\x00-\\x1f\\x7f', '\\p{Cc}'),
  digit: () => withAscii('0-9', '\\p{Nd}'),
  graph: () => withAscii('\\x21-\\x7e', '^\\p{White_Space}\\p{Cc}\\p{Cn}\\p{Cs}'),
  lower: () => withAscii('a-z', '\\p{Lowercase}'),
  print: () => withAscii('\\x20-\\x7e', '\\p{L}\\p{M}\\p{N}\\p{P}\\p{S}\\p{Zs}\\p{Cf}\\p{Co}'),
  // Oniguruma's punct: Unicode punctuation plus the ASCII symbols POSIX counts ($+<=>^`|~).
  punct: () => withAscii('!-\\/:-@\\[-`{-~', '\\p{P}'),
  space: () => withAscii(' \\t\\r\\n\\v\\f', '\\p{White_Space}'),
  upper: () => withAscii('A-Z', '\\p{Uppercase}'),
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

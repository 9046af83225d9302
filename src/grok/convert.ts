/**
 * Turning captured text into typed values for `CompiledGrok.match`.
 * A value that cannot be converted leaves the field out (like Telegraf, which
 * logs and skips it) rather than recording NaN.
 */

const GO_DURATION_UNIT_S: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  'µs': 1e-6, // U+00B5 micro sign, as Go prints it
  'μs': 1e-6, // U+03BC Greek mu, which Go also accepts
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};
const GO_DURATION = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Seconds for a Go-style duration (`1.5s`, `300ms`, `1m30s`, `2h45m`, `10us`).
 * A plain number is taken as seconds already (nginx and gunicorn print times
 * that way). NaN when it is neither.
 */
export function parseGoDurationSeconds(text: string): number {
  const s = text.trim();
  if (PLAIN_NUMBER.test(s)) return Number(s);
  if (!GO_DURATION.test(s)) return Number.NaN;
  let total = 0;
  for (const m of s.matchAll(GO_DURATION_PART)) total += Number(m[1]) * GO_DURATION_UNIT_S[m[2]!]!;
  return s.startsWith('-') ? -total : total;
}

/**
 * Nanoseconds of a Go duration, exactly as Go's time.ParseDuration (what
 * Telegraf's `:duration` gives): `5.432µs` → 5432, `1m30s` → 90e9. A bare
 * number other than 0 has no unit and is NaN, as in Go.
 */
export function parseGoDurationNanos(text: string): number {
  if (text === '0' || text === '+0' || text === '-0') return 0;
  if (!GO_DURATION.test(text)) return Number.NaN;
  let total = 0;
  for (const m of text.matchAll(GO_DURATION_PART)) {
    const [int, frac = ''] = m[1]!.split('.');
    const unit = GO_DURATION_UNIT_S[m[2]!]! * 1e9;
    total += Number(int || '0') * unit;
    // Go adds the fraction as float64(f) * (unit / scale), truncated.
    if (frac !== '') total += Math.trunc(Number(frac) * (unit / 10 ** frac.length));
  }
  return text.startsWith('-') ? -total : total;
}

const GO_INT = /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)$/;

/**
 * Integer as Go's strconv.ParseInt(text, 0, 64), what Telegraf's `:int` does:
 * `0x`/`0b`/`0o` prefixes, a leading 0 for octal, `_` between digits; a
 * fraction or anything else is NaN (no field), as is a value outside int64.
 * Values beyond 2^53 lose precision as JS numbers.
 */
export function toInt(text: string): number {
  if (!GO_INT.test(text)) return Number.NaN;
  const neg = text.startsWith('-');
  let body = text.replace(/^[+-]/, '').replaceAll('_', '');
  if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
  const v = BigInt(body);
  if (neg ? v > 9223372036854775808n : v > 9223372036854775807n) return Number.NaN;
  return Number(neg ? -v : v);
}

/** Float value, NaN when the text is not a number (an empty capture is not 0). */
export function toFloat(text: string): number {
  const s = text.trim();
  if (s === '') return Number.NaN;
  const n = Number(s);
  return Number.isFinite(n) ? n : Number.NaN;
}

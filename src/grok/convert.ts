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

/** Integer value (truncated toward zero), NaN when the text is not a number. */
export function toInt(text: string): number {
  const s = text.trim();
  if (s === '') return Number.NaN;
  const n = Number(s);
  return Number.isFinite(n) ? Math.trunc(n) : Number.NaN;
}

/** Float value, NaN when the text is not a number (an empty capture is not 0). */
export function toFloat(text: string): number {
  const s = text.trim();
  if (s === '') return Number.NaN;
  const n = Number(s);
  return Number.isFinite(n) ? n : Number.NaN;
}

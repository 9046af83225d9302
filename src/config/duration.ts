/**
 * Durations in the config are written the way operators write them
 * ("250ms", "5s", "10m", "1h"); a bare number means seconds.
 * Everything inside the program works in milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Milliseconds for a duration string or a number of seconds; NaN when it is not one. */
export function parseDurationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const m = DURATION.exec(value.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/**
 * Log timestamps to epoch milliseconds, without Date parsing of free text:
 * only the two shapes Quay writes. Used for event points and mirror state,
 * not per line.
 */
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** nginx `$time_local`: `22/Nov/2026:10:15:32 +0000`. NaN when malformed. */
export function parseHttpDate(text: string): number {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m || MONTHS[m[2]!] === undefined) return Number.NaN;
  const utc = Date.UTC(+m[3]!, MONTHS[m[2]!]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!);
  const offset = (m[7] === '-' ? -1 : 1) * (+m[8]! * 60 + +m[9]!);
  return utc - offset * 60_000;
}

/** Minutes east of UTC for `UTC`, `Z`, `+02:00`, `-0530`. */
export function parseZoneOffset(zone: string): number {
  if (zone === 'UTC' || zone === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return Number.NaN;
  return (m[1] === '-' ? -1 : 1) * (+m[2]! * 60 + +m[3]!);
}

/** Epoch ms of the last day seen, so lines of the same day cost a few digit reads. */
let cachedDay = '';
let cachedDayMs = 0;

/** Value of the two digits at `i`, or NaN. */
function two(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : Number.NaN;
}

/**
 * The fast path of parsePythonTime alone: Quay's exact layout `2026-11-22 10:15:32,123`, no RegExp, the
 * date part parsed once per day; NaN for anything else (parsePythonTime then reads it the slow way).
 * Exported for its tests: behind parsePythonTime a fast path that gives up is invisible.
 */
export function parsePythonTimeFast(text: string, offsetMinutes = 0): number {
  if (text.length !== 23 || text.charCodeAt(10) !== 32 || text.charCodeAt(19) !== 44) return Number.NaN;
  if (!text.startsWith(cachedDay) || cachedDay === '') {
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.slice(0, 10));
    if (day) {
      cachedDay = day[0];
      cachedDayMs = Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!);
    }
  }
  const d3 = text.charCodeAt(22) - 48; // the third millisecond digit: checked like the others
  const ms = d3 >= 0 && d3 <= 9 ? two(text, 20) * 10 + d3 : Number.NaN;
  const t = two(text, 11) * 3_600_000 + two(text, 14) * 60_000 + two(text, 17) * 1000 + ms;
  if (text.startsWith(cachedDay) && cachedDay !== '' && t === t && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58) {
    return cachedDayMs + t - offsetMinutes * 60_000;
  }
  return Number.NaN;
}

/** Python logging asctime `2026-11-22 10:15:32,123`, read in a zone `offsetMinutes` east of UTC. */
export function parsePythonTime(text: string, offsetMinutes = 0): number {
  const fast = parsePythonTimeFast(text, offsetMinutes);
  if (fast === fast) return fast;
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[,.](\d{1,6}))?$/.exec(text);
  if (!m) return Number.NaN;
  const ms = m[7] ? Math.floor(+m[7].padEnd(3, '0').slice(0, 3)) : 0;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms) - offsetMinutes * 60_000;
}

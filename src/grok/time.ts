/**
 * Timestamps for Telegraf's `ts*` modifiers: Go reference layouts
 * (`02/Jan/2006:15:04:05 -0700`), epochs, syslog stamps, and the time zone
 * used when the text has no offset (Telegraf's `grok_timezone`).
 *
 * Written after Go's time.Parse rules (what Telegraf runs), not copied: the
 * same layout elements, the same strictness (fixed-width `01`, `02`, `15`…),
 * a fractional second accepted after the seconds even when the layout has
 * none, a year-less layout giving year 0 (the caller adds the current year).
 */
import type { GrokTimestamp, TimestampSpec } from './types.js';

/** Telegraf's named layouts (plugins/parsers/grok: timeLayouts), as Go layouts. */
export const NAMED_LAYOUTS: Readonly<Record<string, string>> = {
  'ts-ansic': 'Mon Jan _2 15:04:05 2006',
  'ts-unix': 'Mon Jan _2 15:04:05 MST 2006',
  'ts-ruby': 'Mon Jan 02 15:04:05 -0700 2006',
  'ts-rfc822': '02 Jan 06 15:04 MST',
  'ts-rfc822z': '02 Jan 06 15:04 -0700',
  'ts-rfc850': 'Monday, 02-Jan-06 15:04:05 MST',
  'ts-rfc1123': 'Mon, 02 Jan 2006 15:04:05 MST',
  'ts-rfc1123z': 'Mon, 02 Jan 2006 15:04:05 -0700',
  'ts-rfc3339': '2006-01-02T15:04:05Z07:00',
  'ts-rfc3339nano': '2006-01-02T15:04:05.999999999Z07:00',
  'ts-httpd': '02/Jan/2006:15:04:05 -0700',
};

const SPECIAL: Readonly<Record<string, TimestampSpec['kind']>> = {
  ts: 'generic',
  'ts-epoch': 'epoch',
  'ts-epochmilli': 'epochmilli',
  'ts-epochnano': 'epochnano',
  'ts-syslog': 'syslog',
};

/** Go's time.Stamp, what `ts-syslog` parses. */
const SYSLOG_LAYOUT = 'Jan _2 15:04:05';

/** The spec for a modifier (`ts-httpd`, `ts-"02/01/2006"`), undefined when it is not a timestamp modifier. */
export function timestampSpec(modifier: string): TimestampSpec | undefined {
  const special = SPECIAL[modifier];
  if (special) return { kind: special } as TimestampSpec;
  const named = NAMED_LAYOUTS[modifier];
  if (named) return { kind: 'layout', layout: named, name: modifier };
  const custom = /^ts-"(.+)"$/s.exec(modifier);
  if (custom) return { kind: 'layout', layout: custom[1]! };
  return undefined;
}

// ---------------------------------------------------------------------------
// Time zones

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** A zone name Telegraf accepts: `UTC`, `Local`, or an IANA name. Returns the IANA name, or undefined. */
export function resolveTimeZone(zone: string | undefined): string | undefined {
  if (zone === undefined || zone === '' || zone === 'UTC') return 'UTC';
  if (zone === 'Local') return Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

/** Offset of `zone` from UTC, in ms, at the UTC instant `utcMs`. */
function zoneOffsetMs(zone: string, utcMs: number): number {
  if (zone === 'UTC') return 0;
  let f = offsetFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    offsetFormatters.set(zone, f);
  }
  const at = Math.floor(utcMs / 1000) * 1000;
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(new Date(at))) p[part.type] = part.value;
  let year = Number(p.year);
  if (p.era === 'BC' || p.era === 'B') year = 1 - year;
  const wall = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return wall - at;
}

/** UTC ms of a wall-clock time (given as if it were UTC) in `zone`. */
function wallToUtcMs(wallMs: number, zone: string): number {
  if (zone === 'UTC') return wallMs;
  const first = wallMs - zoneOffsetMs(zone, wallMs);
  return wallMs - zoneOffsetMs(zone, first);
}

// ---------------------------------------------------------------------------
// Go layouts

type Element =
  | { readonly k: 'lit'; readonly text: string }
  | { readonly k: 'year4' | 'year2' | 'monthName' | 'monthAbbr' | 'month2' | 'month1' | 'day2' | 'dayUnder' | 'day1' }
  | { readonly k: 'yday3' | 'weekday' | 'weekdayAbbr' | 'hour24' | 'hour12z' | 'hour12' | 'min2' | 'min1' | 'sec2' | 'sec1' }
  | { readonly k: 'PM' | 'pm' | 'tzAbbr' }
  | { readonly k: 'offset'; readonly z: boolean; readonly colon: boolean; readonly minutes: boolean; readonly seconds: boolean }
  | { readonly k: 'frac'; readonly digits: number; readonly optional: boolean };

/** Layout tokens in the order Go's nextStdChunk tries them. */
const TOKENS: ReadonlyArray<readonly [string, Element]> = [
  ['January', { k: 'monthName' }],
  ['Jan', { k: 'monthAbbr' }],
  ['Monday', { k: 'weekday' }],
  ['Mon', { k: 'weekdayAbbr' }],
  ['MST', { k: 'tzAbbr' }],
  ['2006', { k: 'year4' }],
  ['002', { k: 'yday3' }],
  ['01', { k: 'month2' }],
  ['02', { k: 'day2' }],
  ['03', { k: 'hour12z' }],
  ['04', { k: 'min2' }],
  ['05', { k: 'sec2' }],
  ['06', { k: 'year2' }],
  ['15', { k: 'hour24' }],
  ['1', { k: 'month1' }],
  ['2', { k: 'day1' }],
  ['3', { k: 'hour12' }],
  ['4', { k: 'min1' }],
  ['5', { k: 'sec1' }],
  ['PM', { k: 'PM' }],
  ['pm', { k: 'pm' }],
  ['_2', { k: 'dayUnder' }],
  ['Z07:00:00', { k: 'offset', z: true, colon: true, minutes: true, seconds: true }],
  ['Z07:00', { k: 'offset', z: true, colon: true, minutes: true, seconds: false }],
  ['Z070000', { k: 'offset', z: true, colon: false, minutes: true, seconds: true }],
  ['Z0700', { k: 'offset', z: true, colon: false, minutes: true, seconds: false }],
  ['Z07', { k: 'offset', z: true, colon: false, minutes: false, seconds: false }],
  ['-07:00:00', { k: 'offset', z: false, colon: true, minutes: true, seconds: true }],
  ['-07:00', { k: 'offset', z: false, colon: true, minutes: true, seconds: false }],
  ['-070000', { k: 'offset', z: false, colon: false, minutes: true, seconds: true }],
  ['-0700', { k: 'offset', z: false, colon: false, minutes: true, seconds: false }],
  ['-07', { k: 'offset', z: false, colon: false, minutes: false, seconds: false }],
];

const compiledLayouts = new Map<string, Element[]>();

function compileLayout(layout: string): Element[] {
  const hit = compiledLayouts.get(layout);
  if (hit) return hit;
  const out: Element[] = [];
  let lit = '';
  let i = 0;
  outer: while (i < layout.length) {
    // Fractional seconds: .000 / ,000 (fixed) or .999 / ,999 (optional), after a seconds element.
    const c = layout[i]!;
    if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const d = layout[i + 1]!;
      let j = i + 1;
      while (layout[j] === d) j++;
      const prev = out[out.length - 1];
      if (lit === '' && prev && (prev.k === 'sec2' || prev.k === 'sec1') && !/[0-9]/.test(layout[j] ?? '')) {
        out.push({ k: 'frac', digits: j - i - 1, optional: d === '9' });
        i = j;
        continue;
      }
    }
    for (const [tok, el] of TOKENS) {
      if (layout.startsWith(tok, i)) {
        // Go: "Jan"/"Mon" are not elements when followed by a lower-case letter ("Janet").
        if ((tok === 'Jan' || tok === 'Mon') && /[a-z]/.test(layout[i + tok.length] ?? '')) continue;
        if (lit) out.push({ k: 'lit', text: lit });
        lit = '';
        out.push(el);
        i += tok.length;
        continue outer;
      }
    }
    lit += c;
    i++;
  }
  if (lit) out.push({ k: 'lit', text: lit });
  compiledLayouts.set(layout, out);
  return out;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

interface Parsed {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  min: number;
  sec: number;
  nanos: number;
  /** Seconds east of UTC, when the text carried one. */
  offset: number | undefined;
}

/** Digits at `s[i]`: exactly `fixed` of them, or 1..max when fixed is 0. */
function num(s: string, i: number, fixed: number, max = 2): [number, number] | undefined {
  let j = i;
  const limit = fixed || max;
  while (j < s.length && j - i < limit && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  if (j === i || (fixed && j - i !== fixed)) return undefined;
  return [Number(s.slice(i, j)), j];
}

function lookup(s: string, i: number, names: readonly string[], abbr: boolean): [number, number] | undefined {
  for (let n = 0; n < names.length; n++) {
    const name = abbr ? names[n]!.slice(0, 3) : names[n]!;
    if (s.slice(i, i + name.length).toLowerCase() === name) return [n, i + name.length];
  }
  return undefined;
}

/** Go's time.Parse of `value` with `layout`; undefined when it does not parse. */
export function parseGoLayout(layout: string, value: string): Parsed | undefined {
  const els = compileLayout(layout);
  const p: Parsed = { year: 0, month: 1, day: 1, hour: 0, min: 0, sec: 0, nanos: 0, offset: undefined };
  let pm: boolean | undefined;
  let hour12 = false;
  let yday = -1;
  let i = 0;
  for (let e = 0; e < els.length; e++) {
    const el = els[e]!;
    let r: [number, number] | undefined;
    switch (el.k) {
      case 'lit':
        if (!value.startsWith(el.text, i)) return undefined;
        i += el.text.length;
        continue;
      case 'year4':
        r = num(value, i, 4);
        if (!r) return undefined;
        p.year = r[0];
        break;
      case 'year2':
        r = num(value, i, 2);
        if (!r) return undefined;
        p.year = r[0] >= 69 ? 1900 + r[0] : 2000 + r[0];
        break;
      case 'monthName':
      case 'monthAbbr':
        r = lookup(value, i, MONTHS, el.k === 'monthAbbr');
        if (!r) return undefined;
        p.month = r[0] + 1;
        break;
      case 'month2':
      case 'month1':
        r = num(value, i, el.k === 'month2' ? 2 : 0);
        if (!r || r[0] < 1 || r[0] > 12) return undefined;
        p.month = r[0];
        break;
      case 'weekday':
      case 'weekdayAbbr':
        r = lookup(value, i, DAYS, el.k === 'weekdayAbbr');
        if (!r) return undefined;
        break;
      case 'dayUnder':
      case 'day1':
      case 'day2': {
        let at = i;
        if (el.k === 'dayUnder' && value[at] === ' ') at++;
        r = num(value, at, el.k === 'day2' ? 2 : 0);
        if (!r || r[0] < 1 || r[0] > 31) return undefined;
        p.day = r[0];
        break;
      }
      case 'yday3':
        r = num(value, i, 3);
        if (!r || r[0] < 1 || r[0] > 366) return undefined;
        yday = r[0];
        break;
      case 'hour24':
        r = num(value, i, 0);
        if (!r || r[0] > 23) return undefined;
        p.hour = r[0];
        break;
      case 'hour12z':
      case 'hour12':
        r = num(value, i, el.k === 'hour12z' ? 2 : 0);
        if (!r || r[0] > 12) return undefined;
        p.hour = r[0];
        hour12 = true;
        break;
      case 'min2':
      case 'min1':
        r = num(value, i, el.k === 'min2' ? 2 : 0);
        if (!r || r[0] > 59) return undefined;
        p.min = r[0];
        break;
      case 'sec2':
      case 'sec1': {
        r = num(value, i, el.k === 'sec2' ? 2 : 0);
        if (!r || r[0] > 59) return undefined;
        p.sec = r[0];
        // Go accepts a fraction after the seconds even when the layout has none.
        const next = els[e + 1];
        const at = r[1];
        if ((!next || next.k !== 'frac') && (value[at] === '.' || value[at] === ',') && /[0-9]/.test(value[at + 1] ?? '')) {
          let j = at + 1;
          while (j < value.length && /[0-9]/.test(value[j]!)) j++;
          p.nanos = fraction(value.slice(at + 1, j));
          r = [r[0], j];
        }
        break;
      }
      case 'frac': {
        if (el.optional) {
          if (value[i] !== '.' && value[i] !== ',') continue;
          let j = i + 1;
          while (j < value.length && /[0-9]/.test(value[j]!)) j++;
          p.nanos = fraction(value.slice(i + 1, j));
          i = j;
          continue;
        }
        if (value[i] !== '.' && value[i] !== ',') return undefined;
        const digits = value.slice(i + 1, i + 1 + el.digits);
        if (!/^[0-9]+$/.test(digits) || digits.length !== el.digits) return undefined;
        p.nanos = fraction(digits);
        i += 1 + el.digits;
        continue;
      }
      case 'PM':
      case 'pm': {
        const t = value.slice(i, i + 2).toUpperCase();
        if (t !== 'AM' && t !== 'PM') return undefined;
        pm = t === 'PM';
        i += 2;
        continue;
      }
      case 'tzAbbr': {
        const m = /^(?:UTC|GMT(?:[+-][0-9]{1,2})?|[A-Z][A-Za-z]{2,4})/.exec(value.slice(i));
        if (!m) return undefined;
        const gmt = /^GMT([+-][0-9]{1,2})$/.exec(m[0]);
        if (gmt) p.offset = Number(gmt[1]) * 3600;
        else if (m[0] === 'UTC' || m[0] === 'GMT') p.offset = 0;
        // Other abbreviations: Go uses the zone's offset when the location
        // knows the abbreviation, else 0; we keep the location's offset (undefined).
        i += m[0].length;
        continue;
      }
      case 'offset': {
        if (el.z && value[i] === 'Z') {
          p.offset = 0;
          i++;
          continue;
        }
        const re = el.colon
          ? el.seconds
            ? /^([+-])([0-9]{2}):([0-9]{2}):([0-9]{2})/
            : /^([+-])([0-9]{2}):([0-9]{2})/
          : el.minutes
            ? el.seconds
              ? /^([+-])([0-9]{2})([0-9]{2})([0-9]{2})/
              : /^([+-])([0-9]{2})([0-9]{2})/
            : /^([+-])([0-9]{2})/;
        const m = re.exec(value.slice(i));
        if (!m) return undefined;
        const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
        p.offset = m[1] === '-' ? -secs : secs;
        i += m[0].length;
        continue;
      }
    }
    i = r[1];
  }
  if (i !== value.length) return undefined; // Go: "extra text"
  if (hour12 && pm !== undefined) {
    if (pm && p.hour < 12) p.hour += 12;
    else if (!pm && p.hour === 12) p.hour = 0;
  }
  if (yday >= 0) {
    const d = new Date(Date.UTC(p.year, 0, yday));
    p.month = d.getUTCMonth() + 1;
    p.day = d.getUTCDate();
  }
  // Go refuses a day out of range for its month ("day out of range").
  const daysIn = new Date(Date.UTC(p.year === 0 ? 2000 : p.year, p.month, 0)).getUTCDate();
  if (p.day > daysIn) return undefined;
  return p;
}

/** Nanoseconds of a fraction's digits (`359052` → 359052000), beyond 9 digits truncated. */
function fraction(digits: string): number {
  return Number((digits + '000000000').slice(0, 9));
}

/** ms of a wall-clock date taken as UTC; years 0–99 kept as such (Date.UTC would add 1900). */
function wallMs(year: number, month: number, day: number, hour: number, min: number, sec: number): number {
  const d = new Date(Date.UTC(2000, month - 1, day, hour, min, sec));
  d.setUTCFullYear(year, month - 1, day);
  return d.getTime();
}

function stamp(ms: number, nanosInSecond: number): GrokTimestamp {
  const epochNs = BigInt(ms) * 1_000_000n + BigInt(nanosInSecond);
  return { epochNs, epochMs: ms + Math.floor(nanosInSecond / 1e6) };
}

function fromNs(ns: bigint): GrokTimestamp {
  const ms = ns >= 0n ? ns / 1_000_000n : -((-ns + 999_999n) / 1_000_000n);
  return { epochNs: ns, epochMs: Number(ms) };
}

/** Go's strconv.ParseInt(s, 10, 64) as a bigint, undefined when it fails. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v > 9223372036854775807n || v < -9223372036854775808n) return undefined;
  return v;
}

/**
 * The time of a captured text under a spec, as Telegraf computes it; undefined
 * when it does not parse (Telegraf logs it and keeps the time of reading).
 * `zone` is an IANA name (see resolveTimeZone), `nowMs` gives the year of a
 * year-less layout.
 */
export function parseTimestamp(spec: TimestampSpec, text: string, zone: string, nowMs: number): GrokTimestamp | undefined {
  switch (spec.kind) {
    case 'epoch': {
      // Seconds, then up to 9 fraction digits (more are cut, fewer padded), as Telegraf does.
      const dot = text.indexOf('.');
      const sec = parseInt64(dot < 0 ? text : text.slice(0, dot));
      if (sec === undefined) return undefined;
      let ns = sec * 1_000_000_000n;
      if (dot >= 0) {
        const frac = (text.slice(dot + 1) + '000000000').slice(0, 9);
        const n = parseInt64(frac);
        if (n === undefined) return undefined;
        ns += n;
      }
      return fromNs(ns);
    }
    case 'epochmilli': {
      const v = parseInt64(text);
      return v === undefined ? undefined : fromNs(v * 1_000_000n);
    }
    case 'epochnano': {
      const v = parseInt64(text);
      return v === undefined ? undefined : fromNs(v);
    }
    case 'syslog':
      return fromLayout(SYSLOG_LAYOUT, text, zone, nowMs, true);
    case 'generic':
      for (const layout of Object.values(NAMED_LAYOUTS)) {
        const t = fromLayout(layout, text, zone, nowMs, false);
        if (t) return t;
      }
      return undefined;
    case 'layout':
      // Telegraf reads a decimal comma as a point for layouts it did not name ("15:04:05,000" lines).
      return fromLayout(spec.layout, spec.name ? text : text.replaceAll(',', '.'), zone, nowMs, true);
  }
}

function fromLayout(layout: string, text: string, zone: string, nowMs: number, yearFromNow: boolean): GrokTimestamp | undefined {
  const p = parseGoLayout(layout, text);
  if (!p) return undefined;
  // Telegraf adds the current year to a stamp without one (syslog, "Jan 2 15:04:05").
  const year = p.year === 0 && yearFromNow ? new Date(nowMs).getUTCFullYear() : p.year;
  const wall = wallMs(year, p.month, p.day, p.hour, p.min, p.sec);
  const utc = p.offset !== undefined ? wall - p.offset * 1000 : wallToUtcMs(wall, zone);
  return stamp(utc, p.nanos);
}

/**
 * Which captures of a rule's expression may become a label (or an InfluxDB
 * tag): decided from the pattern each field is captured with. A field whose
 * pattern is (or uses) an address, a path, a URI, a UUID, free text or a
 * number is unbounded: one series per distinct value would grow without end.
 * The rule must then say `accept_unbounded: [field]` (the series cap still
 * applies). This is a reading of the expression, not of the data.
 */
import type { PatternLibrary } from '../grok/index.js';

/** Grok names whose values are open-ended (grok-base.grok, logstash and Telegraf names, quay.grok). */
export const UNBOUNDED_PATTERNS: ReadonlySet<string> = new Set([
  // numbers: an exit code is fine, a byte count or an id is not; use an inline (?<f>\d{3}) for the bounded ones
  'INT', 'NUMBER', 'BASE10NUM', 'BASE16NUM', 'BASE16FLOAT', 'POSINT', 'NONNEGINT',
  // free text
  'NOTSPACE', 'DATA', 'GREEDYDATA', 'QUOTEDSTRING', 'QS', 'SPACE',
  // identities and ids
  'USERNAME', 'USER', 'EMAILLOCALPART', 'EMAILADDRESS', 'HTTPDUSER', 'UUID', 'URN',
  'MAC', 'COMMONMAC', 'WINDOWSMAC', 'CISCOMAC',
  // addresses
  'IP', 'IPV4', 'IPV6', 'HOSTNAME', 'HOST', 'IPORHOST', 'HOSTPORT', 'QUAY_ADDR',
  // paths and URIs
  'PATH', 'UNIXPATH', 'WINPATH', 'URI', 'URIHOST', 'URIPATH', 'URIPARAM', 'URIPATHPARAM', 'URIQUERY',
  // times
  'TIME', 'DATE', 'DATE_US', 'DATE_EU', 'DATESTAMP', 'DATESTAMP_RFC822', 'DATESTAMP_RFC2822', 'DATESTAMP_OTHER',
  'DATESTAMP_EVENTLOG', 'TIMESTAMP_ISO8601', 'HTTPDATE', 'SYSLOGTIMESTAMP', 'HTTPDERROR_DATE', 'NGINX_ERROR_TIME', 'GUNICORN_TIME',
]);

/** Regex text that matches arbitrary text: `.` / `\S` / `\W` / a negated class, repeated without bound. */
const OPEN_TEXT = /(?:(?<!\\)\.|\\[SWD]|\[\^(?:\\.|[^\]\\])*\])(?:[*+]|\{\d*,\})/;
const REFERENCE = /%\{([A-Za-z0-9_][A-Za-z0-9_.-]*)(?::([^:}]*))?(?::([^}]*))?\}/g;

export interface Capture {
  readonly field: string;
  /** Why the field is unbounded, or undefined when it is bounded. */
  readonly unbounded: string | undefined;
}

/** Whether a named pattern is unbounded, following its references. */
function patternUnbounded(lib: PatternLibrary, name: string, seen: Set<string>): string | undefined {
  if (UNBOUNDED_PATTERNS.has(name)) return `%{${name}}`;
  if (seen.has(name)) return undefined;
  seen.add(name);
  const body = lib.definition(name);
  return body === undefined ? undefined : bodyUnbounded(lib, body, seen, `%{${name}}`);
}

function bodyUnbounded(lib: PatternLibrary, body: string, seen: Set<string>, label: string): string | undefined {
  for (const m of body.matchAll(REFERENCE)) {
    const why = patternUnbounded(lib, m[1]!, seen);
    if (why !== undefined) return label === why ? why : `${label} uses ${why}`;
  }
  if (OPEN_TEXT.test(body.replace(REFERENCE, ''))) return `${label} matches open-ended text`;
  return undefined;
}

/** The end of the group opened at `open` (index of its `(`), honouring escapes and classes. */
function groupEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < text.length && text[i] !== ']'; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return text.length;
}

const INLINE = /\(\?(?:<([^>=!]+)>|'([^']+)'|P<([^>]+)>)/g;

/**
 * Every named capture of a grok expression, with its boundedness: those written in it, and those inside
 * the definitions it uses (`MYPAT (?<inner>…)` makes a field `inner` too, as in Logstash).
 */
export function analyseCaptures(lib: PatternLibrary, expression: string): Map<string, Capture> {
  const out = new Map<string, Capture>();
  const note = (field: string, unbounded: string | undefined) => {
    // A name captured twice (alternatives) is unbounded if either capture is.
    const prior = out.get(field);
    out.set(field, { field, unbounded: prior?.unbounded ?? unbounded });
  };
  const visited = new Set<string>();
  const analyse = (text: string): void => {
    for (const m of text.matchAll(REFERENCE)) {
      const field = m[2];
      if (field === undefined || field === '') continue;
      const type = m[3] ?? 'string';
      if (type === 'int' || type === 'float' || type === 'duration' || type === 'seconds') note(field, `a number (:${type})`);
      else note(field, patternUnbounded(lib, m[1]!, new Set()));
    }
    for (const m of text.matchAll(INLINE)) {
      const field = m[1] ?? m[2] ?? m[3]!;
      const body = text.slice(m.index + m[0].length, groupEnd(text, m.index));
      note(field, bodyUnbounded(lib, body, new Set(), `(?<${field}>…)`));
    }
    for (const m of text.matchAll(REFERENCE)) {
      const name = m[1]!;
      if (visited.has(name)) continue;
      visited.add(name);
      const body = lib.definition(name);
      if (body !== undefined) analyse(body);
    }
  };
  analyse(expression);
  return out;
}

/**
 * supervisord's two formats in Quay's container output, read in one place:
 *
 * - the prefix `supervisor_stdout` (Quay's `[eventlistener:stdout]`) puts on
 *   every line of a program: `<program> stdout | <text>` or `… stderr | …`;
 * - supervisord's own log lines, which have no prefix:
 *   `2021-07-14 12:23:46,123 WARN exited: gunicorn-web (terminated by SIGKILL; not expected)`
 *   (`%(asctime)s %(levelname)s %(message)s`, levels CRIT ERRO WARN INFO DEBG TRAC BLAT).
 *
 * Plain string checks: this runs for every line of the combined stream.
 */

const SPACE = 32;
const BAR = 124;
/** Longest program name looked for: a longer first word is no program prefix. */
export const MAX_PROGRAM = 64;

/**
 * Index of the space that ends the program name when `line` starts with a
 * supervisord prefix, else -1. The text starts at textStartAfter(line, end).
 */
export function prefixEnd(line: string): number {
  const sp = line.indexOf(' ');
  if (sp <= 0 || sp > MAX_PROGRAM || line.charCodeAt(sp + 7) !== SPACE || line.charCodeAt(sp + 8) !== BAR) return -1;
  if (!line.startsWith('stdout', sp + 1) && !line.startsWith('stderr', sp + 1)) return -1;
  const after = line.charCodeAt(sp + 9);
  // "nginx stdout |" alone (an empty line whose trailing space was trimmed) is a prefix too.
  return after === SPACE || Number.isNaN(after) ? sp : -1;
}

/** Where the program's text starts, given prefixEnd()'s result (≥ 0). */
export function textStartAfter(line: string, end: number): number {
  return Math.min(end + 10, line.length);
}

/** Index just after a supervisord prefix, or 0 when the line has none. */
export function supervisordTextStart(line: string): number {
  const end = prefixEnd(line);
  return end < 0 ? 0 : textStartAfter(line, end);
}

/** supervisord's own log levels (supervisor/loggers.py LevelsByDescription, 4 letters). */
const LEVELS = new Set(['CRIT', 'ERRO', 'WARN', 'INFO', 'DEBG', 'TRAC', 'BLAT']);

/** A supervisord log line's parts; `message` starts at `messageStart`. */
export interface SupervisordLogLine {
  level: string;
  messageStart: number;
}

/**
 * Reads supervisord's own line (`YYYY-MM-DD HH:MM:SS,mmm LEVEL message`) into
 * `out`; false when the line is not one.
 */
export function readSupervisordLog(line: string, out: SupervisordLogLine): boolean {
  // 0123456789012345678901234
  // 2021-07-14 12:23:46,123 WARN …
  if (line.length < 29 || line.charCodeAt(4) !== 45 || line.charCodeAt(10) !== SPACE || line.charCodeAt(19) !== 44) return false;
  // A second space is alembic's padded `%(levelname)-5.5s` ("INFO  [alembic…"), not supervisord.
  if (line.charCodeAt(23) !== SPACE || line.charCodeAt(28) !== SPACE || line.charCodeAt(29) === SPACE) return false;
  if (!isDigits(line, 0, 4) || !isDigits(line, 20, 23)) return false;
  const level = line.slice(24, 28);
  if (!LEVELS.has(level)) return false;
  out.level = level;
  out.messageStart = 29;
  return true;
}

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

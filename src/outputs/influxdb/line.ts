/**
 * InfluxDB line protocol, one point per string:
 *   measurement,tag=v,tag=v field=1,text="x" 1700000000000
 *
 * Written here rather than through influx's `escape` helpers because those
 * leave two cases that break a whole batch: a newline in a tag value and a
 * tag value ending in a backslash (which would escape the separator after it).
 */
import type { InfluxConfig } from '../../config/schema.js';

export type Precision = InfluxConfig['precision'];
export type FieldValue = string | number | boolean;

/** Commas, equals signs and spaces are escaped in tag keys, tag values and field keys. */
const KEY_SPECIAL = /[,= ]/g;
const NEWLINES = /[\r\n]+/g;
const TRAILING_BACKSLASHES = /\\+$/;

export function escapeKey(text: string): string {
  return text.replace(NEWLINES, ' ').replace(TRAILING_BACKSLASHES, '').replace(KEY_SPECIAL, '\\$&');
}

/** Measurements escape commas and spaces only. */
export function escapeMeasurement(text: string): string {
  return text.replace(NEWLINES, ' ').replace(/[, ]/g, '\\$&');
}

/** String field values are double-quoted; `"` and `\` inside are escaped. */
export function quoteString(text: string): string {
  return '"' + text.replace(/["\\]/g, '\\$&') + '"';
}

/** A field value, or undefined for numbers InfluxDB cannot store (NaN, ±Infinity). */
export function formatField(value: FieldValue): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return quoteString(value);
}

/**
 * A millisecond time in the write precision. Strings, because nanoseconds
 * since the epoch do not fit a double exactly.
 */
export function formatTime(ms: number, precision: Precision): string {
  const whole = Math.round(ms);
  switch (precision) {
    case 's':
      return String(Math.floor(whole / 1000));
    case 'ms':
      return String(whole);
    case 'u':
      return whole === 0 ? '0' : whole + '000';
    case 'ns':
      return whole === 0 ? '0' : whole + '000000';
  }
}

/**
 * Tags in a stable order (InfluxDB wants them sorted by key for the fastest
 * writes). Empty values are left out: line protocol has no empty tag value.
 */
export function formatTags(tags: Readonly<Record<string, string>>): string {
  let out = '';
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key];
    if (value === undefined || value === '') continue;
    const v = escapeKey(value);
    if (v === '') continue;
    out += ',' + escapeKey(key) + '=' + v;
  }
  return out;
}

/**
 * One point. `tagPart` is the output of formatTags. Returns undefined when no
 * field is left (a point needs at least one).
 */
export function formatPoint(measurement: string, tagPart: string, fields: Readonly<Record<string, FieldValue>>, time: string): string | undefined {
  let fieldPart = '';
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    const v = formatField(value);
    if (v === undefined) continue;
    fieldPart += (fieldPart === '' ? '' : ',') + escapeKey(key) + '=' + v;
  }
  if (fieldPart === '') return undefined;
  return escapeMeasurement(measurement) + tagPart + ' ' + fieldPart + ' ' + time;
}

/**
 * LogRecord: what leaves the pipeline besides metrics (as Vector's one Event
 * type). A record is either a line with what our parsers read from it, or an
 * event (a slow transfer, a mirror sync, a GC run). Built only when a records
 * output is configured: with none, parsers skip their field writes (one
 * boolean test) and the router hands no line here.
 */
import type { QuayEvent } from '../events.js';

/** A field of a line's record; a rule's typed captures are one nested map (`captures`). */
export type FieldValue = string | number | boolean | Readonly<Record<string, string | number>>;

export interface LogRecord {
  readonly kind: 'line' | 'event';
  /** Milliseconds since the epoch: the Fluent time it arrived with, the event's log time, else when it was read. */
  readonly time: number;
  /** For a line, the source that parsed it (nginx, gunicorn, …, other); for an event, its name (quay_slow_transfer, …). */
  readonly source: string;
  /** How the line counted in quay_log_exporter_lines_total. */
  readonly result?: 'matched' | 'unmatched' | 'ignored';
  readonly line?: string;
  /** What the parser read: operation, namespace, repository, status, bytes, duration, …; an event's tags and fields. */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** The Fluent record the line arrived in (forward, stdin json/msgpack), kept whole. */
  readonly origin?: Readonly<Record<string, unknown>>;
  /** The Fluent tag it arrived with. */
  readonly tag?: string;
}

export interface RecordSink {
  write(record: LogRecord): void;
}

/** Where an input says which Fluent record the line it is about to hand over came from (same synchronous turn). */
export interface OriginSlot {
  /** Only when true do inputs fill `current`. */
  readonly active: boolean;
  current: { readonly record: Readonly<Record<string, unknown>>; readonly tag: string; readonly time: number | undefined } | undefined;
}

export const RESULTS = ['matched', 'unmatched', 'ignored'] as const;

export function eventRecord(e: QuayEvent): LogRecord {
  return { kind: 'event', time: e.time, source: e.measurement, fields: { ...e.tags, ...e.fields } };
}

/**
 * The record as Fluent sees it: the original record untouched, with what we
 * read under `quay` (no key of the sender's is overwritten). A line that came
 * as text gets it under `messageKey`. `quay.event` names an event.
 */
export function toFluentRecord(r: LogRecord, messageKey: string): Record<string, unknown> {
  if (r.kind === 'event') return { quay: { event: r.source, time: new Date(r.time).toISOString(), ...r.fields } };
  const quay = { source: r.source, result: r.result, ...r.fields };
  if (r.origin) return { ...r.origin, quay };
  return { [messageKey]: r.line, quay };
}

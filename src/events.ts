/**
 * Events: the rows behind the numbers (a slow transfer, a mirror sync, a GC
 * run), written as InfluxDB points by outputs that want them. Stamped with
 * the time in the log line, so a replay lands where it happened.
 * High-cardinality values (digest, client, user agent) go in fields only.
 */
import type { StreamInfo } from './inputs/types.js';

/** Built-in measurements, or one a rule names (src/rules). */
export type EventMeasurement = 'quay_slow_transfer' | 'quay_mirror_sync' | 'quay_mirror_attempt' | 'quay_gc_run' | (string & {});

export interface QuayEvent {
  readonly measurement: EventMeasurement;
  /** Milliseconds since the epoch, from the log line. */
  readonly time: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
  /** The stream of the line it came from; outputs write its pod (InfluxDB: fields `pod`, `pod_namespace`). */
  readonly stream?: StreamInfo;
}

export interface EventSink {
  emit(event: QuayEvent): void;
}

/** Fans events out to every sink; with none, emitting costs one length check. */
export class EventBus implements EventSink {
  private readonly sinks: EventSink[] = [];

  get active(): boolean {
    return this.sinks.length > 0;
  }

  add(sink: EventSink): void {
    this.sinks.push(sink);
  }

  emit(event: QuayEvent): void {
    for (const sink of this.sinks) sink.emit(event);
  }
}

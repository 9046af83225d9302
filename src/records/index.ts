/**
 * Records out: the router tells `observe` of every line after its parser ran
 * (with the fields the parser set), events arrive through the EventBus, and
 * each becomes one LogRecord, selected by `select` and written to every
 * configured output (stdout, forward). Nothing here exists without
 * `outputs.records`.
 */
import type { RecordsConfig } from '../config/schema.js';
import type { EventSink, QuayEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { MetricRegistry } from '../metrics/series.js';
import type { LineObserver } from '../quay/router.js';
import { LineResult } from '../quay/types.js';
import { LineFields } from './fields.js';
import { ForwardOutput } from './forward-output.js';
import { eventRecord, RESULTS, toFluentRecord, type LogRecord, type OriginSlot, type RecordSink } from './record.js';
import { StdoutOutput } from './stdout-output.js';

export type { LogRecord, OriginSlot, RecordSink } from './record.js';
export { LineFields } from './fields.js';

export class RecordsOut implements EventSink {
  /** Inputs say here which Fluent record a line came in. */
  readonly origin: OriginSlot;
  readonly observe: LineObserver;
  private readonly sinks: RecordSink[] = [];
  private readonly stdout: StdoutOutput | undefined;
  private readonly forward: ForwardOutput | undefined;

  constructor(
    private readonly config: RecordsConfig,
    readonly fields: LineFields,
    registry: MetricRegistry,
    log: Logger,
    stdout: NodeJS.WritableStream & { writableLength: number } = process.stdout,
  ) {
    fields.active = config.select !== 'events';
    this.origin = { active: fields.active, current: undefined };
    if (config.stdout) {
      this.stdout = new StdoutOutput(config.stdout, stdout, registry);
      const out = this.stdout;
      this.sinks.push({ write: (r) => out.write(toFluentRecord(r, config.message_key)) });
    }
    if (config.forward) {
      const fwd = (this.forward = new ForwardOutput(config.forward, registry, log));
      this.sinks.push({ write: (r) => fwd.send(this.tagOf(r), r.time, toFluentRecord(r, config.message_key)) });
    }
    const matchedOnly = config.select === 'matched';
    const noLines = config.select === 'events';
    this.observe = (source, result, line) => {
      const fields = this.fields.take();
      if (noLines || (matchedOnly && result !== LineResult.Matched)) {
        this.origin.current = undefined;
        return;
      }
      const o = this.origin.current;
      this.origin.current = undefined;
      this.writeAll({ kind: 'line', time: o?.time ?? Date.now(), source, result: RESULTS[result], line, fields, origin: o?.record, tag: o?.tag });
    };
  }

  emit(event: QuayEvent): void {
    this.writeAll(eventRecord(event));
  }

  /** Inputs wait on this while an output is more than half full. */
  backpressure(): Promise<void> | undefined {
    return this.forward?.backpressure() ?? this.stdout?.backpressure();
  }

  async shutdown(): Promise<void> {
    await this.forward?.shutdown();
    await this.stdout?.flush();
  }

  private writeAll(r: LogRecord): void {
    for (const s of this.sinks) s.write(r);
  }

  private tagOf(r: LogRecord): string {
    if (r.kind === 'event') return `${this.config.tag}.event.${r.source}`;
    return r.tag || `${this.config.tag}.${r.source}`;
  }
}

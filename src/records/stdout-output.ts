/**
 * Records to stdout, as Fluentd's out_exec_filter reads its child's output:
 * `json`, one object per line (`<parse> @type json`), or `msgpack`, maps back
 * to back (`<parse> @type msgpack`). A reader slower than the pipeline pauses
 * the inputs at max_buffer_bytes unwritten; at twice that, records are
 * dropped and counted rather than held without bound.
 */
import type { RecordsConfig } from '../config/schema.js';
import { encoder } from '../inputs/forward/protocol.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';

type StdoutConfig = NonNullable<RecordsConfig['stdout']>;
const OUTPUT = 'stdout';

export class StdoutOutput {
  private readonly out: ValueSlot;
  private readonly dropped: ValueSlot;

  constructor(
    private readonly config: StdoutConfig,
    private readonly stream: NodeJS.WritableStream & { writableLength: number },
    registry: MetricRegistry,
  ) {
    this.out = registry.counter('quay_log_exporter_records_out_total').at(OUTPUT);
    this.dropped = registry.counter('quay_log_exporter_records_dropped_total').at(OUTPUT);
  }

  write(record: Record<string, unknown>): void {
    if (this.stream.writableLength > 2 * this.config.max_buffer_bytes) {
      this.dropped.value++;
      return;
    }
    this.stream.write(this.config.format === 'json' ? JSON.stringify(record) + '\n' : encoder.encode(record));
    this.out.value++;
  }

  backpressure(): Promise<void> | undefined {
    if (this.stream.writableLength <= this.config.max_buffer_bytes) return undefined;
    return new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }

  /** Resolves when everything written has been handed to the OS. */
  flush(): Promise<void> {
    if (this.stream.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }
}

/**
 * The InfluxDB output: metrics (a PeriodicExportingMetricReader driving
 * InfluxMetricExporter on the shared MeterProvider) and event points, both
 * through one bounded queue to the InfluxDB 1.x `/write` API. See README.md.
 */
import { PeriodicExportingMetricReader, type MetricProducer, type MetricReader } from '@opentelemetry/sdk-metrics';
import type { InfluxConfig } from '../../config/schema.js';
import type { EventSink, QuayEvent } from '../../events.js';
import type { Logger } from '../../log.js';
import type { MetricRegistry } from '../../metrics/series.js';
import { InfluxWriter } from './client.js';
import { eventToLine } from './convert.js';
import { InfluxMetricExporter } from './exporter.js';
import { PointQueue, within } from './queue.js';

export interface InfluxOutput {
  /** A PeriodicExportingMetricReader driving InfluxMetricExporter, created with metricProducers: [deps.producer]. */
  readonly reader: MetricReader;
  /** Event points (QuayEvent → one point each, time from the event). emit() never blocks and never throws. */
  readonly events: EventSink;
  /** Final metrics export + flush of the queue, bounded by shutdown_timeout; then stop timers. */
  shutdown(): Promise<void>;
}

export interface InfluxDeps {
  readonly registry: MetricRegistry;
  readonly producer: MetricProducer;
  readonly log: Logger;
}

const OUTPUT = 'influxdb';

export function createInfluxOutput(config: InfluxConfig, deps: InfluxDeps): InfluxOutput {
  const { registry, log } = deps;
  const writer = new InfluxWriter(config);
  const stats = {
    written: registry.counter('quay_log_exporter_output_points_written_total').at(OUTPUT),
    dropped: registry.counter('quay_log_exporter_output_dropped_points_total').at(OUTPUT),
    errors: registry.counter('quay_log_exporter_output_write_errors_total').at(OUTPUT),
    queued: registry.gauge('quay_log_exporter_output_queue_points').at(OUTPUT),
  };
  const queue = new PointQueue({
    capacity: config.queue_size,
    batchSize: config.batch_size,
    // A zero interval would spin; 10 ms is already far below any sensible setting.
    flushIntervalMs: Math.max(10, config.flush_interval),
    maxRetryDelayMs: Math.max(1, config.max_retry_delay),
    send: (lines, signal) => writer.send(lines, signal),
    stats,
    log,
  });
  queue.start();

  let deadline: number | undefined;
  const remaining = () => (deadline === undefined ? config.shutdown_timeout : Math.max(0, deadline - Date.now()));

  const exporter = new InfluxMetricExporter({
    tags: config.tags,
    precision: config.precision,
    push: (line) => queue.push(line),
    flush: async () => {
      await queue.flush(remaining());
    },
  });
  const interval = Math.max(1, config.interval);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    exportTimeoutMillis: Math.max(1, Math.min(interval, config.timeout)),
    metricProducers: [deps.producer],
  });

  const tags = config.tags;
  const errorMax = config.events.error_max_bytes;
  const precision = config.precision;
  const events: EventSink = {
    emit(event: QuayEvent): void {
      if (!config.events.enabled) return;
      try {
        const line = eventToLine(event, tags, errorMax, precision);
        if (line !== undefined) queue.push(line);
        else stats.dropped.value++;
      } catch (err) {
        // A malformed event (from a parser bug) must not reach the tail loop.
        stats.dropped.value++;
        log.warn('influxdb output: event not converted', { measurement: event?.measurement, error: (err as Error).message });
      }
    },
  };

  log.info('influxdb output started', {
    url: writer.endpoint,
    database: config.database,
    interval_ms: interval,
    queue_size: config.queue_size,
  });

  let stopping: Promise<void> | undefined;
  return {
    reader,
    events,
    shutdown(): Promise<void> {
      stopping ??= (async () => {
        deadline = Date.now() + config.shutdown_timeout;
        // The reader's shutdown is the final collect + export, then exporter.forceFlush (bounded by the deadline).
        await within(
          reader.shutdown({ timeoutMillis: Math.max(1, remaining()) }).catch(() => undefined),
          remaining(),
        );
        // Events emitted meanwhile (or a reader already shut down by the MeterProvider).
        await queue.flush(remaining());
        const lost = queue.close();
        log.info('influxdb output stopped', { written: stats.written.value, dropped: stats.dropped.value, lost_at_shutdown: lost });
      })();
      return stopping;
    },
  };
}

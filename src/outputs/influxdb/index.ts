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
import { eventToLine, UniqueTimes } from './convert.js';
import { InfluxMetricExporter } from './exporter.js';
import { PointQueue, within } from './queue.js';

export interface InfluxOutput {
  /** A PeriodicExportingMetricReader driving InfluxMetricExporter, created with metricProducers: [deps.producer]. */
  readonly reader: MetricReader;
  /** Event points (QuayEvent → one point each, time from the event). emit() never blocks and never throws. */
  readonly events: EventSink;
  /** Final metrics export + flush of the queue, bounded by shutdown_timeout; then stop timers. */
  shutdown(): Promise<void>;
  /**
   * For `replay` only (a backfill must not drop what it reads): while the
   * queue is over half full, a promise that resolves once it has drained to a
   * quarter; otherwise undefined. `run` never waits on the network.
   */
  backpressure(): Promise<void> | undefined;
  /** Points not written so far: refused, dropped while full, or left at shutdown. */
  lost(): number;
}

export interface InfluxDeps {
  readonly registry: MetricRegistry;
  readonly producer: MetricProducer;
  readonly log: Logger;
}

const OUTPUT = 'influxdb';

/** How often a paused replay looks at the queue again. */
const BACKPRESSURE_POLL_MS = 20;

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
  // Not awaited: run and replay start at once; points written before the database exists are retried (404).
  void writer.prepare(config.database, !config.skip_database_creation).then((problem) => {
    if (problem === undefined) log.info('influxdb database ready', { database: config.database, created_if_missing: !config.skip_database_creation });
    else
      log.warn('influxdb output: database not ready at start-up; points are queued and retried', {
        database: config.database,
        action: config.skip_database_creation ? 'check it exists' : 'create it',
        error: problem,
      });
  });

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
  const times = new UniqueTimes();
  const events: EventSink = {
    emit(event: QuayEvent): void {
      if (!config.events.enabled) return;
      try {
        const line = eventToLine(event, tags, errorMax, precision, times);
        if (line !== undefined) queue.push(line);
        else stats.dropped.value++;
      } catch (err) {
        // A malformed event (from a parser bug) must not reach the tail loop.
        stats.dropped.value++;
        log.warn('influxdb output: event not converted', { measurement: event?.measurement, error: (err as Error).message });
      }
    },
  };

  if (config.tls?.insecure_skip_verify) log.warn("outputs.influxdb.tls.insecure_skip_verify: InfluxDB's certificate is not checked");
  if (config.tls && !config.url.startsWith('https:')) log.warn('outputs.influxdb.tls is set but the url is not https://: it is not used');
  log.info('influxdb output started', {
    url: writer.endpoint,
    database: config.database,
    interval_ms: interval,
    queue_size: config.queue_size,
  });

  let stopping: Promise<void> | undefined;
  const high = Math.max(1, Math.floor(config.queue_size / 2));
  const low = Math.floor(config.queue_size / 4);
  // Set once replay has waited replay_max_wait without a point written: from then on it reads on
  // and the points that do not fit are dropped and counted (replay then exits 1 with that count).
  let gaveUp = false;
  const drained = async (): Promise<void> => {
    let waitedMs = 0;
    let progressAt = Date.now();
    let written = stats.written.value;
    while (queue.size > low) {
      await new Promise((r) => setTimeout(r, BACKPRESSURE_POLL_MS));
      waitedMs += BACKPRESSURE_POLL_MS;
      if (stats.written.value !== written) {
        written = stats.written.value;
        progressAt = Date.now();
      } else if (Date.now() - progressAt >= config.replay_max_wait) {
        gaveUp = true;
        log.error('replay gives up waiting for influxdb; points that do not fit the queue are dropped', {
          waited_ms: Date.now() - progressAt,
          queued: queue.size,
        });
        return;
      }
      if (waitedMs % 10_000 === 0) log.warn('replay waits for influxdb to take queued points', { queued: queue.size });
    }
  };
  return {
    reader,
    events,
    backpressure: () => (!gaveUp && queue.size > high ? drained() : undefined),
    lost: () => stats.dropped.value,
    shutdown(): Promise<void> {
      stopping ??= (async () => {
        deadline = Date.now() + config.shutdown_timeout;
        // The reader's shutdown is the final collect + export, then exporter.forceFlush (bounded by the deadline).
        await within(
          reader.shutdown({ timeoutMillis: Math.max(1, remaining()) }).catch(() => undefined),
          remaining(),
        );
        // The reader's shutdown may have timed out before it stopped the exporter; the MeterProvider's
        // shutdown would then export once more into a closed queue and count every point lost twice.
        await exporter.shutdown();
        // Events emitted meanwhile (or a reader already shut down by the MeterProvider).
        await queue.flush(remaining());
        const lost = queue.close();
        log.info('influxdb output stopped', { written: stats.written.value, dropped: stats.dropped.value, lost_at_shutdown: lost });
      })();
      return stopping;
    },
  };
}

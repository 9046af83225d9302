/**
 * The OpenTelemetry side of the InfluxDB output: a PushMetricExporter that
 * turns each periodic collection into line-protocol points and queues them.
 * Delivery (batching, retries, drops) is the queue's job, so an export never
 * waits on the network and always reports success once the points are queued.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { metricsToLines } from './convert.js';
import type { Precision } from './line.js';

export interface ExporterOptions {
  readonly tags: Readonly<Record<string, string>>;
  readonly precision: Precision;
  /** Queue one point (the queue counts what it cannot take). */
  readonly push: (line: string) => void;
  /** Wait until the queue is written (bounded by the caller's timeout). */
  readonly flush: () => Promise<void>;
}

export class InfluxMetricExporter implements PushMetricExporter {
  private stopped = false;

  constructor(private readonly opts: ExporterOptions) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('influxdb exporter is shut down') });
      return;
    }
    try {
      for (const line of metricsToLines(metrics, this.opts.tags, Date.now(), this.opts.precision)) this.opts.push(line);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  forceFlush(): Promise<void> {
    return this.opts.flush();
  }

  /** Telegraf's layout stores what Prometheus shows: running totals. */
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
  }
}

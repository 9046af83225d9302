/**
 * Wraps the OpenTelemetry OTLP exporter (http/protobuf, http/json or gRPC):
 * sets this output's resource, turns the cumulative slots into deltas when
 * asked, counts what was delivered and what failed, and keeps at most one
 * export in flight, so a dead collector holds one export's data and no more.
 * Retries with backoff are the OTLP exporter's own (within `timeout`).
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { DeltaConverter } from './delta.js';

export interface OtlpStats {
  written: { value: number };
  dropped: { value: number };
  errors: { value: number };
}

export interface CountingExporterOptions {
  readonly inner: PushMetricExporter;
  readonly resource: Resource;
  readonly temporality: AggregationTemporality;
  readonly stats: OtlpStats;
  /** Told about each failed export; never given headers or other secrets. */
  readonly onFailure: (error: Error | undefined, points: number) => void;
  readonly onSuccess: (points: number) => void;
}

function countPoints(metrics: ResourceMetrics): number {
  let n = 0;
  for (const s of metrics.scopeMetrics) for (const m of s.metrics) n += m.dataPoints.length;
  return n;
}

export class CountingExporter implements PushMetricExporter {
  private readonly delta: DeltaConverter | undefined;
  private inFlight = false;
  private stopped = false;

  constructor(private readonly opts: CountingExporterOptions) {
    this.delta = opts.temporality === AggregationTemporality.DELTA ? new DeltaConverter() : undefined;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const { stats } = this.opts;
    const withResource: ResourceMetrics = { resource: this.opts.resource, scopeMetrics: metrics.scopeMetrics };
    const points = countPoints(withResource);
    if (this.stopped || this.inFlight) {
      // The previous export is still retrying: this one is skipped, not queued (the next carries its counts).
      const error = new Error(this.stopped ? 'otlp exporter is shut down' : 'previous otlp export still in flight');
      stats.errors.value++;
      stats.dropped.value += points;
      this.opts.onFailure(error, points);
      resultCallback({ code: ExportResultCode.FAILED, error });
      return;
    }
    const converted = this.delta ? this.delta.convert(withResource) : { data: withResource, commit: () => {} };
    this.inFlight = true;
    this.opts.inner.export(converted.data, (result) => {
      this.inFlight = false;
      if (result.code === ExportResultCode.SUCCESS) {
        // Delta: the base moves only once the collector has the interval; after a failure the next delta spans both.
        converted.commit();
        stats.written.value += points;
        this.opts.onSuccess(points);
      } else {
        stats.errors.value++;
        stats.dropped.value += points;
        this.opts.onFailure(result.error, points);
      }
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.opts.inner.forceFlush();
  }

  selectAggregationTemporality(_instrumentType: InstrumentType): AggregationTemporality {
    return this.opts.temporality;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.opts.inner.shutdown();
  }
}

/**
 * Cumulative → delta for the data the slot producer hands out. The SDK only
 * applies a reader's temporality to its own instruments; MetricProducer data
 * arrives as it was made (cumulative), so a delta output subtracts here.
 *
 * State is one entry per series exported last time, nothing more: a series
 * gone from the slots (series_ttl, a pod gone) is forgotten at the next
 * export, so memory follows the series cap.
 */
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { HrTime, Attributes } from '@opentelemetry/api';

interface Previous {
  readonly endTime: HrTime;
  readonly value: number | Histogram;
}

function seriesKey(name: string, attributes: Attributes): string {
  return name + '\u0000' + JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class DeltaConverter {
  private previous = new Map<string, Previous>();

  /**
   * The same export with sums and histograms as deltas since the last
   * committed export (gauges as they are). `commit()` once the collector has
   * it; without a commit the next delta starts where this one did.
   */
  convert(metrics: ResourceMetrics): { data: ResourceMetrics; commit: () => void } {
    const next = new Map<string, Previous>();
    const scopeMetrics = metrics.scopeMetrics.map((scope) => ({
      scope: scope.scope,
      metrics: scope.metrics.map((m) => this.convertMetric(m, next)),
    }));
    return { data: { resource: metrics.resource, scopeMetrics }, commit: () => (this.previous = next) };
  }

  private convertMetric(metric: MetricData, next: Map<string, Previous>): MetricData {
    if (metric.dataPointType === DataPointType.GAUGE) return metric;
    if (metric.aggregationTemporality === AggregationTemporality.DELTA) return metric;
    const name = metric.descriptor.name;
    if (metric.dataPointType === DataPointType.SUM) {
      const dataPoints = metric.dataPoints.map((p): DataPoint<number> => {
        const key = seriesKey(name, p.attributes);
        const prev = this.previous.get(key);
        next.set(key, { endTime: p.endTime, value: p.value });
        // A value below the last one is a new series under an old name (dropped, then made again): all of it is new.
        if (prev === undefined || typeof prev.value !== 'number' || p.value < prev.value) return p;
        return { ...p, startTime: prev.endTime, value: p.value - prev.value };
      });
      return { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
    }
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      const dataPoints = metric.dataPoints.map((p): DataPoint<Histogram> => {
        const key = seriesKey(name, p.attributes);
        const prev = this.previous.get(key);
        next.set(key, { endTime: p.endTime, value: p.value });
        const before = prev === undefined || typeof prev.value === 'number' ? undefined : prev.value;
        if (before === undefined || p.value.count < before.count || before.buckets.counts.length !== p.value.buckets.counts.length) return p;
        const counts = p.value.buckets.counts.map((c, i) => c - before.buckets.counts[i]!);
        // min/max of the interval alone are not known from two cumulative states: left out (they are optional in OTLP).
        const value: Histogram = {
          buckets: { boundaries: p.value.buckets.boundaries, counts },
          sum: (p.value.sum ?? 0) - (before.sum ?? 0),
          count: p.value.count - before.count,
        };
        return { ...p, startTime: prev!.endTime, value };
      });
      return { ...metric, aggregationTemporality: AggregationTemporality.DELTA, dataPoints };
    }
    return metric;
  }
}

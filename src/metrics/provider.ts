/**
 * Hands the series slots to the OpenTelemetry metrics SDK.
 *
 * Every series lives in a slot; at collection time a MetricProducer (the
 * SDK's seam for external metric sources) hands the slots to every reader as
 * OTel data: counters, gauges and locally bucketed histograms. Outputs are
 * MetricReaders / PushMetricExporters on this one MeterProvider.
 */
import { ValueType } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { MetricName } from './catalogue.js';
import { HistogramFamily, type CounterFamily, type MetricRegistry } from './series.js';

export const SCOPE = { name: 'quay-log-exporter', version: '0.1.0' };

/**
 * Produces every series held in the slots, as cumulative OTel data: counters
 * (monotonic sums), gauges and the locally bucketed histograms. Exactly the
 * slots there are now: a series dropped from its family (a file gone,
 * `series_ttl`) is no longer exported, which the SDK's observable instruments
 * cannot do (they report every series they ever saw).
 */
export class SlotProducer implements MetricProducer {
  private readonly startTime = hrTime();

  constructor(private readonly registry: MetricRegistry) {}

  async collect(): Promise<CollectionResult> {
    const endTime = hrTime();
    const startTime = this.startTime;
    const metrics: MetricData[] = [];
    // Counters and gauges first, in catalogue order then rule metrics, then histograms (the order of the exposition).
    for (const [name, def] of this.registry.definitions()) {
      if (def.kind === 'histogram') continue;
      const family = this.registry.existing(name as MetricName) as CounterFamily | undefined;
      if (family === undefined || family.slots.size === 0) continue;
      const descriptor = { name, description: def.help, unit: '', valueType: ValueType.DOUBLE };
      const dataPoints = [...family.slots.values()].map((s) => ({ attributes: s.attributes, startTime, endTime, value: s.value }));
      if (def.kind === 'counter') {
        metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints });
      } else {
        metrics.push({ descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.GAUGE, dataPoints });
      }
    }
    for (const [name, family] of this.registry.entries()) {
      if (!(family instanceof HistogramFamily) || family.slots.size === 0) continue;
      const boundaries = Array.from(family.bounds);
      metrics.push({
        descriptor: { name, description: family.def.help, unit: '', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...family.slots.values()].map((s) => ({
          attributes: s.attributes,
          startTime,
          endTime,
          value: {
            buckets: { boundaries, counts: Array.from(s.counts) },
            sum: s.sum,
            count: s.count,
            ...(s.count > 0 ? { min: s.min, max: s.max } : {}),
          },
        })),
      });
    }
    return {
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: SCOPE, metrics }] },
      errors: [],
    };
  }
}

/** The producer's former name (it produced histograms only). */
export const HistogramProducer = SlotProducer;

/** Series without labels exist from the start, so "no GC for 10 minutes" is a 0, not an absent series. */
function createUnlabelledSeries(registry: MetricRegistry): void {
  for (const [name, def] of registry.definitions()) {
    if (def.kind !== 'histogram' && def.labels.length === 0) registry.definedCounter(name).at();
  }
}

/**
 * One MeterProvider for the process. `readers` are built by the outputs, each
 * given `producer` as a metric producer (see outputs/*).
 */
export function createMeterProvider(registry: MetricRegistry, readers: MetricReader[]): MeterProvider {
  const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'quay-log-exporter' }), readers });
  createUnlabelledSeries(registry);
  return provider;
}

/**
 * Hands the series slots to the OpenTelemetry metrics SDK.
 *
 * Counters and gauges are observable instruments whose callbacks read the
 * slots at collection time. The SDK has no observable histogram and no bulk
 * `record`, so histograms are bucketed in the slots and given to every reader
 * through a MetricProducer, the SDK's seam for external metric sources.
 * Outputs are MetricReaders / PushMetricExporters on this one MeterProvider.
 */
import { ValueType, type Meter } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  type CollectionResult,
  type HistogramMetricData,
  type MetricProducer,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import { CATALOGUE, type MetricName } from './catalogue.js';
import { HistogramFamily, type CounterFamily, type MetricRegistry } from './series.js';

export const SCOPE = { name: 'quay-log-exporter', version: '0.1.0' };

/** Produces the locally bucketed histograms as cumulative OTel histogram data. */
export class HistogramProducer implements MetricProducer {
  private readonly startTime = hrTime();

  constructor(private readonly registry: MetricRegistry) {}

  async collect(): Promise<CollectionResult> {
    const endTime = hrTime();
    const metrics: HistogramMetricData[] = [];
    for (const [name, family] of this.registry.entries()) {
      if (!(family instanceof HistogramFamily) || family.slots.size === 0) continue;
      const boundaries = Array.from(family.bounds);
      metrics.push({
        descriptor: { name, description: family.def.help, unit: '', valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: [...family.slots.values()].map((s) => ({
          attributes: s.attributes,
          startTime: this.startTime,
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

/** Register one observable instrument per counter and gauge of the catalogue. */
function registerInstruments(meter: Meter, registry: MetricRegistry): void {
  for (const name of Object.keys(CATALOGUE) as MetricName[]) {
    const def = CATALOGUE[name];
    if (def.kind === 'histogram') continue;
    // Series without labels exist from the start, so "no GC for 10 minutes" is a 0, not an absent series.
    const family = (def.kind === 'counter' ? registry.counter(name as never) : registry.gauge(name as never)) as CounterFamily;
    if (def.labels.length === 0) family.at();
    const instrument =
      def.kind === 'counter'
        ? meter.createObservableCounter(name, { description: def.help })
        : meter.createObservableGauge(name, { description: def.help });
    instrument.addCallback((result) => {
      for (const slot of family.slots.values()) result.observe(slot.value, slot.attributes);
    });
  }
}

/**
 * One MeterProvider for the process. `readers` are built by the outputs, each
 * given `producer` as a metric producer (see outputs/*).
 */
export function createMeterProvider(registry: MetricRegistry, readers: MetricReader[]): MeterProvider {
  // The SDK caps streams at 2000 by default; our own cap (with folding) must win.
  const limit = registry.maxSeriesPerMetric * 4 + 100;
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'quay-log-exporter' }),
    readers,
    views: [{ instrumentName: '*', aggregationCardinalityLimit: limit }],
  });
  registerInstruments(provider.getMeter(SCOPE.name, SCOPE.version), registry);
  return provider;
}

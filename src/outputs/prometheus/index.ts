/**
 * The Prometheus output: OpenTelemetry's PrometheusExporter is the
 * MetricReader; it does not start its own server but is mounted at /metrics
 * in ours (server.ts), next to the health endpoints. `replay` prints the very
 * same exposition through the same exporter and serializer.
 */
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type MetricProducer, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

export interface PrometheusOutputOptions {
  /** Keep `otel_scope_*` labels and `target_info`. */
  readonly scopeInfo: boolean;
  readonly producer: MetricProducer;
}

export class PrometheusOutput {
  readonly reader: PrometheusExporter;
  private readonly serializer: PrometheusSerializer;

  constructor(options: PrometheusOutputOptions) {
    const without = !options.scopeInfo;
    this.reader = new PrometheusExporter({
      preventServerStart: true,
      withoutScopeInfo: without,
      withoutTargetInfo: without,
      metricProducers: [options.producer],
    });
    // The exporter's own serializer is private; this one has the same settings, so the text is identical.
    this.serializer = new PrometheusSerializer('', false, undefined, without, without);
  }

  /** The text a scrape of /metrics returns now. */
  async exposition(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    return this.serializer.serialize(resourceMetrics);
  }

  /** The same data as JSON, for `replay --format json`. */
  async json(): Promise<MetricsJson> {
    const { resourceMetrics } = await this.reader.collect();
    return toJson(resourceMetrics);
  }
}

export interface SeriesJson {
  labels: Record<string, string>;
  value?: number;
  /** Histograms: cumulative counts by upper bound, as Prometheus `le` buckets. */
  buckets?: Record<string, number>;
  sum?: number;
  count?: number;
}

export interface MetricsJson {
  metrics: { name: string; type: 'counter' | 'gauge' | 'histogram'; help: string; series: SeriesJson[] }[];
}

function toJson(rm: ResourceMetrics): MetricsJson {
  const metrics: MetricsJson['metrics'] = [];
  for (const scope of rm.scopeMetrics) {
    for (const metric of scope.metrics) {
      const labelsOf = (a: Record<string, unknown>) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, String(v)]));
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        metrics.push({
          name: metric.descriptor.name,
          type: 'histogram',
          help: metric.descriptor.description,
          series: metric.dataPoints.map((p) => {
            const buckets: Record<string, number> = {};
            let acc = 0;
            p.value.buckets.counts.forEach((c, i) => {
              acc += c;
              buckets[i < p.value.buckets.boundaries.length ? String(p.value.buckets.boundaries[i]) : '+Inf'] = acc;
            });
            return { labels: labelsOf(p.attributes), buckets, sum: p.value.sum ?? 0, count: p.value.count };
          }),
        });
      } else {
        metrics.push({
          name: metric.descriptor.name,
          type: metric.dataPointType === DataPointType.SUM ? 'counter' : 'gauge',
          help: metric.descriptor.description,
          series: metric.dataPoints.map((p) => ({ labels: labelsOf(p.attributes), value: p.value as number })),
        });
      }
    }
  }
  metrics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { metrics };
}

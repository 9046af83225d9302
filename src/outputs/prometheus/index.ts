/**
 * The Prometheus output: OpenTelemetry's PrometheusExporter is the
 * MetricReader; it does not start its own server but registers /metrics on
 * the process's (src/http). `replay` prints the very same exposition through
 * the same exporter and serializer.
 */
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { DataPointType, type MetricProducer, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Route } from '../../http/server.js';
import type { MetricRegistry } from '../../metrics/series.js';
import { renderExpositionAsync } from './render.js';

/** Prometheus text format 0.0.4, which the SDK's serializer writes. */
const EXPOSITION_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface PrometheusOutputOptions {
  /** Keep `otel_scope_*` labels and `target_info`. */
  readonly scopeInfo: boolean;
  readonly producer: MetricProducer;
  /** The slots themselves: the exposition is then written from them (render.ts), same bytes, far less work. */
  readonly registry?: MetricRegistry;
}

export class PrometheusOutput {
  readonly reader: PrometheusExporter;
  private readonly serializer: PrometheusSerializer;

  private readonly registry: MetricRegistry | undefined;

  constructor(options: PrometheusOutputOptions) {
    // render.ts writes what the serializer writes without scope info and target_info only.
    this.registry = options.scopeInfo ? undefined : options.registry;
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

  private rendering: Promise<Buffer> | undefined;
  /** Collections+serializations done for scrapes; concurrent scrapes share one. */
  renders = 0;

  /**
   * The text for a scrape. Scrapes that arrive while one is being rendered
   * get that same text: N concurrent scrapes cost one collection and one
   * string in memory instead of N (several Prometheus servers, retries).
   */
  scrape(): Promise<Buffer> {
    if (!this.rendering) {
      this.renders++;
      // One Buffer, written to every waiting socket as it is: no per-scrape string-to-bytes copy.
      const bytes = this.registry ? renderExpositionAsync(this.registry) : this.exposition().then((text) => Buffer.from(text, 'utf8'));
      this.rendering = bytes.finally(() => (this.rendering = undefined));
    }
    return this.rendering;
  }

  /** The routes this output serves on the process's HTTP server. */
  routes(): Record<string, Route> {
    return { '/metrics': async () => ({ status: 200, contentType: EXPOSITION_TYPE, body: await this.scrape() }) };
  }

  /** The text a scrape of /metrics returns now. */
  async exposition(): Promise<string> {
    if (this.registry) return (await renderExpositionAsync(this.registry)).toString('utf8');
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

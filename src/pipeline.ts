/**
 * Wiring, in the direction data flows:
 *
 *   inputs ──lines──▶ router ──▶ parsers (quay/*) ──▶ series slots ──▶ MeterProvider ──▶ readers (prometheus, influxdb, otlp)
 *                                          └──────────▶ events ──────────────────────────▶ influxdb event points
 *
 * Nothing downstream calls back upstream: inputs only see a LineHandler,
 * parsers only see slots and the event bus, outputs only see the SDK.
 */
import type { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { Config, InputSource, SourceName } from './config/schema.js';
import { EventBus } from './events.js';
import { PatternLibrary } from './grok/index.js';
import type { LineHandler, LineStream, StreamInfo } from './inputs/types.js';
import type { Logger } from './log.js';
import { CATALOGUE, podLabelAllowed } from './metrics/catalogue.js';
import { createMeterProvider, HistogramProducer } from './metrics/provider.js';
import { MetricRegistry } from './metrics/series.js';
import type { InfluxOutput } from './outputs/influxdb/index.js';
import type { OtlpOutput } from './outputs/otlp/index.js';
import { PrometheusOutput } from './outputs/prometheus/index.js';
import { createGcParser } from './quay/gc/index.js';
import { GunicornParser } from './quay/gunicorn.js';
import { createMirrorTracker, type MirrorTracker } from './quay/mirror/index.js';
import { NginxParser } from './quay/nginx.js';
import { createOcMirrorParser } from './quay/oc-mirror/index.js';
import { createRouter, type Parsers, type Router, type UnprefixedParsers } from './quay/router.js';
import { LineFields } from './records/fields.js';
import type { RecordsOut } from './records/index.js';
import { ContainerParser, SupervisordParser } from './quay/supervisord.js';
import { createRuleSet, type RuleSet } from './rules/index.js';
import { resolveTrafficSource, TrafficRecorder, type TrafficSource } from './quay/traffic.js';
import { ANONYMOUS_STREAM, type ParserContext } from './quay/types.js';

interface PodParsers {
  readonly registry: MetricRegistry;
  readonly parsers: Parsers;
  readonly routers: Map<InputSource, Router>;
  /** Streams of the pod open now. */
  open: number;
}

/**
 * The push outputs' modules, imported only when the config names them (Pipeline.create): the OTLP
 * exporters (gRPC, protobuf) alone cost ~0.1 s of CPU at every start of a process that does not use them.
 */
export interface OutputModules {
  readonly influxdb?: typeof import('./outputs/influxdb/index.js');
  readonly otlp?: typeof import('./outputs/otlp/index.js');
  readonly records?: typeof import('./records/index.js');
}

export async function loadOutputModules(outputs: Config['outputs']): Promise<OutputModules> {
  const [influxdb, otlp, records] = await Promise.all([
    outputs.influxdb ? import('./outputs/influxdb/index.js') : undefined,
    outputs.otlp ? import('./outputs/otlp/index.js') : undefined,
    outputs.records ? import('./records/index.js') : undefined,
  ]);
  return { influxdb, otlp, records };
}

function loaded<T>(mod: T | undefined, output: string): T {
  if (mod === undefined) throw new Error(`outputs.${output} is configured but its module was not loaded: build the pipeline with Pipeline.create`);
  return mod;
}

export interface PipelineOptions {
  readonly log: Logger;
  /** Modules of the configured push outputs (loadOutputModules); Pipeline.create passes them. */
  readonly outputs?: OutputModules;
  /** Sources read besides the configured inputs (e.g. `replay --source nginx`); they count for `traffic.source: auto`. */
  readonly extraSources?: readonly InputSource[];
  /** false: no records out even when configured (`replay`, whose stdout is the metrics). */
  readonly records?: boolean;
  /** Where records go with `outputs.records.stdout` (default process.stdout; tests pass their own). */
  readonly recordsStdout?: NodeJS.WritableStream & { writableLength: number };
}

export class Pipeline {
  readonly registry: MetricRegistry;
  readonly events = new EventBus();
  readonly grok: PatternLibrary;
  readonly prometheus: PrometheusOutput;
  readonly influx: InfluxOutput | undefined;
  readonly otlp: OtlpOutput | undefined;
  readonly mirror: MirrorTracker;
  readonly provider: MeterProvider;
  readonly trafficSource: TrafficSource;
  readonly rules: RuleSet;
  /** Records out (outputs.records): parsed lines and events; undefined when not configured. */
  readonly records: RecordsOut | undefined;
  private readonly parsers: Parsers;
  private readonly routers = new Map<InputSource, Router>();
  /** limits.pod_label: each pod's (`namespace/pod`) parsers record through its view of the registry; dropped when its last stream ends. */
  private readonly pods = new Map<string, PodParsers>();
  private readonly podParsers: ((registry: MetricRegistry) => Parsers) | undefined;
  private readonly unprefixed: UnprefixedParsers;
  private readonly handlers = new Map<InputSource, LineHandler>();

  /** A pipeline with the modules of its configured outputs loaded first. */
  static async create(config: Config, options: PipelineOptions): Promise<Pipeline> {
    const records = options.records === false ? undefined : config.outputs.records;
    return new Pipeline(config, { ...options, outputs: await loadOutputModules({ ...config.outputs, records }) });
  }

  constructor(
    readonly config: Config,
    options: PipelineOptions,
  ) {
    const log = options.log;
    const modules = options.outputs ?? {};
    const podLabel = config.limits.pod_label;
    const podLabelled = podLabel === false ? [] : podLabel === true ? Object.keys(CATALOGUE).filter(podLabelAllowed) : podLabel;
    this.registry = new MetricRegistry(config.limits.max_series_per_metric, new Set(podLabelled));
    this.grok = loadPatterns(config, (message) => log.warn(`pattern skipped: ${message}`));
    // Records out: one LineFields for every parser; they write to it only while a records output is active.
    const fields = new LineFields();
    // Rule metrics are defined before the MeterProvider registers instruments for every definition.
    this.rules = createRuleSet(config, this.grok, this.registry, this.events, fields);
    const producer = new HistogramProducer(this.registry);
    this.prometheus = new PrometheusOutput({ scopeInfo: config.prometheus.scope_info, producer, registry: this.registry });
    const readers: MetricReader[] = [this.prometheus.reader];
    if (config.outputs.influxdb) {
      this.influx = loaded(modules.influxdb, 'influxdb').createInfluxOutput(config.outputs.influxdb, { registry: this.registry, producer, log });
      readers.push(this.influx.reader);
      if (config.outputs.influxdb.events.enabled) this.events.add(this.influx.events);
    }
    if (config.outputs.otlp) {
      this.otlp = loaded(modules.otlp, 'otlp').createOtlpOutput(config.outputs.otlp, { registry: this.registry, producer, log });
      readers.push(this.otlp.reader);
    }
    this.provider = createMeterProvider(this.registry, readers);
    if (config.outputs.records && options.records !== false) {
      this.records = new (loaded(modules.records, 'records').RecordsOut)(config.outputs.records, fields, this.registry, log, options.recordsStdout);
      this.events.add(this.records);
    }

    const ctx: ParserContext = { config, registry: this.registry, events: this.events, grok: this.grok, log, fields };
    this.trafficSource = resolveTrafficSource(config, options.extraSources);
    this.mirror = createMirrorTracker(ctx);
    const parsersOf = (ctx: ParserContext): Parsers => {
      const traffic = new TrafficRecorder(ctx.registry, config, this.events, fields);
      return {
        // Exactly one of the two gets the recorder: a request is counted from one log only.
        nginx: new NginxParser(ctx, this.trafficSource === 'nginx' ? traffic : undefined),
        gunicorn: new GunicornParser(ctx, this.trafficSource === 'gunicorn' ? traffic : undefined),
        repomirrorworker: this.mirror.parser,
        gcworker: createGcParser(ctx),
        'oc-mirror': createOcMirrorParser(ctx),
      } satisfies Record<SourceName, unknown>;
    };
    this.parsers = parsersOf(ctx);
    if (podLabelled.length > 0) this.podParsers = (registry) => parsersOf({ ...ctx, registry });
    this.unprefixed = { supervisord: new SupervisordParser(this.registry, fields), container: new ContainerParser(this.grok) };
    log.debug('pipeline ready', { traffic_source: this.trafficSource });
  }

  /**
   * Opens one stream of lines of `source` (a file, stdin, a Forward connection
   * + tag): state kept between lines (mirror attempts, GC runs) is the
   * stream's own. `end()` once the stream is gone closes what it left open.
   */
  openStream(source: InputSource, info: StreamInfo): LineStream {
    if (this.podParsers !== undefined && info.pod !== undefined) return this.openPodStream(source, info, info.pod);
    let r = this.routers.get(source);
    if (!r) this.routers.set(source, (r = createRouter(source, this.parsers, this.registry, this.unprefixed, this.rules, this.records?.observe)));
    return r.open(info);
  }

  /** limits.pod_label: the pod's own parsers (their slots carry its pod label), kept while it has a stream open. */
  private openPodStream(source: InputSource, info: StreamInfo, pod: string): LineStream {
    const key = `${info.namespace ?? ''}/${pod}`;
    let p = this.pods.get(key);
    if (p === undefined) {
      const registry = this.registry.forPod(pod);
      this.pods.set(key, (p = { registry, parsers: this.podParsers!(registry), routers: new Map(), open: 0 }));
    }
    let r = p.routers.get(source);
    if (r === undefined) p.routers.set(source, (r = createRouter(source, p.parsers, p.registry, this.unprefixed, this.rules, this.records?.observe)));
    const stream = r.open(info);
    p.open++;
    let ended = false;
    const entry = p;
    return {
      line: stream.line,
      end: () => {
        stream.end();
        if (ended) return;
        ended = true;
        if (--entry.open === 0 && this.pods.get(key) === entry) this.pods.delete(key);
      },
    };
  }

  /** One anonymous stream per source, for callers that have a single stream (shared by all who ask). */
  handler(source: InputSource): LineHandler {
    let h = this.handlers.get(source);
    if (!h) this.handlers.set(source, (h = this.openStream(source, ANONYMOUS_STREAM).line));
    return h;
  }

  /** Final export to push outputs, then stop the SDK. */
  /** A promise while a push output (InfluxDB events, records) is behind: inputs that can slow their sender wait on it. */
  backpressure(): Promise<void> | undefined {
    return this.influx?.backpressure() ?? this.records?.backpressure();
  }

  async shutdown(): Promise<void> {
    if (this.influx) await this.influx.shutdown();
    if (this.records) await this.records.shutdown();
    if (this.otlp) await this.otlp.shutdown();
    await this.provider.shutdown();
  }
}

/**
 * Bundled patterns, then the config's pattern files, then its inline patterns: later names override.
 * A bad line in a pattern file is skipped and reported through `warn` (using its name fails later).
 */
export function loadPatterns(config: Config, warn: (message: string) => void = () => {}): PatternLibrary {
  const lib = PatternLibrary.bundled();
  for (const file of config.grok.pattern_files) for (const problem of lib.loadFile(file)) warn(problem.message);
  for (const [name, regex] of Object.entries(config.grok.patterns)) lib.define(name, regex, `config grok.patterns.${name}`);
  return lib;
}

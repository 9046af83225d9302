/**
 * The OTLP output: a PeriodicExportingMetricReader on the shared
 * MeterProvider (the same slots, the same series cap as /metrics) driving the
 * OpenTelemetry OTLP exporter for the configured protocol. See README.md.
 */
import { readFileSync } from 'node:fs';
import type { AgentOptions } from 'node:https';
import { credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { AggregationTemporalityPreference, OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InstrumentType,
  PeriodicExportingMetricReader,
  type MetricProducer,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { OtlpConfig } from '../../config/schema.js';
import type { Logger } from '../../log.js';
import type { MetricRegistry } from '../../metrics/series.js';
import { within } from '../influxdb/queue.js';
import { CountingExporter } from './exporter.js';
import {
  resolveHeaders,
  resolveIntervalMs,
  resolveProtocol,
  resolveResourceAttributes,
  resolveTimeoutMs,
  resolveUrl,
  type OtlpProtocol,
} from './settings.js';

export interface OtlpOutput {
  /** Created with metricProducers: [deps.producer]. */
  readonly reader: MetricReader;
  /** One final export, bounded by shutdown_timeout. */
  shutdown(): Promise<void>;
}

export interface OtlpDeps {
  readonly registry: MetricRegistry;
  readonly producer: MetricProducer;
  readonly log: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const OUTPUT = 'otlp';

function readTlsFile(key: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`outputs.otlp.tls.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function createInner(config: OtlpConfig, protocol: OtlpProtocol, url: string | undefined, timeoutMillis: number): PushMetricExporter {
  const headers = resolveHeaders(config);
  const tls = config.tls;
  const ca = readTlsFile('ca_file', tls?.ca_file);
  const cert = readTlsFile('cert_file', tls?.cert_file);
  const key = readTlsFile('key_file', tls?.key_file);
  const common = {
    ...(url !== undefined ? { url } : {}),
    timeoutMillis,
    // One export at a time is all the reader makes; a second one fails at once instead of queueing.
    concurrencyLimit: 1,
    ...(config.compression !== undefined
      ? { compression: config.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE }
      : {}),
    ...(config.temporality !== undefined
      ? {
          temporalityPreference:
            config.temporality === 'delta' ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE,
        }
      : {}),
  };
  if (protocol === 'grpc') {
    let metadata: Metadata | undefined;
    if (Object.keys(headers).length > 0) {
      metadata = new Metadata();
      for (const [name, value] of Object.entries(headers)) metadata.set(name.toLowerCase(), value);
    }
    const creds =
      tls !== undefined
        ? grpcCredentials.createSsl(ca ?? null, key ?? null, cert ?? null, {
            ...(tls.insecure_skip_verify ? { rejectUnauthorized: false } : {}),
          })
        : undefined;
    return new GrpcExporter({ ...common, ...(metadata ? { metadata } : {}), ...(creds ? { credentials: creds } : {}) });
  }
  const agent: AgentOptions | undefined =
    tls !== undefined
      ? { keepAlive: true, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: !tls.insecure_skip_verify }
      : undefined;
  const options = { ...common, ...(Object.keys(headers).length > 0 ? { headers } : {}), ...(agent ? { httpAgentOptions: agent } : {}) };
  return protocol === 'http/json' ? new JsonExporter(options) : new ProtoExporter(options);
}

export function createOtlpOutput(config: OtlpConfig, deps: OtlpDeps): OtlpOutput {
  const { registry, log } = deps;
  const env = deps.env ?? process.env;
  const protocol = resolveProtocol(config, env, (msg) => log.warn(msg));
  const url = resolveUrl(config, protocol);
  const intervalMs = Math.max(1, resolveIntervalMs(config, env));
  const timeoutMs = Math.max(1, resolveTimeoutMs(config, env));
  const inner = createInner(config, protocol, url, timeoutMs);
  // The OTLP exporter has resolved config > OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE > cumulative; counters decide ours.
  const temporality = inner.selectAggregationTemporality!(InstrumentType.COUNTER);
  const stats = {
    written: registry.counter('quay_log_exporter_output_points_written_total').at(OUTPUT),
    dropped: registry.counter('quay_log_exporter_output_dropped_points_total').at(OUTPUT),
    errors: registry.counter('quay_log_exporter_output_write_errors_total').at(OUTPUT),
  };
  let failing = 0;
  const exporter = new CountingExporter({
    inner,
    resource: resourceFromAttributes(resolveResourceAttributes(config, env)),
    temporality,
    stats,
    onFailure: (error, points) => {
      // One warning when failures start, then one per 10 failed exports; the count is in the self-metrics.
      if (failing++ % 10 === 0) {
        log.warn('otlp export failed', { failed_exports: failing, points, error: error?.message ?? 'unknown' });
      }
    },
    onSuccess: () => {
      if (failing > 0) log.info('otlp export succeeded again', { failed_exports: failing });
      failing = 0;
    },
  });
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: intervalMs,
    exportTimeoutMillis: Math.max(1, Math.min(intervalMs, timeoutMs)),
    metricProducers: [deps.producer],
  });
  if (config.tls?.insecure_skip_verify) {
    log.warn('outputs.otlp.tls.insecure_skip_verify: the collector\'s certificate is not checked');
  }
  // Endpoint only (no headers); a URL's userinfo is not printed either.
  let shown = url ?? '(from OTEL_EXPORTER_OTLP_* or the default)';
  if (url !== undefined) {
    try {
      const u = new URL(url);
      u.username = '';
      u.password = '';
      shown = u.toString();
    } catch {
      // grpc endpoints such as "host:4317" are not URLs; they have no userinfo.
    }
  }
  log.info('otlp output started', { protocol, endpoint: shown, interval_ms: intervalMs, temporality: temporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative' });

  let stopping: Promise<void> | undefined;
  return {
    reader,
    shutdown(): Promise<void> {
      stopping ??= (async () => {
        await within(reader.shutdown({ timeoutMillis: Math.max(1, config.shutdown_timeout) }).catch(() => undefined), config.shutdown_timeout);
        log.info('otlp output stopped', { written: stats.written.value, dropped: stats.dropped.value, failed_exports: stats.errors.value });
      })();
      return stopping;
    },
  };
}

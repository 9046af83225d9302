/**
 * What the config says, completed by the standard OpenTelemetry environment
 * variables where it says nothing (the OTLP exporter spec: config wins, then
 * OTEL_EXPORTER_OTLP_METRICS_*, then OTEL_EXPORTER_OTLP_*, then defaults).
 * Endpoint, headers, compression and certificates left out of the config are
 * read from the environment by the OpenTelemetry exporter itself; what this
 * output needs before creating it (protocol, interval, timeout, resource) is
 * resolved here.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { OtlpConfig } from '../../config/schema.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';
const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json', 'grpc'];

type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The OTEL_* durations are integer milliseconds. */
function envMillis(env: Env, name: string): number | undefined {
  const v = envValue(env, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  // Not a number: ignored, as the SDKs do (the next fallback applies).
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** An env value that is not a protocol is skipped with a warning, as the OpenTelemetry SDKs do. */
export function resolveProtocol(config: OtlpConfig, env: Env, warn: (msg: string) => void = () => {}): OtlpProtocol {
  if (config.protocol) return config.protocol;
  for (const name of ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const v = envValue(env, name);
    if (v === undefined) continue;
    if (PROTOCOLS.includes(v)) return v as OtlpProtocol;
    warn(`${name}: expected one of ${PROTOCOLS.join(', ')}, got "${v}"; ignored`);
  }
  return 'http/protobuf';
}

/** http/*: a URL without a path is a base, `/v1/metrics` is added; grpc: as written. Undefined: the exporter reads the env. */
export function resolveUrl(config: OtlpConfig, protocol: OtlpProtocol): string | undefined {
  if (config.endpoint === undefined) return undefined;
  if (protocol === 'grpc') return config.endpoint;
  const url = new URL(config.endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/metrics';
  return url.toString();
}

export function resolveIntervalMs(config: OtlpConfig, env: Env): number {
  return config.interval ?? envMillis(env, 'OTEL_METRIC_EXPORT_INTERVAL') ?? 60_000;
}

/** The whole export, retries included. */
export function resolveTimeoutMs(config: OtlpConfig, env: Env): number {
  return config.timeout ?? envMillis(env, 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT') ?? envMillis(env, 'OTEL_EXPORTER_OTLP_TIMEOUT') ?? 10_000;
}

/** Header values, files read now (a trailing newline, as `echo` and Secrets leave, is dropped). */
export function resolveHeaders(config: OtlpConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    if (typeof value === 'string') out[name] = value;
    else {
      try {
        out[name] = readFileSync(value.file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        // The path is config, not secret; the content never reaches a message.
        throw new Error(`outputs.otlp.headers.${name}.file: cannot read ${value.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  return out;
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value,key=value`, values percent-encoded. */
function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    try {
      out[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      // A malformed pair is skipped, as the SDKs do.
    }
  }
  return out;
}

/**
 * service.name, service.instance.id (the pod), k8s.pod.name and
 * k8s.namespace.name: config first, then the Downward API's POD_NAME /
 * POD_NAMESPACE and OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, so many
 * sidecars stay apart in one backend.
 */
export function resolveResourceAttributes(config: OtlpConfig, env: Env): Record<string, string> {
  const r = config.resource;
  const attrs: Record<string, string> = { ...parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES), ...r.attributes };
  const pod = r.pod_name ?? envValue(env, 'POD_NAME') ?? attrs['k8s.pod.name'];
  const namespace = r.namespace ?? envValue(env, 'POD_NAMESPACE') ?? attrs['k8s.namespace.name'];
  attrs['service.name'] = r.service_name ?? envValue(env, 'OTEL_SERVICE_NAME') ?? r.attributes['service.name'] ?? attrs['service.name'] ?? 'quay-log-exporter';
  if (pod !== undefined) attrs['k8s.pod.name'] = pod;
  if (namespace !== undefined) attrs['k8s.namespace.name'] = namespace;
  attrs['service.instance.id'] = r.service_instance_id ?? attrs['service.instance.id'] ?? pod ?? hostname();
  return attrs;
}

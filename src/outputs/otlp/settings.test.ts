/**
 * The OTLP output's settings: config first, then OTEL_EXPORTER_OTLP_METRICS_*, then OTEL_EXPORTER_OTLP_*,
 * then the defaults of the OTLP exporter spec (opentelemetry-specification, protocol/exporter.md).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { resolveHeaders, resolveIntervalMs, resolveProtocol, resolveResourceAttributes, resolveTimeoutMs, resolveUrl } from './settings.js';

const otlp = (o: Record<string, unknown> = {}) => configSchema.parse({ outputs: { otlp: o } }).outputs.otlp!;

describe('resolveProtocol', () => {
  it('config, then the metrics variable, then the general one, then http/protobuf; a bad value is warned and skipped', () => {
    const warned: string[] = [];
    const warn = (m: string) => void warned.push(m);
    expect(resolveProtocol(otlp({ protocol: 'grpc' }), { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }, warn)).toBe('grpc');
    expect(resolveProtocol(otlp(), { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, warn)).toBe('http/json');
    expect(resolveProtocol(otlp(), { OTEL_EXPORTER_OTLP_PROTOCOL: ' grpc ' }, warn)).toBe('grpc');
    expect(resolveProtocol(otlp(), { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: '', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, warn)).toBe('http/json');
    expect(resolveProtocol(otlp(), {}, warn)).toBe('http/protobuf');
    expect(warned).toEqual([]);
    expect(resolveProtocol(otlp(), { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'udp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, warn)).toBe('grpc');
    expect(warned).toEqual(['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: expected one of http/protobuf, http/json, grpc, got "udp"; ignored']);
    // without a warn function a bad value is still skipped
    expect(resolveProtocol(otlp(), { OTEL_EXPORTER_OTLP_PROTOCOL: 'x' })).toBe('http/protobuf');
  });
});

describe('resolveUrl', () => {
  it('http: a base URL gets /v1/metrics, a URL with a path is kept; grpc as written; none: undefined', () => {
    expect(resolveUrl(otlp({ endpoint: 'http://collector:4318' }), 'http/protobuf')).toBe('http://collector:4318/v1/metrics');
    expect(resolveUrl(otlp({ endpoint: 'http://collector:4318/' }), 'http/json')).toBe('http://collector:4318/v1/metrics');
    expect(resolveUrl(otlp({ endpoint: 'http://collector:4318/custom/path' }), 'http/protobuf')).toBe('http://collector:4318/custom/path');
    expect(resolveUrl(otlp({ endpoint: 'http://collector:4317' }), 'grpc')).toBe('http://collector:4317');
    expect(resolveUrl(otlp(), 'http/protobuf')).toBeUndefined();
  });
});

describe('interval and timeout', () => {
  it('config, then the variables (integer ms; not a number or negative: skipped), then 60 s / 10 s', () => {
    expect(resolveIntervalMs(otlp({ interval: '5s' }), { OTEL_METRIC_EXPORT_INTERVAL: '1000' })).toBe(5000);
    expect(resolveIntervalMs(otlp(), { OTEL_METRIC_EXPORT_INTERVAL: '1000' })).toBe(1000);
    expect(resolveIntervalMs(otlp(), { OTEL_METRIC_EXPORT_INTERVAL: 'soon' })).toBe(60_000);
    expect(resolveIntervalMs(otlp(), { OTEL_METRIC_EXPORT_INTERVAL: '-5' })).toBe(60_000);
    expect(resolveIntervalMs(otlp(), { OTEL_METRIC_EXPORT_INTERVAL: '0' })).toBe(0);
    expect(resolveIntervalMs(otlp(), {})).toBe(60_000);
    expect(resolveTimeoutMs(otlp({ timeout: '2s' }), { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '7' })).toBe(2000);
    expect(resolveTimeoutMs(otlp(), { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '7', OTEL_EXPORTER_OTLP_TIMEOUT: '8' })).toBe(7);
    expect(resolveTimeoutMs(otlp(), { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'x', OTEL_EXPORTER_OTLP_TIMEOUT: '8' })).toBe(8);
    expect(resolveTimeoutMs(otlp(), {})).toBe(10_000);
  });
});

describe('resolveHeaders', () => {
  it('values as written; files read, one trailing newline dropped; an unreadable file names the key and path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-otlp-h-'));
    writeFileSync(join(dir, 'token'), 'Bearer abc\r\n');
    writeFileSync(join(dir, 'two'), 'x\n\n');
    expect(resolveHeaders(otlp({ headers: { a: 'plain', b: { file: join(dir, 'token') }, c: { file: join(dir, 'two') } } }))).toEqual({ a: 'plain', b: 'Bearer abc', c: 'x\n' });
    expect(() => resolveHeaders(otlp({ headers: { auth: { file: join(dir, 'absent') } } }))).toThrow(`outputs.otlp.headers.auth.file: cannot read ${join(dir, 'absent')} (ENOENT)`);
  });
});

describe('resolveResourceAttributes', () => {
  it('defaults: service.name quay-log-exporter, the instance is the host name', () => {
    expect(resolveResourceAttributes(otlp(), {})).toEqual({ 'service.name': 'quay-log-exporter', 'service.instance.id': hostname() });
  });

  it('the Downward API pod and namespace; OTEL_SERVICE_NAME; OTEL_RESOURCE_ATTRIBUTES decoded, malformed pairs skipped', () => {
    const env = { POD_NAME: 'quay-7', POD_NAMESPACE: 'registry', OTEL_SERVICE_NAME: 'svc', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod%20eu, team = sre ,=novalue,noequals,bad=%zz' };
    expect(resolveResourceAttributes(otlp(), env)).toEqual({
      'deployment.environment.name': 'prod eu',
      team: 'sre',
      'service.name': 'svc',
      'k8s.pod.name': 'quay-7',
      'k8s.namespace.name': 'registry',
      'service.instance.id': 'quay-7',
    });
  });

  it('config wins over the environment, attribute by attribute', () => {
    const config = otlp({ resource: { service_name: 'cfg-svc', pod_name: 'cfg-pod', namespace: 'cfg-ns', service_instance_id: 'inst', attributes: { 'service.name': 'attr-svc', x: '1' } } });
    expect(resolveResourceAttributes(config, { POD_NAME: 'env-pod', POD_NAMESPACE: 'env-ns', OTEL_SERVICE_NAME: 'env-svc', OTEL_RESOURCE_ATTRIBUTES: 'x=2' })).toEqual({
      x: '1',
      'service.name': 'cfg-svc',
      'k8s.pod.name': 'cfg-pod',
      'k8s.namespace.name': 'cfg-ns',
      'service.instance.id': 'inst',
    });
    // attributes.service.name before OTEL_RESOURCE_ATTRIBUTES' service.name; an env service.instance.id before the pod
    expect(resolveResourceAttributes(otlp({ resource: { attributes: { 'service.name': 'attr-svc' } } }), { OTEL_RESOURCE_ATTRIBUTES: 'service.name=env-attr,service.instance.id=i-1,k8s.pod.name=p-1,k8s.namespace.name=n-1' })).toEqual({
      'service.name': 'attr-svc',
      'service.instance.id': 'i-1',
      'k8s.pod.name': 'p-1',
      'k8s.namespace.name': 'n-1',
    });
  });
});

/**
 * The OTLP output in process, with the OpenTelemetry exporters themselves, against the receiver of
 * test/outputs/otlp/receiver.ts (http/protobuf and http/json decoded with the OTLP proto, gRPC via
 * @grpc/grpc-js). test/outputs/otlp.test.ts does this through the daemon, where a mutation run
 * cannot see it. One export each: the final one at shutdown (the interval is an hour).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCerts, type TestCerts } from '../../../test/helpers/certs.js';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from '../../../test/outputs/otlp/receiver.js';
import { freePort } from '../../../test/helpers/wait.js';
import { configSchema } from '../../config/schema.js';
import { createLogger } from '../../log.js';
import { createMeterProvider, SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { createOtlpOutput } from './index.js';

const receivers: Receiver[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function exportOnce(otlp: Record<string, unknown>, env: Record<string, string> = {}) {
  const registry = new MetricRegistry();
  registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 5;
  const logged: { msg: string; [k: string]: unknown }[] = [];
  const log = createLogger('debug', (l) => void logged.push(JSON.parse(l) as { msg: string }));
  const config = configSchema.parse({ outputs: { otlp: { interval: '1h', shutdown_timeout: '5s', ...otlp } } }).outputs.otlp!;
  const out = createOtlpOutput(config, { registry, producer: new SlotProducer(registry), log, env });
  const provider = createMeterProvider(registry, [out.reader]);
  await out.shutdown();
  await provider.shutdown().catch(() => undefined);
  const stat = (name: 'quay_log_exporter_output_points_written_total' | 'quay_log_exporter_output_dropped_points_total' | 'quay_log_exporter_output_write_errors_total') => registry.counter(name).at('otlp').value;
  return { logged, stat, registry };
}

/** The pulls point as it arrived. */
const pulls = (r: Receiver) => r.exports.flatMap((e) => e.metrics).find((m) => m.name === 'quay_registry_pulls_total');

describe('createOtlpOutput', () => {
  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    it(`${protocol}: a base endpoint gets /v1/metrics; headers, gzip, resource; the points counted written`, async () => {
      const r = await startHttpReceiver();
      receivers.push(r);
      const { stat, logged } = await exportOnce({ protocol, endpoint: r.url, headers: { 'X-Scope-OrgID': 'tenant-1' }, compression: 'gzip', resource: { pod_name: 'quay-0' } });
      expect(r.contentTypes).toEqual([protocol === 'http/json' ? 'application/json' : 'application/x-protobuf']);
      expect(r.exports[0]!.headers['x-scope-orgid']).toBe('tenant-1');
      expect(r.exports[0]!.headers['content-encoding']).toBe('gzip');
      // no tls: no warning about it
      expect(logged.filter((l) => l.msg.includes('insecure_skip_verify'))).toEqual([]);
      expect(r.exports[0]!.resource).toMatchObject({ 'service.name': 'quay-log-exporter', 'k8s.pod.name': 'quay-0', 'service.instance.id': 'quay-0' });
      expect(pulls(r)).toMatchObject({ kind: 'sum', temporality: 'cumulative', monotonic: true, points: [{ labels: { namespace: 'acme', repository: 'web' }, value: 5 }] });
      // every point of the export counted: the pulls series plus the unlabelled series made at start
      const points = r.exports.flatMap((e) => e.metrics).reduce((n, m) => n + m.points.length, 0);
      expect(stat('quay_log_exporter_output_points_written_total')).toBe(points);
      expect(stat('quay_log_exporter_output_write_errors_total')).toBe(0);
      expect(logged.find((l) => l.msg === 'otlp output started')).toMatchObject({ protocol, endpoint: `${r.url}/v1/metrics`, interval_ms: 3_600_000, temporality: 'cumulative' });
    });
  }

  it('grpc: metadata from headers, delta temporality', async () => {
    const r = await startGrpcReceiver();
    receivers.push(r);
    const { logged } = await exportOnce({ protocol: 'grpc', endpoint: r.url, headers: { Authorization: 'Bearer t' }, temporality: 'delta' });
    expect(r.exports[0]!.headers['authorization']).toBe('Bearer t');
    expect(logged.find((l) => l.msg === 'otlp output started')).toMatchObject({ protocol: 'grpc', temporality: 'delta' });
    expect(pulls(r)).toMatchObject({ temporality: 'delta', points: [{ value: 5 }] });
  });

  it('the protocol and interval from the environment; the endpoint shown without userinfo', async () => {
    const r = await startHttpReceiver();
    receivers.push(r);
    const url = new URL(r.url);
    const { logged } = await exportOnce({ endpoint: `http://user:pw@${url.host}` }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_METRIC_EXPORT_INTERVAL: '7000' });
    expect(r.contentTypes).toEqual(['application/json']);
    // config interval (1h) wins over the env; the endpoint is printed without user and password
    expect(logged.find((l) => l.msg === 'otlp output started')).toMatchObject({ protocol: 'http/json', endpoint: `http://${url.host}/v1/metrics` });
    expect(JSON.stringify(logged)).not.toContain('pw@');
  });

  it('a collector that is not there: the export counted as failed and dropped, one warning', async () => {
    const port = await freePort();
    const { stat, logged, registry } = await exportOnce({ endpoint: `http://127.0.0.1:${port}`, timeout: '1s' });
    // every series there is was in the one export: all of them dropped
    const series = [...registry.entries()].reduce((n, [, f]) => n + f.slots.size, 0);
    expect(stat('quay_log_exporter_output_write_errors_total')).toBe(1);
    expect(stat('quay_log_exporter_output_points_written_total')).toBe(0);
    expect(stat('quay_log_exporter_output_dropped_points_total')).toBe(series);
    expect(logged.filter((l) => l.msg === 'otlp export failed')).toHaveLength(1);
  });

  it('insecure_skip_verify is warned; an unreadable CA file names its key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-otlp-'));
    writeFileSync(join(dir, 'ca.crt'), '');
    const config = (tls: Record<string, unknown>) => configSchema.parse({ outputs: { otlp: { endpoint: 'https://127.0.0.1:1', tls } } }).outputs.otlp!;
    const registry = new MetricRegistry();
    const logged: string[] = [];
    const log = createLogger('debug', (l) => void logged.push((JSON.parse(l) as { msg: string }).msg));
    const out = createOtlpOutput(config({ insecure_skip_verify: true }), { registry, producer: new SlotProducer(registry), log, env: {} });
    expect(logged).toContain("outputs.otlp.tls.insecure_skip_verify: the collector's certificate is not checked");
    await out.reader.shutdown().catch(() => undefined);
    const missing = { ...config({}), tls: { ca_file: join(dir, 'absent.crt') } } as never;
    expect(() => createOtlpOutput(missing, { registry, producer: new SlotProducer(registry), log, env: {} })).toThrow(`outputs.otlp.tls.ca_file: cannot read ${join(dir, 'absent.crt')} (ENOENT)`);
  });
});

describe('createOtlpOutput: what the config decides over the SDK\'s own environment variables', () => {
  it('compression none wins over OTEL_EXPORTER_OTLP_COMPRESSION=gzip; not configured, the environment decides', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_COMPRESSION', 'gzip');
    const r = await startHttpReceiver();
    receivers.push(r);
    await exportOnce({ endpoint: r.url, compression: 'none' });
    await exportOnce({ endpoint: r.url });
    expect(r.exports.map((e) => e.headers['content-encoding'])).toEqual([undefined, 'gzip']);
  });

  it('temporality cumulative wins over OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta; not configured, the environment decides', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'delta');
    const r = await startHttpReceiver();
    receivers.push(r);
    const configured = await exportOnce({ endpoint: r.url, temporality: 'cumulative' });
    const fromEnv = await exportOnce({ endpoint: r.url });
    expect(r.exports.map((e) => e.metrics.find((m) => m.name === 'quay_registry_pulls_total')!.temporality)).toEqual(['cumulative', 'delta']);
    expect([configured, fromEnv].map((x) => x.logged.find((l) => l.msg === 'otlp output started')!['temporality'])).toEqual(['cumulative', 'delta']);
  });

  it('no endpoint configured: the SDK reads OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, and the log says so', async () => {
    const r = await startHttpReceiver();
    receivers.push(r);
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', `${r.url}/v1/metrics`);
    const { logged, stat } = await exportOnce({});
    expect(pulls(r)).toMatchObject({ points: [{ value: 5 }] });
    expect(stat('quay_log_exporter_output_points_written_total')).toBeGreaterThan(0);
    expect(logged.find((l) => l.msg === 'otlp output started')!['endpoint']).toBe('(from OTEL_EXPORTER_OTLP_* or the default)');
  });

  it('a protocol in the environment that is not one: warned, and the default http/protobuf used', async () => {
    const r = await startHttpReceiver();
    receivers.push(r);
    const { logged } = await exportOnce({ endpoint: r.url }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' });
    expect(logged.map((l) => l.msg)).toContain('OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http/protobuf, http/json, grpc, got "carrier-pigeon"; ignored');
    expect(r.contentTypes).toEqual(['application/x-protobuf']);
  });
});

describe('createOtlpOutput over TLS (certificates by openssl)', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });

  it('https with a client certificate: the collector checked against ca_file, the client known by cert_file/key_file', async () => {
    const r = await startHttpReceiver({ key: certs.serverKey, cert: certs.serverCert, clientCa: certs.caCert });
    receivers.push(r);
    const { stat } = await exportOnce({ endpoint: r.url, tls: { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey } });
    expect(pulls(r)).toMatchObject({ points: [{ value: 5 }] });
    expect(stat('quay_log_exporter_output_write_errors_total')).toBe(0);
  });

  it('https: a collector whose certificate another CA signed is refused (nothing arrives, the export failed); insecure_skip_verify lets it through', async () => {
    const r = await startHttpReceiver({ key: certs.serverKey, cert: certs.serverCert });
    receivers.push(r);
    const refused = await exportOnce({ endpoint: r.url, timeout: '2s', tls: { ca_file: certs.otherCaCert } });
    expect(r.exports).toEqual([]);
    expect(refused.stat('quay_log_exporter_output_write_errors_total')).toBe(1);
    const skipped = await exportOnce({ endpoint: r.url, tls: { ca_file: certs.otherCaCert, insecure_skip_verify: true } });
    expect(r.exports).toHaveLength(1);
    expect(skipped.stat('quay_log_exporter_output_write_errors_total')).toBe(0);
  });

  it('grpc over TLS with a client certificate; without one the collector refuses it', async () => {
    const r = await startGrpcReceiver({ key: certs.serverKey, cert: certs.serverCert, clientCa: certs.caCert });
    receivers.push(r);
    const ok = await exportOnce({ protocol: 'grpc', endpoint: r.url, tls: { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey } });
    expect(pulls(r)).toMatchObject({ points: [{ value: 5 }] });
    expect(ok.stat('quay_log_exporter_output_write_errors_total')).toBe(0);
    const noCert = await exportOnce({ protocol: 'grpc', endpoint: r.url, timeout: '2s', tls: { ca_file: certs.caCert } });
    expect(r.exports).toHaveLength(1);
    expect(noCert.stat('quay_log_exporter_output_write_errors_total')).toBe(1);
  });

  it('grpc: insecure_skip_verify accepts a certificate from an unknown CA', async () => {
    const r = await startGrpcReceiver({ key: certs.serverKey, cert: certs.serverCert });
    receivers.push(r);
    const refused = await exportOnce({ protocol: 'grpc', endpoint: r.url, timeout: '2s', tls: { ca_file: certs.otherCaCert } });
    expect(refused.stat('quay_log_exporter_output_write_errors_total')).toBe(1);
    const skipped = await exportOnce({ protocol: 'grpc', endpoint: r.url, tls: { ca_file: certs.otherCaCert, insecure_skip_verify: true } });
    expect(skipped.stat('quay_log_exporter_output_write_errors_total')).toBe(0);
    expect(r.exports).toHaveLength(1);
  });

  it('an unreadable cert_file or key_file names its key', () => {
    const registry = new MetricRegistry();
    const config = (tls: Record<string, unknown>) => configSchema.parse({ outputs: { otlp: { endpoint: 'https://127.0.0.1:1', tls } } }).outputs.otlp!;
    const deps = { registry, producer: new SlotProducer(registry), log: createLogger('error', () => {}), env: {} };
    expect(() => createOtlpOutput({ ...config({}), tls: { cert_file: '/nonexistent/c.crt' } } as never, deps)).toThrow('outputs.otlp.tls.cert_file: cannot read /nonexistent/c.crt (ENOENT)');
    expect(() => createOtlpOutput({ ...config({}), tls: { key_file: '/nonexistent/c.key' } } as never, deps)).toThrow('outputs.otlp.tls.key_file: cannot read /nonexistent/c.key (ENOENT)');
  });
});

describe('createOtlpOutput: failures and shutdown', () => {
  it('failed exports: one warning when they start, then one per 10, each with the count so far and the error; a success says so once', async () => {
    const port = await freePort();
    const registry = new MetricRegistry();
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 5;
    const logged: { msg: string; [k: string]: unknown }[] = [];
    const log = createLogger('debug', (l) => void logged.push(JSON.parse(l) as { msg: string }));
    const config = configSchema.parse({ outputs: { otlp: { endpoint: `http://127.0.0.1:${port}`, interval: '1h', timeout: '300ms', shutdown_timeout: '5s' } } }).outputs.otlp!;
    const out = createOtlpOutput(config, { registry, producer: new SlotProducer(registry), log, env: {} });
    const provider = createMeterProvider(registry, [out.reader]);
    // 11 exports to a port nothing listens on: warnings at the 1st and the 11th failure
    for (let i = 0; i < 11; i++) await out.reader.forceFlush();
    const warned = logged.filter((l) => l.msg === 'otlp export failed');
    expect(warned.map((w) => w['failed_exports'])).toEqual([1, 11]);
    expect(String(warned[0]!['error'])).toMatch(/ECONNREFUSED|connect/i);
    expect(registry.counter('quay_log_exporter_output_write_errors_total').at('otlp').value).toBe(11);
    // now a collector on that port: the next export succeeds, said once with the failures before it
    const r = await startHttpReceiver(undefined, port);
    try {
      await out.reader.forceFlush();
      await out.reader.forceFlush();
      expect(logged.filter((l) => l.msg === 'otlp export succeeded again').map((l) => l['failed_exports'])).toEqual([11]);
    } finally {
      await out.shutdown();
      await provider.shutdown().catch(() => undefined);
      await r.close();
    }
  });

  it('shutdown() alone makes the final export, once however often it is called, and says what was written', async () => {
    const r = await startHttpReceiver();
    receivers.push(r);
    const registry = new MetricRegistry();
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 5;
    const logged: { msg: string; [k: string]: unknown }[] = [];
    const log = createLogger('debug', (l) => void logged.push(JSON.parse(l) as { msg: string }));
    const config = configSchema.parse({ outputs: { otlp: { endpoint: r.url, interval: '1h', shutdown_timeout: '5s' } } }).outputs.otlp!;
    const out = createOtlpOutput(config, { registry, producer: new SlotProducer(registry), log, env: {} });
    createMeterProvider(registry, [out.reader]);
    await Promise.all([out.shutdown(), out.shutdown()]);
    await out.shutdown();
    expect(r.exports).toHaveLength(1);
    const points = r.exports[0]!.metrics.reduce((n, m) => n + m.points.length, 0);
    expect(logged.filter((l) => l.msg === 'otlp output stopped').map((l) => [l['written'], l['dropped'], l['failed_exports']])).toEqual([[points, 0, 0]]);
  });
});

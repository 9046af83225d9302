/**
 * The OTLP output in process, with the OpenTelemetry exporters themselves, against the receiver of
 * test/outputs/otlp/receiver.ts (http/protobuf and http/json decoded with the OTLP proto, gRPC via
 * @grpc/grpc-js). test/outputs/otlp.test.ts does this through the daemon, where a mutation run
 * cannot see it. One export each: the final one at shutdown (the interval is an hour).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGrpcReceiver, startHttpReceiver, type Receiver } from '../../../test/outputs/otlp/receiver.js';
import { freePort } from '../../../test/helpers/wait.js';
import { configSchema } from '../../config/schema.js';
import { createLogger } from '../../log.js';
import { createMeterProvider, SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { createOtlpOutput } from './index.js';

const receivers: Receiver[] = [];
afterEach(async () => {
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
    await exportOnce({ protocol: 'grpc', endpoint: r.url, headers: { Authorization: 'Bearer t' }, temporality: 'delta' });
    expect(r.exports[0]!.headers['authorization']).toBe('Bearer t');
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

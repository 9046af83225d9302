/** The Prometheus output's /metrics route, its JSON form (replay --format json), and scope info kept. */
import { describe, expect, it } from 'vitest';
import { createMeterProvider, SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { PrometheusOutput } from './index.js';

function filled() {
  const registry = new MetricRegistry();
  registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 4;
  registry.gauge('quay_log_exporter_files_watched').at().value = 2;
  const h = registry.histogram('quay_registry_transfer_duration_seconds');
  for (const v of [0.004, 0.02, 400]) h.observe(h.at('pull'), v);
  return registry;
}

describe('PrometheusOutput', () => {
  it('/metrics: 200, text format 0.0.4, the rendered bytes', async () => {
    const registry = filled();
    const output = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry), registry });
    const provider = createMeterProvider(registry, [output.reader]);
    const reply = await output.routes()['/metrics']!({} as never);
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = reply.body.toString();
    expect(text).toBe(await output.exposition());
    expect(text).toMatch(/^quay_registry_pulls_total\{namespace="acme",repository="web"\} 4$/m);
    expect(text).not.toContain('otel_scope');
    expect(text).not.toContain('target_info');
    await provider.shutdown();
  });

  it('scope info kept: the SDK serializer, with otel_scope_* labels and target_info', async () => {
    const registry = filled();
    // a registry given too: with scope info it is not used (render.ts writes no scope info)
    const output = new PrometheusOutput({ scopeInfo: true, producer: new SlotProducer(registry), registry });
    const provider = createMeterProvider(registry, [output.reader]);
    const text = (await output.scrape()).toString();
    expect(text).toMatch(/^quay_registry_pulls_total\{namespace="acme",repository="web",otel_scope_name="quay-log-exporter",otel_scope_version="0.1.0"\} 4$/m);
    expect(text).toMatch(/^target_info\{service_name="quay-log-exporter"/m);
    await provider.shutdown();
  });

  it('json: every metric sorted by name, counters, gauges and cumulative histogram buckets', async () => {
    const registry = filled();
    const output = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry), registry });
    const provider = createMeterProvider(registry, [output.reader]);
    const { metrics } = await output.json();
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    expect(metrics.map((m) => m.name)).toEqual([...metrics.map((m) => m.name)].sort());
    expect(byName['quay_registry_pulls_total']).toEqual({ name: 'quay_registry_pulls_total', type: 'counter', help: 'Image pulls: manifest GETs answered 2xx.', series: [{ labels: { namespace: 'acme', repository: 'web' }, value: 4 }] });
    expect(byName['quay_log_exporter_files_watched']!.type).toBe('gauge');
    expect(byName['quay_log_exporter_files_watched']!.series).toEqual([{ labels: {}, value: 2 }]);
    const h = byName['quay_registry_transfer_duration_seconds']!;
    expect(h.type).toBe('histogram');
    // 0.004 ≤ 0.005; 0.02 ≤ 0.025; 400 only in +Inf: cumulative 1, 1, 2, 2 … 2, 3
    expect(h.series[0]!.buckets).toMatchObject({ '0.005': 1, '0.01': 1, '0.025': 2, '300': 2, '+Inf': 3 });
    expect(Object.keys(h.series[0]!.buckets!)).toHaveLength(16);
    expect([h.series[0]!.count, h.series[0]!.sum, h.series[0]!.labels]).toEqual([3, 400.024, { direction: 'pull' }]);
    await provider.shutdown();
  });
});

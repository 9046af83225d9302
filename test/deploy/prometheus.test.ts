/**
 * Prometheus side, against a real prometheus and promtool: the rules check
 * and pass their unit tests, and a running exporter's /metrics is scraped,
 * linted by `promtool check metrics`, and queryable for catalogue metrics.
 *
 * The /metrics endpoint here is an OTel PrometheusExporter on the shared
 * MeterProvider served in-test (the CLI's endpoint is the lead's; the same
 * createMeterProvider + HistogramProducer wiring).
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { createMeterProvider, HistogramProducer } from '../../src/metrics/provider.js';
import { MetricRegistry } from '../../src/metrics/series.js';
import { haveBinary, PROMETHEUS, PROMTOOL, promtool, startPrometheus, waitFor, type Prometheus } from '../outputs/servers.js';

const RULES_DIR = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const RULES = RULES_DIR + 'quay-log-exporter.rules.yml';
const RULES_TEST = RULES_DIR + 'quay-log-exporter.rules.test.yml';

describe.skipIf(!haveBinary(PROMTOOL))('Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES]);
    expect(r.output).toContain('SUCCESS: 10 rules found');
    expect(r.status, r.output).toBe(0);
  });

  it('pass their promtool unit tests', () => {
    // Run from the rules' folder: the test file names its rule file relative to itself.
    const r = promtool(['test', 'rules', RULES_TEST], undefined, RULES_DIR);
    expect(r.status, r.output).toBe(0);
  });

  it('every alert has at least one firing unit test', () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string }[] }[] };
    const tests = parse(readFileSync(RULES_TEST, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const firing = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(alerts.length).toBe(10);
    for (const a of alerts) expect(firing, a).toContain(a);
  });
});

describe.skipIf(!haveBinary(PROMETHEUS) || !haveBinary(PROMTOOL))('Prometheus scrapes the exporter', () => {
  let server: Server;
  let prom: Prometheus;
  let provider: ReturnType<typeof createMeterProvider>;
  let port = 0;
  const registry = new MetricRegistry();

  beforeAll(async () => {
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 42;
    registry.counter('quay_log_repository_mirror_tag_syncs_total').at('acme', 'mirror', 'failed').value = 3;
    registry.gauge('quay_log_repository_mirror_last_sync_status').at('acme', 'mirror', 'failed', 'auth').value = 1;
    registry.counter('quay_log_exporter_lines_total').at('nginx', 'matched').value = 100;
    registry.counter('quay_log_exporter_lines_total').at('nginx', 'unmatched').value = 4;
    const h = registry.histogram('quay_registry_transfer_duration_seconds');
    for (const v of [0.003, 0.02, 7]) h.observe(h.at('pull'), v);

    const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [new HistogramProducer(registry)] });
    provider = createMeterProvider(registry, [exporter]);
    server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as { port: number }).port;
    prom = await startPrometheus(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${RULES}
scrape_configs:
  - job_name: quay-log-exporter
    static_configs:
      - targets: ['127.0.0.1:${port}']
`);
    console.log(`prometheus ready in ${prom.startupMs} ms`);
  });
  afterAll(async () => {
    await prom?.destroy();
    await new Promise((r) => server?.close(r));
    await provider?.shutdown();
  });

  it('the exposition passes promtool check metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const r = promtool(['check', 'metrics'], text);
    expect(r.status, r.output).toBe(0);
  });

  it('Prometheus stores catalogue metrics with their labels and values', async () => {
    const pulls = await waitFor('pulls scraped', async () => {
      const r = await prom.query('quay_registry_pulls_total');
      return r.length > 0 ? r : undefined;
    });
    expect(pulls[0]!.metric).toMatchObject({ namespace: 'acme', repository: 'web', job: 'quay-log-exporter' });
    expect(pulls[0]!.value[1]).toBe('42');

    const failing = await prom.query('quay_log_repository_mirror_last_sync_status{status="failed"} == 1');
    expect(failing.map((s) => s.metric['repository'])).toEqual(['mirror']);

    // 0.003 and 0.02 are <= 0.025; 7 is not.
    const le = await prom.query('quay_registry_transfer_duration_seconds_bucket{direction="pull",le="0.025"}');
    expect(le[0]!.value[1]).toBe('2');
    const count = await prom.query('quay_registry_transfer_duration_seconds_count{direction="pull"}');
    expect(count[0]!.value[1]).toBe('3');

    // 4 unmatched of 104 lines.
    const ratio = await prom.query('sum(quay_log_exporter_lines_total{result="unmatched"}) / sum(quay_log_exporter_lines_total)');
    expect(Number(ratio[0]!.value[1])).toBeCloseTo(4 / 104, 10);

    // The rules loaded into this Prometheus evaluate without errors.
    type Rules = { data: { groups: { rules: { health: string; name: string }[] }[] } };
    await waitFor('rules evaluated', async () => {
      const r = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as Rules;
      const all = r.data.groups.flatMap((g) => g.rules);
      return all.length === 10 && all.every((x) => x.health === 'ok') ? true : undefined;
    });
  });
});

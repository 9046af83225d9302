/** Concurrent scrapes share one render; a scrape after it renders anew. */
import { describe, expect, it } from 'vitest';
import { createMeterProvider, SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { PrometheusOutput } from './index.js';
import { labelsOf, renderCapacity, renderExposition, renderExpositionAsync } from './render.js';
import { parseConfig } from '../../config/load.js';
import { replayStream } from '../../inputs/index.js';
import { silentLogger } from '../../log.js';
import { Pipeline } from '../../pipeline.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

describe('PrometheusOutput.scrape', () => {
  it('renders once for 10 concurrent scrapes, each getting the same text', async () => {
    const registry = new MetricRegistry();
    const output = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry) });
    const provider = createMeterProvider(registry, [output.reader]);
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 42;
    const texts = await Promise.all(Array.from({ length: 10 }, () => output.scrape()));
    // 10 scrapes in flight together: 1 render
    expect(output.renders).toBe(1);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]!.toString()).toMatch(/^quay_registry_pulls_total\{namespace="acme",repository="web"\} 42$/m);
    // A later scrape sees the new value: the text is shared while rendering, never cached after.
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 43;
    expect((await output.scrape()).toString()).toMatch(/^quay_registry_pulls_total\{namespace="acme",repository="web"\} 43$/m);
    expect(output.renders).toBe(2);
    await provider.shutdown();
  });
});

describe('renderExposition', () => {
  const sdkText = async (registry: MetricRegistry) => {
    const sdk = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry) }); // no registry: the SDK's serializer
    createMeterProvider(registry, [sdk.reader]);
    return sdk.exposition();
  };

  it('writes byte for byte what the SDK serializer writes: escapes, empty labels, Inf, fractions, histograms', async () => {
    const registry = new MetricRegistry();
    const text = await sdkText(registry); // creates the labelless series too
    expect(renderExposition(registry)).toBe(text);
    registry.counter('quay_registry_pulls_total').at('ac"me', 'we\\b\nx').value = 42;
    registry.counter('quay_registry_pulls_total').at('', 'lib').value = 0.5;
    registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds').at('ns', 'r').value = 1_700_000_000.123;
    registry.gauge('quay_log_exporter_files_watched').at().value = Infinity;
    const h = registry.histogram('quay_registry_transfer_duration_seconds');
    for (const v of [0.003, 0.02, 7, 400]) h.observe(h.at('pull'), v);
    h.at('push'); // a series with no observation yet
    expect(renderExposition(registry)).toBe(await sdkText(registry));
  });

  it('byte for byte as the SDK: a rule counter without _total, an empty help, -Inf, a histogram with an explicit +Inf bound', async () => {
    const registry = new MetricRegistry();
    registry.define('rule_hits', { kind: 'counter', help: '', labels: ['k'] });
    registry.define('rule_level', { kind: 'gauge', help: 'a\\b\nc', labels: [] });
    registry.define('rule_sizes', { kind: 'histogram', help: '', labels: ['k'], buckets: [1, Infinity] });
    registry.define('rule_plain', { kind: 'histogram', help: 'plain', labels: [], buckets: [10] });
    const text = await sdkText(registry);
    registry.definedCounter('rule_hits').at('x').value = 3;
    registry.definedCounter('rule_level' as never).at().value = -Infinity;
    const h = registry.definedHistogram('rule_sizes');
    for (const v of [0.5, 2, 5]) h.observe(h.at('x'), v);
    const plain = registry.definedHistogram('rule_plain');
    plain.observe(plain.at(), 11);
    const ours = renderExposition(registry);
    expect(ours).toBe(await sdkText(registry));
    expect(ours).not.toBe(text);
    // By hand: the counter gets _total; no help → "description missing"; the gauge's help escaped; -Inf.
    // rule_sizes: 0.5 ≤ 1; 2 and 5 ≤ +Inf: buckets 1, 3 and no second +Inf line after the explicit one.
    expect(ours).toContain('# HELP rule_hits_total description missing\n# TYPE rule_hits_total counter\nrule_hits_total{k="x"} 3\n');
    expect(ours).toContain('# HELP rule_level a\\\\b\\nc\n# TYPE rule_level gauge\nrule_level -Inf\n');
    expect(ours).toContain(
      '# HELP rule_sizes description missing\n# TYPE rule_sizes histogram\nrule_sizes_count{k="x"} 3\nrule_sizes_sum{k="x"} 7.5\nrule_sizes_bucket{k="x",le="1"} 1\nrule_sizes_bucket{k="x",le="+Inf"} 3\n',
    );
    expect(ours).toContain('rule_plain_count 1\nrule_plain_sum 11\nrule_plain_bucket{le="10"} 0\nrule_plain_bucket{le="+Inf"} 1\n');
  });

  it('a registry with no series: the text the SDK serializer writes for no metrics', () => {
    // PrometheusSerializer writes "# no registered metrics" when nothing is collected.
    expect(renderExposition(new MetricRegistry())).toBe('# no registered metrics');
  });

  it('writes byte for byte what the SDK serializer writes for the test fixtures through the pipeline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-render-'));
    const pipeline = new Pipeline(parseConfig({ state_dir: dir }), { log: silentLogger });
    const fixtures = ['quay-supervisord.log', 'gc-workers.log', 'mirror-interleaved.log', 'mirror-skopeo-debug.log'];
    for (const f of fixtures) {
      const input = parseConfig({ state_dir: dir, inputs: [{ type: 'stdin' }] }).inputs[0]!;
      await replayStream(fileURLToPath(new URL(`../../../test/fixtures/${f}`, import.meta.url)), input, { handler: pipeline.handler('supervisord'), registry: pipeline.registry, log: silentLogger });
    }
    const ours = await pipeline.prometheus.exposition();
    expect(ours.length).toBeGreaterThan(10_000);
    expect(ours).toBe(await sdkText(pipeline.registry));
    await pipeline.shutdown();
  });
});

describe('labelsOf', () => {
  it('writes a series label string once: names in attribute order, comma-separated, values escaped as the SDK does', () => {
    // By hand: " → \", \ → \\, newline → \n; pairs joined by ',' with no trailing comma.
    expect(labelsOf({ namespace: 'ac"me', repository: 'we\\b\nx', status: '200' })).toBe('namespace="ac\\"me",repository="we\\\\b\\nx",status="200"');
    expect(labelsOf({ program: 'gcworker' })).toBe('program="gcworker"');
    expect(labelsOf({})).toBe('');
    // Made once per attributes object: the same object gives the very same string even after its values change.
    const attributes: Record<string, string> = { namespace: 'a' };
    expect(labelsOf(attributes)).toBe('namespace="a"');
    attributes['namespace'] = 'b';
    expect(labelsOf(attributes)).toBe('namespace="a"');
  });
});

describe('render buffer', () => {
  it('starts at 64 KiB, then at the last render\'s length plus a quarter, never below 64 KiB', () => {
    expect(renderCapacity(undefined)).toBe(65_536);
    expect(renderCapacity(0)).toBe(65_536);
    expect(renderCapacity(40_000)).toBe(65_536); // 50,000 < 64 KiB
    expect(renderCapacity(100_000)).toBe(125_000);
    expect(renderCapacity(8_900_000)).toBe(11_125_000); // the cap's 8.9 MB exposition
  });

  it('a scrape after the first is written into one buffer of that size, handed out without a copy', async () => {
    const registry = new MetricRegistry();
    const output = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry), registry });
    createMeterProvider(registry, [output.reader]);
    // 3,000 series of ~80 bytes: about 240 KB, more than the first 64 KiB.
    for (let i = 0; i < 3000; i++) registry.counter('quay_registry_pulls_total').at('namespace', `repository-${i}`).value = i;
    const first = await output.scrape();
    expect(first.length).toBeGreaterThan(131_072);
    // The first render grew 64 → 128 → 256 KiB (each time doubling, each write needing less than that).
    expect(first.buffer.byteLength).toBe(262_144);
    const second = await output.scrape();
    expect(second.toString()).toBe(first.toString());
    // Started at first.length + first.length/4 and never grew: the text is a view of that buffer.
    expect(second.buffer.byteLength).toBe(first.length + (first.length >> 2));
    expect(second.byteOffset).toBe(0);
    // Each render has a buffer of its own: a later render never writes into a text still being sent.
    const before = second.toString();
    registry.counter('quay_registry_pulls_total').at('namespace', 'repository-0').value = 12345;
    const third = await output.scrape();
    expect(third.toString()).toContain('repository="repository-0"} 12345\n');
    expect(second.toString()).toBe(before);
    expect(second.toString()).toContain('repository="repository-0"} 0\n');
  });
});

describe('render: large values and slices', () => {
  const sdkText = async (registry: MetricRegistry) => {
    const sdk = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry) });
    createMeterProvider(registry, [sdk.reader]);
    return sdk.exposition();
  };

  it('one write longer than twice the buffer (a 200,000-character label value) is written whole', async () => {
    const registry = new MetricRegistry();
    registry.counter('quay_registry_pulls_total').at('ns', 'r'.repeat(200_000)).value = 1;
    const sdk = await sdkText(registry); // first: it adds the unlabelled series at 0
    const ours = renderExposition(registry);
    // 64 KiB to start; the series line needs ~600 KB of room (3 bytes per character at most): grown to that at once; doubled to 128 KiB only, it would be cut
    expect(ours).toContain(`quay_registry_pulls_total{namespace="ns",repository="${'r'.repeat(200_000)}"} 1\n`);
    expect(ours).toBe(sdk);
  });

  it('renderExpositionAsync gives the event loop a turn every 2,000 series, not before', async () => {
    const turnBefore = async (series: number, histograms = false) => {
      const registry = new MetricRegistry();
      const h = registry.histogram('quay_http_request_duration_seconds');
      for (let i = 0; i < series; i++) {
        if (histograms) h.observe(h.at(`c${i}`), 0.1);
        else registry.counter('quay_registry_pulls_total').at('ns', `r${i}`).value = i;
      }
      let turned = false;
      setImmediate(() => (turned = true));
      const text = (await renderExpositionAsync(registry)).toString();
      return { turned, same: text === renderExposition(registry) };
    };
    // 1,999 series: written in one go, the immediate runs after; 2,000: one turn at the 2,000th series
    expect(await turnBefore(1_999)).toEqual({ turned: false, same: true });
    expect(await turnBefore(2_000)).toEqual({ turned: true, same: true });
    expect(await turnBefore(4_500)).toEqual({ turned: true, same: true });
    // histogram series count the same way
    expect(await turnBefore(1_999, true)).toEqual({ turned: false, same: true });
    expect(await turnBefore(2_000, true)).toEqual({ turned: true, same: true });
  });

  it('the SDK exporter starts no HTTP server of its own (/metrics is on the process\'s server)', async () => {
    const registry = new MetricRegistry();
    const output = new PrometheusOutput({ scopeInfo: false, producer: new SlotProducer(registry), registry });
    await new Promise((r) => setImmediate(r));
    // PrometheusExporter makes its server in the constructor and listens on :9464 unless preventServerStart
    expect((output.reader as unknown as { _server: { listening: boolean } })._server.listening).toBe(false);
  });
});

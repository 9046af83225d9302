/**
 * Series slots: the series cap and its `__overflow__` fold, histogram buckets at their bounds, the pod
 * label, dropping series, defined metrics, and what SlotProducer hands the SDK. Values worked out by
 * hand from the catalogue (src/metrics/catalogue.ts).
 */
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { podLabelAllowed } from './catalogue.js';
import { createMeterProvider, SlotProducer } from './provider.js';
import { MetricRegistry, OVERFLOW, own } from './series.js';

const overflowOf = (r: MetricRegistry, metric: string) => r.counter('quay_log_exporter_series_overflow_total').at(metric).value;

describe('the series cap', () => {
  it('past max_series_per_metric only the fold labels become __overflow__, once per folded series, counted per recording', () => {
    const r = new MetricRegistry(2);
    // quay_registry_requests_total: labels operation, namespace, repository, status; fold namespace, repository
    const req = r.counter('quay_registry_requests_total');
    const a = req.at('pull', 'acme', 'one', '200');
    const b = req.at('pull', 'acme', 'two', '200');
    const third = req.at('push', 'acme', 'three', '201');
    expect(third.attributes).toEqual({ operation: 'push', namespace: OVERFLOW, repository: OVERFLOW, status: '201' });
    expect(overflowOf(r, 'quay_registry_requests_total')).toBe(1);
    // another new repository with the same operation and status: the same folded slot, counted again
    expect(req.at('push', 'other', 'four', '201')).toBe(third);
    expect(overflowOf(r, 'quay_registry_requests_total')).toBe(2);
    // existing series are found as before, with no overflow
    expect(req.at('pull', 'acme', 'one', '200')).toBe(a);
    expect(req.at('pull', 'acme', 'two', '200')).toBe(b);
    expect(overflowOf(r, 'quay_registry_requests_total')).toBe(2);
    // a folded series with another status is a new folded slot (3 + 1 = 4 slots: the fold is not capped)
    expect(req.at('pull', 'x', 'y', '404').attributes).toEqual({ operation: 'pull', namespace: OVERFLOW, repository: OVERFLOW, status: '404' });
    expect(req.slots.size).toBe(4);
    expect(overflowOf(r, 'quay_registry_requests_total')).toBe(3);
  });

  it('a metric without fold labels folds all its labels', () => {
    const r = new MetricRegistry(1);
    const lines = r.counter('quay_log_exporter_lines_total');
    lines.at('nginx', 'matched');
    expect(lines.at('gunicorn', 'unmatched').attributes).toEqual({ source: OVERFLOW, result: OVERFLOW });
  });

  it('exactly at the cap: the cap-th series is still itself', () => {
    const r = new MetricRegistry(3);
    const pulls = r.counter('quay_registry_pulls_total');
    pulls.at('a', '1');
    pulls.at('a', '2');
    expect(pulls.at('a', '3').attributes).toEqual({ namespace: 'a', repository: '3' });
    expect(pulls.at('a', '4').attributes).toEqual({ namespace: OVERFLOW, repository: OVERFLOW });
  });

  it('the default cap is 10,000 series per metric', () => {
    const pulls = new MetricRegistry().counter('quay_registry_pulls_total');
    for (let i = 1; i <= 10_000; i++) pulls.at('a', String(i));
    // the 10,000th is itself, the 10,001st folds
    expect(pulls.at('a', '10000').attributes).toEqual({ namespace: 'a', repository: '10000' });
    expect(pulls.at('a', '10001').attributes).toEqual({ namespace: OVERFLOW, repository: OVERFLOW });
    expect(pulls.slots.size).toBe(10_001);
  });

  it('a defined metric with `fold: []` folds all its labels, and is not a series from the logs for series_ttl', () => {
    const r = new MetricRegistry(1);
    r.define('rule_f_total', { kind: 'counter', help: 'x', labels: ['a', 'b'], fold: [] });
    const f = r.definedCounter('rule_f_total');
    f.at('x', 'y').value = 1;
    expect(f.at('x', 'z').attributes).toEqual({ a: OVERFLOW, b: OVERFLOW });
    // no fold label named, no pod label: kept by expire() however long unchanged
    r.expire(0, 10);
    expect(r.expire(10, 10)).toBe(0);
    expect(f.slots.size).toBe(2);
  });

  it('the overflow counter is never capped itself', () => {
    const r = new MetricRegistry(1);
    r.counter('quay_registry_pulls_total').at('a', '1');
    r.counter('quay_registry_pulls_total').at('a', '2');
    r.counter('quay_registry_pushes_total').at('a', '1');
    r.counter('quay_registry_pushes_total').at('a', '2');
    // two metrics overflowed: two series of the overflow counter although its cap would be 1
    expect([...r.counter('quay_log_exporter_series_overflow_total').slots.values()].map((s) => [s.attributes, s.value])).toEqual([
      [{ metric: 'quay_registry_pulls_total' }, 1],
      [{ metric: 'quay_registry_pushes_total' }, 1],
    ]);
  });

  it('label values are kept apart: ("a","bc") and ("ab","c") are two series', () => {
    const pulls = new MetricRegistry().counter('quay_registry_pulls_total');
    expect(pulls.at('a', 'bc')).not.toBe(pulls.at('ab', 'c'));
    expect(pulls.slots.size).toBe(2);
  });

  it('own() copies a string without changing it', () => {
    const line = 'GET /v2/acme/app/manifests/latest';
    expect(own(line.slice(8, 12))).toBe('acme');
    expect(own('')).toBe('');
  });
});

describe('histogram buckets', () => {
  it('a value equal to a bound is in that bound\'s bucket; above the last bound, +Inf; sum, count, min, max', () => {
    const h = new MetricRegistry().histogram('quay_registry_transfer_duration_seconds');
    // bounds 0.005, 0.01, 0.025, …, 300 (15 bounds, 16 buckets)
    expect(h.bounds.length).toBe(15);
    const s = h.at('pull');
    expect([s.count, s.min, s.max]).toEqual([0, Infinity, -Infinity]);
    for (const v of [0.005, 0.0051, 0, 300, 301]) h.observe(s, v);
    const counts = Array.from(s.counts);
    // 0 and 0.005 in bucket 0 (≤ 0.005), 0.0051 in bucket 1 (≤ 0.01), 300 in bucket 14, 301 in +Inf (15)
    expect(counts[0]).toBe(2);
    expect(counts[1]).toBe(1);
    expect(counts[14]).toBe(1);
    expect(counts[15]).toBe(1);
    expect(counts.reduce((x, y) => x + y)).toBe(5);
    expect(s.count).toBe(5);
    expect(s.sum).toBeCloseTo(0.005 + 0.0051 + 0 + 300 + 301, 10);
    expect([s.min, s.max]).toEqual([0, 301]);
  });

  it('min and max stay put for a value inside them; a later smaller value is not the max', () => {
    const h = new MetricRegistry().histogram('quay_registry_transfer_duration_seconds');
    const s = h.at('pull');
    for (const v of [7, 3, 5]) h.observe(s, v);
    // 7, then 3 (new min), then 5 (neither): min 3, max 7
    expect([s.min, s.max, s.count, s.sum]).toEqual([3, 7, 3, 15]);
  });

  it('the first value sets both min and max', () => {
    const h = new MetricRegistry().histogram('quay_registry_transfer_duration_seconds');
    const s = h.at('push');
    h.observe(s, 7);
    expect([s.min, s.max]).toEqual([7, 7]);
  });
});

describe('dropping series', () => {
  it('drop removes that slot only; dropSlot finds it by its labels; has() creates nothing', () => {
    const r = new MetricRegistry();
    const lag = r.gauge('quay_log_exporter_input_lag_bytes');
    const a = lag.at('/a');
    const b = lag.at('/b');
    expect([lag.has('/a'), lag.has('/c')]).toEqual([true, false]);
    expect(lag.slots.size).toBe(2);
    lag.drop(a);
    expect([lag.has('/a'), lag.has('/b')]).toEqual([false, true]);
    // dropping again, or a slot made since for the same labels, is left alone
    const a2 = lag.at('/a');
    lag.drop(a);
    expect(lag.at('/a')).toBe(a2);
    lag.dropSlot(b);
    expect(lag.has('/b')).toBe(false);
    lag.dropSlot(a); // the old slot: a2 stays
    expect(lag.at('/a')).toBe(a2);
    lag.dropSlot(a2);
    expect(lag.slots.size).toBe(0);
  });

  it('drop of a middle slot removes that one, not the first', () => {
    const lag = new MetricRegistry().gauge('quay_log_exporter_input_lag_bytes');
    const [a, b, c] = [lag.at('/a'), lag.at('/b'), lag.at('/c')];
    lag.drop(b);
    expect([...lag.slots.values()]).toEqual([a, c]);
  });

  it('has() reads as many values as the metric has labels, no more', () => {
    const pulls = new MetricRegistry().counter('quay_registry_pulls_total');
    pulls.at('a', '1');
    // pulls has 2 labels: a third value is not part of the key
    expect(pulls.has('a', '1', 'extra')).toBe(true);
    expect(pulls.has('a')).toBe(false);
  });

  it('dropSlot of a two-label series, and never of a folded __overflow__ slot', () => {
    const r = new MetricRegistry(1);
    const pulls = r.counter('quay_registry_pulls_total');
    const one = pulls.at('a', '1');
    const folded = pulls.at('a', '2');
    pulls.dropSlot(folded);
    expect(pulls.has(OVERFLOW, OVERFLOW)).toBe(true);
    pulls.dropSlot(one);
    expect(pulls.has('a', '1')).toBe(false);
    expect(pulls.slots.size).toBe(1);
  });

  it('an unlabelled series: has() and dropSlot()', () => {
    const files = new MetricRegistry().gauge('quay_log_exporter_files_watched');
    const s = files.at();
    expect(files.has()).toBe(true);
    files.dropSlot(s);
    expect(files.has()).toBe(false);
  });
});

describe('the pod label (limits.pod_label)', () => {
  it('a pod view records with pod= its pod, last; other metrics are the same family', () => {
    const r = new MetricRegistry(10_000, new Set(['quay_registry_pulls_total']));
    const p1 = r.forPod('quay-1');
    const p2 = r.forPod('quay-2');
    p1.counter('quay_registry_pulls_total').at('acme', 'app').value += 2;
    p2.counter('quay_registry_pulls_total').at('acme', 'app').value += 3;
    p1.counter('quay_registry_pulls_total').at('acme', 'app').value += 1;
    const series = [...r.counter('quay_registry_pulls_total').slots.values()].map((s) => [s.attributes, s.value]);
    expect(series).toEqual([
      [{ namespace: 'acme', repository: 'app', pod: 'quay-1' }, 3],
      [{ namespace: 'acme', repository: 'app', pod: 'quay-2' }, 3],
    ]);
    // the view is made once per metric and pod
    expect(p1.counter('quay_registry_pulls_total')).toBe(p1.counter('quay_registry_pulls_total'));
    // not pod-labelled: one family for all views
    expect(p1.counter('quay_registry_pushes_total')).toBe(r.counter('quay_registry_pushes_total'));
    expect(p1.counter('quay_registry_pushes_total').at('acme', 'app').attributes).toEqual({ namespace: 'acme', repository: 'app' });
  });

  it('the pod label goes in whichever position is last (1 to 5 labels)', () => {
    const names = ['quay_log_gc_iterations_total', 'quay_registry_transfer_duration_seconds', 'quay_log_exporter_lines_total', 'quay_registry_slow_transfers_total', 'quay_registry_requests_total'];
    const r = new MetricRegistry(10_000, new Set(names));
    const p = r.forPod('pod-x');
    expect(p.counter('quay_log_gc_iterations_total').at().attributes).toEqual({ pod: 'pod-x' });
    expect(p.counter('quay_registry_slow_transfers_total').at('pull', 'a', 'b').attributes).toEqual({ direction: 'pull', namespace: 'a', repository: 'b', pod: 'pod-x' });
    expect(p.counter('quay_log_exporter_lines_total').at('nginx', 'matched').attributes).toEqual({ source: 'nginx', result: 'matched', pod: 'pod-x' });
    expect(p.histogram('quay_registry_transfer_duration_seconds').at('pull').attributes).toEqual({ direction: 'pull', pod: 'pod-x' });
    expect(p.counter('quay_registry_requests_total').at('pull', 'a', 'b', '200').attributes).toEqual({ operation: 'pull', namespace: 'a', repository: 'b', status: '200', pod: 'pod-x' });
  });

  it('the key at() makes for 1 to 5 labels is the one has() and dropSlot() find', () => {
    const names = ['quay_log_gc_iterations_total', 'quay_log_exporter_input_lag_bytes', 'quay_log_exporter_lines_total', 'quay_registry_slow_transfers_total', 'quay_registry_requests_total'];
    const r = new MetricRegistry(10_000, new Set(names));
    const p = r.forPod('q');
    // label counts with the pod: 1, 2, 3, 4, 5
    const made = [
      [r.counter('quay_log_gc_iterations_total'), p.counter('quay_log_gc_iterations_total').at(), ['q']],
      [r.gauge('quay_log_exporter_input_lag_bytes'), p.gauge('quay_log_exporter_input_lag_bytes').at('/f'), ['/f', 'q']],
      [r.counter('quay_log_exporter_lines_total'), p.counter('quay_log_exporter_lines_total').at('nginx', 'matched'), ['nginx', 'matched', 'q']],
      [r.counter('quay_registry_slow_transfers_total'), p.counter('quay_registry_slow_transfers_total').at('pull', 'a', 'b'), ['pull', 'a', 'b', 'q']],
      [r.counter('quay_registry_requests_total'), p.counter('quay_registry_requests_total').at('pull', 'a', 'b', '200'), ['pull', 'a', 'b', '200', 'q']],
    ] as const;
    for (const [family, slot, values] of made) {
      expect(Object.values(slot.attributes)).toEqual(values);
      expect(family.has(...values)).toBe(true);
      family.dropSlot(slot as never);
      expect(family.has(...values)).toBe(false);
      expect(family.slots.size).toBe(0);
    }
  });

  it('a pod-labelled metric recorded outside any pod view (a file with no pod in its path) has pod=""', () => {
    const r = new MetricRegistry(10_000, new Set(['quay_registry_requests_total']));
    // no values at all: every label "", the pod too
    expect(r.counter('quay_registry_requests_total').at().attributes).toEqual({ operation: '', namespace: '', repository: '', status: '', pod: '' });
    expect(r.counter('quay_registry_requests_total').at('pull', 'a', 'b', '200').attributes).toEqual({ operation: 'pull', namespace: 'a', repository: 'b', status: '200', pod: '' });
  });

  it('labels not given are "" (at() with fewer values than labels)', () => {
    const r = new MetricRegistry();
    expect(r.counter('quay_registry_requests_total').at('pull').attributes).toEqual({ operation: 'pull', namespace: '', repository: '', status: '' });
    expect(r.counter('quay_registry_slow_transfers_total').at().attributes).toEqual({ direction: '', namespace: '', repository: '' });
    expect(r.counter('quay_log_exporter_lines_total').at('nginx').attributes).toEqual({ source: 'nginx', result: '' });
  });

  it('a defined metric with five labels and no pod keeps its fifth value', () => {
    const r = new MetricRegistry();
    r.define('rule_five_total', { kind: 'counter', help: 'x', labels: ['a', 'b', 'c', 'd', 'e'] });
    expect(r.definedCounter('rule_five_total').at('1', '2', '3', '4', '5').attributes).toEqual({ a: '1', b: '2', c: '3', d: '4', e: '5' });
  });

  it('past the cap only the fold labels and the pod fold; other labels stay', () => {
    const r = new MetricRegistry(1, new Set(['quay_registry_requests_total']));
    r.forPod('p1').counter('quay_registry_requests_total').at('pull', 'a', '1', '200');
    // requests_total folds namespace and repository; the pod is added to the fold: operation and status are kept
    expect(r.forPod('p2').counter('quay_registry_requests_total').at('push', 'a', '2', '201').attributes).toEqual({
      operation: 'push',
      namespace: OVERFLOW,
      repository: OVERFLOW,
      status: '201',
      pod: OVERFLOW,
    });
  });

  it('the registry is told of every slot made (src/threads), not of slots found again', () => {
    const r = new MetricRegistry();
    const told: [string, object][] = [];
    r.onSlot = (metric, slot) => told.push([metric, slot]);
    const a = r.counter('quay_registry_pulls_total').at('ns', 'a');
    r.counter('quay_registry_pulls_total').at('ns', 'a');
    const h = r.histogram('quay_registry_transfer_duration_seconds').at('pull');
    expect(told).toEqual([
      ['quay_registry_pulls_total', a],
      ['quay_registry_transfer_duration_seconds', h],
    ]);
  });

  it('past the cap the pod folds too', () => {
    const r = new MetricRegistry(1, new Set(['quay_registry_pulls_total']));
    r.forPod('p1').counter('quay_registry_pulls_total').at('a', '1');
    expect(r.forPod('p2').counter('quay_registry_pulls_total').at('a', '1').attributes).toEqual({ namespace: OVERFLOW, repository: OVERFLOW, pod: OVERFLOW });
  });

  it('series that have only a pod label from the logs expire; without it they are kept', () => {
    // quay_log_exporter_lines_total has no fold labels: kept by expire() unless it carries a pod
    const withPod = new MetricRegistry(10_000, new Set(['quay_log_exporter_lines_total']));
    withPod.forPod('p').counter('quay_log_exporter_lines_total').at('nginx', 'matched').value = 1;
    withPod.expire(0, 10);
    expect(withPod.expire(10, 10)).toBe(1);
    const without = new MetricRegistry();
    without.counter('quay_log_exporter_lines_total').at('nginx', 'matched').value = 1;
    without.expire(0, 10);
    expect(without.expire(10, 10)).toBe(0);
  });

  it('podLabelAllowed: traffic and lines yes; mirror attempt metrics, own input metrics, unknown names no', () => {
    expect(['quay_registry_pulls_total', 'quay_log_exporter_lines_total', 'quay_mirror_images_total'].map(podLabelAllowed)).toEqual([true, true, true]);
    expect(['quay_log_repository_mirror_sync_attempts_total', 'quay_log_exporter_files_watched', 'no_such_metric'].map(podLabelAllowed)).toEqual([false, false, false]);
  });
});

describe('defined metrics (rules)', () => {
  it('a built-in name cannot be redefined; an unknown name is an error; definitions come after the catalogue', () => {
    const r = new MetricRegistry();
    expect(() => r.define('quay_registry_pulls_total', { kind: 'counter', help: 'x', labels: [] })).toThrow('metric quay_registry_pulls_total is a built-in metric');
    expect(() => r.definedCounter('rule_x_total')).toThrow('unknown metric rule_x_total');
    r.define('rule_x_total', { kind: 'counter', help: 'x', labels: ['a'] });
    r.define('rule_h', { kind: 'histogram', help: 'h', labels: [], buckets: [1, 2] });
    const names = [...r.definitions()].map(([n]) => n);
    expect(names.slice(-2)).toEqual(['rule_x_total', 'rule_h']);
    expect(names[0]).toBe('quay_registry_requests_total');
    r.definedCounter('rule_x_total').at('v').value = 4;
    const h = r.definedHistogram('rule_h');
    h.observe(h.at(), 1.5);
    expect(Array.from(h.at().counts)).toEqual([0, 1, 0]);
    expect(r.existing('rule_x_total' as never)).toBe(r.definedCounter('rule_x_total'));
    expect(r.existing('quay_registry_pushes_total')).toBeUndefined();
  });
});

describe('SlotProducer', () => {
  it('counters as monotonic sums, gauges as gauges, histograms with min/max only once observed; empty families left out', async () => {
    const r = new MetricRegistry();
    r.counter('quay_registry_pulls_total').at('a', 'b').value = 2;
    r.gauge('quay_log_exporter_files_watched').at().value = 3;
    r.counter('quay_registry_pushes_total'); // family with no series
    const h = r.histogram('quay_registry_transfer_duration_seconds');
    h.observe(h.at('pull'), 0.02);
    h.at('push');
    const { resourceMetrics, errors } = await new SlotProducer(r).collect();
    expect(errors).toEqual([]);
    const metrics = resourceMetrics.scopeMetrics[0]!.metrics;
    expect(resourceMetrics.scopeMetrics[0]!.scope).toEqual({ name: 'quay-log-exporter', version: '0.1.0' });
    expect(metrics.map((m) => [m.descriptor.name, m.dataPointType, m.aggregationTemporality])).toEqual([
      ['quay_registry_pulls_total', DataPointType.SUM, AggregationTemporality.CUMULATIVE],
      ['quay_log_exporter_files_watched', DataPointType.GAUGE, AggregationTemporality.CUMULATIVE],
      ['quay_registry_transfer_duration_seconds', DataPointType.HISTOGRAM, AggregationTemporality.CUMULATIVE],
    ]);
    const sum = metrics[0]!;
    expect(sum.dataPointType === DataPointType.SUM && sum.isMonotonic).toBe(true);
    expect(sum.descriptor.description).toBe('Image pulls: manifest GETs answered 2xx.');
    expect(sum.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ namespace: 'a', repository: 'b' }, 2]]);
    const hist = metrics[2]!.dataPoints.map((p) => p.value) as { count: number; sum: number; min?: number; max?: number; buckets: { counts: number[]; boundaries: number[] } }[];
    expect(hist.map((v) => [v.count, v.sum, v.min, v.max])).toEqual([
      [1, 0.02, 0.02, 0.02],
      [0, 0, undefined, undefined],
    ]);
    expect('min' in hist[1]!).toBe(false);
    // 0.02 is in the 3rd bucket (0.01 < 0.02 ≤ 0.025)
    expect(hist[0]!.buckets.counts.slice(0, 4)).toEqual([0, 0, 1, 0]);
    expect(hist[0]!.buckets.boundaries).toEqual(Array.from(h.bounds));
  });

  it('a histogram family whose every series was dropped is left out, as an empty counter family is', async () => {
    const r = new MetricRegistry();
    const h = r.histogram('quay_registry_transfer_duration_seconds');
    h.drop(h.at('pull'));
    const c = r.counter('quay_registry_pulls_total');
    c.drop(c.at('a', 'b'));
    r.gauge('quay_log_exporter_files_watched').at().value = 1;
    const { resourceMetrics } = await new SlotProducer(r).collect();
    // 3 families made, 2 of them empty: only the gauge is exported
    expect(resourceMetrics.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name)).toEqual(['quay_log_exporter_files_watched']);
  });

  it('createMeterProvider makes the unlabelled series of every counter and gauge at 0, not histograms', async () => {
    const r = new MetricRegistry();
    r.define('rule_plain_total', { kind: 'counter', help: 'x', labels: [] });
    r.define('rule_h2', { kind: 'histogram', help: 'h', labels: [], buckets: [1] });
    const provider = createMeterProvider(r, []);
    expect(r.counter('quay_log_gc_iterations_total').has()).toBe(true);
    expect(r.gauge('quay_log_exporter_files_watched').at().value).toBe(0);
    expect(r.definedCounter('rule_plain_total').has()).toBe(true);
    // labelled ones and histograms: none made
    expect(r.existing('quay_registry_pulls_total')).toBeUndefined();
    expect(r.existing('rule_h2' as never)).toBeUndefined();
    await provider.shutdown();
  });
});

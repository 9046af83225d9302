/** series_ttl: which series expire, and that an expired counter never goes down. */
import { describe, expect, it } from 'vitest';
import { SlotProducer } from './provider.js';
import { MetricRegistry } from './series.js';

async function exported(registry: MetricRegistry, name: string): Promise<unknown[]> {
  const { resourceMetrics } = await new SlotProducer(registry).collect();
  const m = resourceMetrics.scopeMetrics[0]!.metrics.find((x) => x.descriptor.name === name);
  return m === undefined ? [] : m.dataPoints.map((p) => [p.attributes, p.value]);
}

describe('MetricRegistry.expire (series_ttl)', () => {
  it('a series unchanged for ttl is no longer exported; moving again, it comes back with its whole count', async () => {
    const r = new MetricRegistry();
    const pulls = r.counter('quay_registry_pulls_total');
    const held = pulls.at('acme', 'app'); // a parser keeps this slot
    held.value = 3;
    expect(r.expire(0, 100)).toBe(0); // first sweep: remembered at 3
    expect(r.expire(99, 100)).toBe(0); // 99 ms unchanged: kept
    expect(r.expire(100, 100)).toBe(1); // 100 ms unchanged: expired
    expect(await exported(r, 'quay_registry_pulls_total')).toEqual([]);
    held.value++; // the parser records to its slot again
    expect(r.expire(150, 100)).toBe(0);
    // Back with 4 (3 + 1), not 1: a counter never goes down.
    expect(await exported(r, 'quay_registry_pulls_total')).toEqual([[{ namespace: 'acme', repository: 'app' }, 4]]);
    // Expired again (unchanged since 150), then recorded to by label: the same slot, 4 + 1 = 5.
    expect(r.expire(250, 100)).toBe(1);
    pulls.at('acme', 'app').value++;
    expect(pulls.at('acme', 'app')).toBe(held);
    expect(await exported(r, 'quay_registry_pulls_total')).toEqual([[{ namespace: 'acme', repository: 'app' }, 5]]);
  });

  it('histograms expire by count; gauges and fixed-label series never do', async () => {
    const r = new MetricRegistry();
    const d = r.histogram('quay_log_repository_mirror_sync_duration_seconds');
    d.observe(d.at('mirrors'), 2);
    r.gauge('quay_log_repository_mirror_last_sync_status').at('mirrors', 'redis', 'success', '').value = 1;
    r.counter('quay_log_gc_iterations_total').at().value = 7;
    r.counter('quay_log_exporter_lines_total').at('nginx', 'matched').value = 9;
    r.expire(0, 10);
    // 1 histogram series expires; the state-set gauge, the unlabelled and the fixed-label counters stay.
    expect(r.expire(10, 10)).toBe(1);
    expect(await exported(r, 'quay_log_repository_mirror_sync_duration_seconds')).toEqual([]);
    expect(await exported(r, 'quay_log_repository_mirror_last_sync_status')).toHaveLength(1);
    expect(await exported(r, 'quay_log_gc_iterations_total')).toEqual([[{}, 7]]);
    expect(await exported(r, 'quay_log_exporter_lines_total')).toEqual([[{ source: 'nginx', result: 'matched' }, 9]]);
  });

  it('an expired series nobody holds comes back whole by its labels; past the cap the oldest is forgotten', async () => {
    const r = new MetricRegistry(2); // cap: 2 series per metric, 2 expired remembered
    const pulls = r.counter('quay_registry_pulls_total');
    pulls.at('a', 'one').value = 5;
    pulls.at('a', 'two').value = 6;
    r.expire(0, 10);
    expect(r.expire(10, 10)).toBe(2); // one, two expired (no reference kept by the test)
    pulls.at('a', 'three').value = 7;
    r.expire(20, 10);
    expect(r.expire(30, 10)).toBe(1); // three expired: 3 remembered > cap 2, the oldest (one) forgotten
    pulls.at('a', 'two').value++;
    pulls.at('a', 'one').value++;
    // two: 6 + 1 = 7 (remembered); one: forgotten, starts again: 0 + 1 = 1.
    expect(await exported(r, 'quay_registry_pulls_total')).toEqual([
      [{ namespace: 'a', repository: 'two' }, 7],
      [{ namespace: 'a', repository: 'one' }, 1],
    ]);
  });

  it('a series that moved since the last sweep is kept, its ttl counted from that sweep (counters and histograms)', () => {
    const r = new MetricRegistry();
    const pulls = r.counter('quay_registry_pulls_total').at('acme', 'app');
    pulls.value = 1;
    const d = r.histogram('quay_log_repository_mirror_sync_duration_seconds');
    const slot = d.at('mirrors');
    d.observe(slot, 2);
    expect(r.expire(0, 100)).toBe(0); // remembered: 1 and count 1, at 0
    pulls.value++;
    d.observe(slot, 3);
    expect(r.expire(100, 100)).toBe(0); // both moved since 0: remembered again at 100, not expired
    expect(r.expire(199, 100)).toBe(0);
    expect(r.expire(200, 100)).toBe(2); // unchanged from 100 to 200: both expire
  });

  it('without expire() nothing is ever dropped', async () => {
    const r = new MetricRegistry();
    r.counter('quay_registry_pushes_total').at('acme', 'app').value = 1;
    expect(await exported(r, 'quay_registry_pushes_total')).toEqual([[{ namespace: 'acme', repository: 'app' }, 1]]);
  });
});

import { describe, expect, it } from 'vitest';
import { addToSum, MetricRegistry, type ValueSlot } from '../metrics/series.js';
import { mergeShares, snapshotRegistry } from './merge.js';

describe('addToSum: a histogram sum that does not depend on the order of its values', () => {
  const orders = [
    [0.1, 0.2, 0.3],
    [0.1, 0.3, 0.2],
    [0.2, 0.1, 0.3],
    [0.2, 0.3, 0.1],
    [0.3, 0.1, 0.2],
    [0.3, 0.2, 0.1],
  ];

  it('every order of 0.1, 0.2, 0.3 gives 0.6, the correctly rounded exact sum', () => {
    // Plain addition gives 0.6000000000000001 for (0.1 + 0.2) + 0.3 and 0.6 for (0.3 + 0.2) + 0.1.
    expect(0.1 + 0.2 + 0.3).toBe(0.6000000000000001);
    for (const o of orders) {
      const s = { sum: 0, sumLow: 0 };
      for (const v of o) addToSum(s, v);
      expect(s.sum).toBe(0.6);
    }
  });

  it('two partial sums added (sum then sumLow) equal the sum of all the values', () => {
    // 1e16 + 1 + 1: plain addition loses both ones (1e16 + 1 rounds back to 1e16); the exact sum is 1e16 + 2.
    const a = { sum: 0, sumLow: 0 };
    addToSum(a, 1e16);
    addToSum(a, 1);
    const b = { sum: 0, sumLow: 0 };
    addToSum(b, 1);
    const whole = { sum: 0, sumLow: 0 };
    addToSum(whole, a.sum);
    addToSum(whole, a.sumLow);
    addToSum(whole, b.sum);
    addToSum(whole, b.sumLow);
    expect(whole.sum).toBe(1e16 + 2);
  });

  it('an infinite value makes the sum infinite, not NaN', () => {
    const s = { sum: 0, sumLow: 0 };
    addToSum(s, 1.5);
    addToSum(s, Infinity);
    expect(s.sum).toBe(Infinity);
  });
});

describe('mergeShares: series made in the order of the lines that made them, the cap applied to the whole', () => {
  /** A slot of quay_registry_pulls_total (labels namespace, repository; both fold) born at `born`. */
  function pulls(registry: MetricRegistry, born: Map<object, number>, repo: string, at: number, value: number): ValueSlot {
    const slot = registry.counter('quay_registry_pulls_total').at('ns', repo);
    slot.value += value;
    born.set(slot, at);
    return slot;
  }

  it('admits the first three label sets by position; a later one folds, its value kept', () => {
    const main = new MetricRegistry(3);
    const mainBorn = new Map<object, number>();
    pulls(main, mainBorn, 'a', 5, 10);
    const s1 = new MetricRegistry(1000);
    const b1 = new Map<object, number>();
    pulls(s1, b1, 'b', 3, 1);
    pulls(s1, b1, 'c', 9, 100);
    const s2 = new MetricRegistry(1000);
    const b2 = new Map<object, number>();
    pulls(s2, b2, 'b', 7, 2);
    pulls(s2, b2, 'd', 1, 1000);
    mergeShares(main, (s) => mainBorn.get(s) ?? -1, [
      snapshotRegistry(s1, (s) => b1.get(s) ?? -1),
      snapshotRegistry(s2, (s) => b2.get(s) ?? -1),
    ]);
    const family = main.counter('quay_registry_pulls_total');
    // Born at 1 (d), 3 (b), 5 (a), 9 (c): the cap of 3 admits d, b, a; c folds into __overflow__.
    expect([...family.slots.values()].map((s) => [s.attributes['repository'], s.value])).toEqual([
      ['d', 1000],
      ['b', 3], // 1 + 2 from two shares
      ['a', 10],
      ['__overflow__', 100],
    ]);
  });
});

describe('snapshotRegistry: a share as plain data', () => {
  it('counters: labels, births, values; histograms: counts…, sum, sumLow, count, min, max per slot; empty families left out', () => {
    const r = new MetricRegistry(1000);
    const born = new Map<object, number>();
    const pulls = r.counter('quay_registry_pulls_total');
    born.set(pulls.at('ns', 'a'), 7);
    pulls.at('ns', 'a').value = 3;
    pulls.at('ns', 'b').value = 1; // not in the map: -1
    const pushes = r.counter('quay_registry_pushes_total');
    pushes.drop(pushes.at('ns', 'gone')); // a family with no slot left
    const h = r.histogram('quay_registry_transfer_duration_seconds');
    const pull = h.at('pull');
    born.set(pull, 2);
    h.observe(pull, 0.02);
    h.observe(pull, 400);
    const snap = snapshotRegistry(r, (s) => born.get(s) ?? -1);
    expect(snap.map((f) => [f.name, f.histogram])).toEqual([
      ['quay_registry_pulls_total', false],
      ['quay_registry_transfer_duration_seconds', true],
    ]);
    expect(snap[0]!.labels).toEqual([
      ['ns', 'a'],
      ['ns', 'b'],
    ]);
    expect(Array.from(snap[0]!.born)).toEqual([7, -1]);
    expect(Array.from(snap[0]!.data)).toEqual([3, 1]);
    // 15 bounds: 16 counts (0.02 in the third, ≤ 0.025; 400 in +Inf), then sum 400.02, sumLow, count 2, min 0.02, max 400.
    const counts = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    expect(snap[1]!.labels).toEqual([['pull']]);
    expect(Array.from(snap[1]!.born)).toEqual([2]);
    expect(Array.from(snap[1]!.data)).toEqual([...counts, pull.sum, pull.sumLow, 2, 0.02, 400]);
    expect(pull.sum).toBe(400.02);
  });
});

describe('mergeShares: histograms, the main registry\'s own slots, the cap and the hook', () => {
  const observe = (r: MetricRegistry, born: Map<object, number>, direction: string, at: number, values: number[]) => {
    const h = r.histogram('quay_registry_transfer_duration_seconds');
    const slot = h.at(direction);
    born.set(slot, at);
    for (const v of values) h.observe(slot, v);
  };
  const merged = (main: MetricRegistry) =>
    [...main.histogram('quay_registry_transfer_duration_seconds').slots.values()].map((s) => ({
      direction: s.attributes['direction'],
      counts: Array.from(s.counts),
      count: s.count,
      sum: s.sum,
      min: s.min,
      max: s.max,
    }));

  it('histogram counts, count, sum, min and max add up across main and shares, series in birth order', () => {
    const main = new MetricRegistry(10);
    const mb = new Map<object, number>();
    observe(main, mb, 'pull', 4, [0.003, 7]);
    observe(main, mb, 'push', 9, [2]);
    const s1 = new MetricRegistry(1000);
    const b1 = new Map<object, number>();
    observe(s1, b1, 'push', 1, [5, 0.5]);
    observe(s1, b1, 'pull', 2, [0.02]);
    const s2 = new MetricRegistry(1000);
    const b2 = new Map<object, number>();
    observe(s2, b2, 'pull', 6, [0.004]);
    observe(s2, b2, 'push', 7, [40]);
    mergeShares(main, (s) => mb.get(s) ?? -1, [snapshotRegistry(s1, (s) => b1.get(s) ?? -1), snapshotRegistry(s2, (s) => b2.get(s) ?? -1)]);
    // Bounds 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, … (index 0 … 12), then +Inf at 15.
    // push (born 1): 0.5 → 6, 2 → 8, 5 → 9, 40 → 12; sum 47.5; min 0.5 (s1), max 40 (s2, added second). Main's 2,
    // added last, lies inside [0.5, 40]: it moves neither.
    // pull (born 2): 0.003, 0.004 → 0; 0.02 → 2; 7 → 10; sum 7.027; min 0.003 and max 7 both from main, added
    // second onto s1's 0.02; s2's 0.004 after it moves neither.
    expect(merged(main)).toEqual([
      { direction: 'push', counts: [0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0], count: 4, sum: 47.5, min: 0.5, max: 40 },
      { direction: 'pull', counts: [2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], count: 4, sum: 7.027, min: 0.003, max: 7 },
    ]);
  });

  it('histogram sums carry what rounding left out (sumLow), from a share and from the main registry', () => {
    // 1e16 + 1 is 1e16 in doubles (the spacing there is 2); the part left out (1) is kept in sumLow.
    // pull: share 1 {1e16, 1, 400}: sum 1e16 + 400, sumLow 1 (its +Inf bucket holds 2: 1e16 and 400);
    // + share 2 {1} = 1e16 + 402 exactly. Without share 1's sumLow: 1e16 + 401, a tie, rounded to even: 1e16 + 400.
    // push: share 1 {1} first, then main's own {1e16, 1} = 1e16 + 2; without main's sumLow, 1e16.
    const main = new MetricRegistry(10);
    const mb = new Map<object, number>();
    observe(main, mb, 'push', 5, [1e16, 1]);
    const s1 = new MetricRegistry(1000);
    const b1 = new Map<object, number>();
    observe(s1, b1, 'pull', 1, [1e16, 1, 400]);
    observe(s1, b1, 'push', 3, [1]);
    const s2 = new MetricRegistry(1000);
    const b2 = new Map<object, number>();
    observe(s2, b2, 'pull', 2, [1]);
    mergeShares(main, (s) => mb.get(s) ?? -1, [snapshotRegistry(s1, (s) => b1.get(s) ?? -1), snapshotRegistry(s2, (s) => b2.get(s) ?? -1)]);
    expect(merged(main).map((h) => [h.direction, h.sum, h.count])).toEqual([
      ['pull', 1e16 + 402, 4],
      ['push', 1e16 + 2, 3],
    ]);
    expect([1e16 + 1, 1e16 + 401]).toEqual([1e16, 1e16 + 400]);
  });

  it("counters: the main registry's own slot kept when admitted, added to a share's earlier one, folded past the cap", () => {
    const main = new MetricRegistry(3);
    const mb = new Map<object, number>();
    const mine = (repo: string, at: number, value: number) => {
      const slot = main.counter('quay_registry_pulls_total').at('ns', repo);
      slot.value = value;
      mb.set(slot, at);
      return slot;
    };
    const y = mine('y', -1, 2);
    mine('x', 8, 10);
    mine('z', 10, 7);
    const s1 = new MetricRegistry(1000);
    const b1 = new Map<object, number>();
    for (const [repo, at, value] of [['x', 3, 1], ['w', 5, 4], ['y', 4, 3]] as const) {
      const slot = s1.counter('quay_registry_pulls_total').at('ns', repo);
      slot.value = value;
      b1.set(slot, at);
    }
    const s2 = new MetricRegistry(1000);
    const v = s2.counter('quay_registry_pulls_total').at('ns', 'v');
    v.value = 6;
    const hook = (): void => {
      throw new Error('onSlot called during the merge');
    };
    main.onSlot = hook;
    mergeShares(main, (s) => mb.get(s) ?? -1, [snapshotRegistry(s1, (s) => b1.get(s) ?? -1), snapshotRegistry(s2, () => 9)]);
    expect(main.onSlot).toBe(hook);
    main.onSlot = undefined;
    // By birth: y(-1, main) admitted as it is; x(3, s1) made; y(4, s1) added to main's y: 5; w(5, s1) made (3 of 3);
    // x(8, main) added to s1's x: 11; v(9, s2) past the cap: folded, 6; z(10, main) past the cap: folded, 6 + 7 = 13.
    const family = main.counter('quay_registry_pulls_total');
    expect([...family.slots.values()].map((s) => [s.attributes['repository'], s.value])).toEqual([
      ['y', 2 + 3],
      ['x', 11],
      ['w', 4],
      ['__overflow__', 13],
    ]);
    expect(family.at('ns', 'y')).toBe(y);
    // Two series folded by the merge (v, z): counted once each.
    expect(main.counter('quay_log_exporter_series_overflow_total').at('quay_registry_pulls_total').value).toBe(2);
  });

  it('the overflow counter is merged last, after the folds the merge itself counts into it', () => {
    const main = new MetricRegistry(1);
    const mb = new Map<object, number>();
    // Made first, so it comes first among main's families: only the sort puts it last.
    const pushesFolds = main.counter('quay_log_exporter_series_overflow_total').at('quay_registry_pushes_total');
    pushesFolds.value = 1;
    mb.set(pushesFolds, 10);
    const a = main.counter('quay_registry_pulls_total').at('ns', 'a');
    a.value = 1;
    mb.set(a, 5);
    const s1 = new MetricRegistry(1000);
    const b1 = new Map<object, number>();
    const b = s1.counter('quay_registry_pulls_total').at('ns', 'b');
    b.value = 1;
    b1.set(b, 2);
    const sharedFolds = s1.counter('quay_log_exporter_series_overflow_total').at('quay_registry_pushes_total');
    sharedFolds.value = 1;
    b1.set(sharedFolds, 0);
    mergeShares(main, (s) => mb.get(s) ?? -1, [snapshotRegistry(s1, (s) => b1.get(s) ?? -1)]);
    // pulls: b (2) admitted, a (5) folded: one fold, counted into a new overflow series (no line made it: -1).
    // Then the overflow family by birth: {pulls} (-1), {pushes} (share 0, then main 10: 1 + 1 = 2).
    // Merged first instead, the {pulls} series would come after {pushes}.
    expect([...main.counter('quay_log_exporter_series_overflow_total').slots.values()].map((s) => [s.attributes['metric'], s.value])).toEqual([
      ['quay_registry_pulls_total', 1],
      ['quay_registry_pushes_total', 2],
    ]);
  });

  it("a family only the main registry has is left as it is; one only a share has is made in main", () => {
    const main = new MetricRegistry(10);
    main.gauge('quay_log_exporter_files_watched').at().value = 3;
    const h = main.histogram('quay_registry_transfer_duration_seconds');
    h.observe(h.at('pull'), 1);
    const s1 = new MetricRegistry(1000);
    s1.counter('quay_registry_pushes_total').at('ns', 'r').value = 4;
    mergeShares(main, () => -1, [snapshotRegistry(s1, () => 0)]);
    expect(main.gauge('quay_log_exporter_files_watched').at().value).toBe(3);
    expect(main.histogram('quay_registry_transfer_duration_seconds').at('pull').count).toBe(1);
    expect([...main.counter('quay_registry_pushes_total').slots.values()].map((s) => [s.attributes, s.value])).toEqual([[{ namespace: 'ns', repository: 'r' }, 4]]);
  });
});

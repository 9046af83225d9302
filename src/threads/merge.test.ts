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

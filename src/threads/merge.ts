/**
 * Adding the shares up. Each share (a worker's registry, and the main
 * thread's own) stamps every slot it makes with the position of the line that
 * made it: piece × LINE_BITS + line in the piece. Merged in position order, the
 * series are made in the order one thread would have made them, so
 *  - the series cap admits the same series (the first `max_series_per_metric`
 *    label sets to appear; a share can only fold a series that the whole would
 *    fold too, since its own earlier series all come earlier in the file), and
 *  - the exposition lists them in the same order, byte for byte.
 * Counters and histogram counts add; histogram sums add exactly (series.ts
 * addToSum), so they are the same number whatever the split.
 *
 * What differs from one thread: quay_log_exporter_series_overflow_total, once
 * a cap is reached. One thread counts a fold each time a parser resolves a
 * label set past the cap; here each share counts its own, and the merge
 * counts one per series it folds. The folded values themselves are exact.
 */
import type { Attributes } from '@opentelemetry/api';
import type { MetricName } from '../metrics/catalogue.js';
import { addToSum, HistogramFamily, type HistogramSlot, type MetricRegistry, type ValueSlot } from '../metrics/series.js';

/** One family of a share, as plain data (structured clone is cheap for it). */
export interface FamilySnapshot {
  readonly name: string;
  readonly histogram: boolean;
  /** Per slot: its label values in the family's label order. */
  readonly labels: string[][];
  readonly born: Float64Array;
  /** Counters: one value per slot. Histograms: per slot, counts…, sum, sumLow, count, min, max. */
  readonly data: Float64Array;
}

export type RegistrySnapshot = FamilySnapshot[];

const OVERFLOW_METRIC = 'quay_log_exporter_series_overflow_total';

function labelValues(labels: readonly string[], attributes: Attributes): string[] {
  return labels.map((l) => String(attributes[l] ?? ''));
}

/** A registry's slots with the position each was born at (-1: before the first line). */
export function snapshotRegistry(registry: MetricRegistry, bornOf: (slot: object) => number): RegistrySnapshot {
  const out: FamilySnapshot[] = [];
  for (const [name, family] of registry.entries()) {
    const slots = [...family.slots.values()];
    if (slots.length === 0) continue;
    const labels = family.def.labels;
    if (family instanceof HistogramFamily) {
      const width = family.bounds.length + 1 + 5;
      const data = new Float64Array(slots.length * width);
      slots.forEach((s, i) => {
        const h = s as HistogramSlot;
        const o = i * width;
        data.set(h.counts, o);
        const t = o + h.counts.length;
        data[t] = h.sum;
        data[t + 1] = h.sumLow;
        data[t + 2] = h.count;
        data[t + 3] = h.min;
        data[t + 4] = h.max;
      });
      out.push({ name, histogram: true, labels: slots.map((s) => labelValues(labels, (s as HistogramSlot).attributes)), born: Float64Array.from(slots, bornOf), data });
    } else {
      out.push({
        name,
        histogram: false,
        labels: slots.map((s) => labelValues(labels, (s as ValueSlot).attributes)),
        born: Float64Array.from(slots, bornOf),
        data: Float64Array.from(slots, (s) => (s as ValueSlot).value),
      });
    }
  }
  return out;
}

interface Entry {
  readonly born: number;
  /** The main registry's own slot, kept as it is when admitted. */
  readonly own?: object;
  readonly key?: string;
  readonly values: string[];
  readonly share?: FamilySnapshot;
  readonly index: number;
}

function addCounter(slot: ValueSlot, share: FamilySnapshot, i: number): void {
  slot.value += share.data[i]!;
}

function addHistogram(slot: HistogramSlot, share: FamilySnapshot, i: number): void {
  addHistogramData(slot, share.data, i * (slot.counts.length + 5));
}

/** Adds one histogram packed at `d[o..]` as snapshotRegistry packs it (bucket counts, sum, sumLow, count, min, max). */
export function addHistogramData(slot: HistogramSlot, d: Float64Array, o: number): void {
  const n = slot.counts.length;
  for (let b = 0; b < n; b++) slot.counts[b]! += d[o + b]!;
  addToSum(slot, d[o + n]!);
  addToSum(slot, d[o + n + 1]!);
  slot.count += d[o + n + 2]!;
  if (d[o + n + 3]! < slot.min) slot.min = d[o + n + 3]!;
  if (d[o + n + 4]! > slot.max) slot.max = d[o + n + 4]!;
}

function addSlot(into: object, from: object): void {
  if ('counts' in from) {
    const f = from as HistogramSlot;
    const t = into as HistogramSlot;
    for (let b = 0; b < t.counts.length; b++) t.counts[b]! += f.counts[b]!;
    addToSum(t, f.sum);
    addToSum(t, f.sumLow);
    t.count += f.count;
    if (f.min < t.min) t.min = f.min;
    if (f.max > t.max) t.max = f.max;
  } else {
    (into as ValueSlot).value += (from as ValueSlot).value;
  }
}

/**
 * Adds the shares into `main`, each family's series rebuilt in the order of
 * their birth. `bornInMain` gives the position of a slot of `main` (-1 when it
 * was made before the first line). Call once, after the last line.
 */
export function mergeShares(main: MetricRegistry, bornInMain: (slot: object) => number, shares: readonly RegistrySnapshot[]): void {
  const hook = main.onSlot;
  main.onSlot = undefined;
  try {
    const byName = new Map<string, FamilySnapshot[]>();
    for (const share of shares) for (const f of share) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
    const names = [...new Set([...[...main.entries()].map(([n]) => n as string), ...byName.keys()])];
    // Last: the merge itself may count folds into it.
    names.sort((a, b) => Number(a === OVERFLOW_METRIC) - Number(b === OVERFLOW_METRIC));
    for (const name of names) mergeFamily(main, name, bornInMain, byName.get(name) ?? []);
  } finally {
    main.onSlot = hook;
  }
}

function mergeFamily(main: MetricRegistry, name: string, bornInMain: (slot: object) => number, shares: readonly FamilySnapshot[]): void {
  const histogram = shares[0]?.histogram ?? main.existing(name as MetricName) instanceof HistogramFamily;
  const family = histogram ? main.definedHistogram(name) : main.definedCounter(name);
  if (shares.length === 0) return;
  const entries: Entry[] = [];
  for (const [key, slot] of family.slots) {
    entries.push({ born: bornInMain(slot), own: slot, key, values: labelValues(family.def.labels, (slot as ValueSlot).attributes), index: 0 });
  }
  for (const share of shares) {
    for (let i = 0; i < share.labels.length; i++) entries.push({ born: share.born[i]!, values: share.labels[i]!, share, index: i });
  }
  entries.sort((a, b) => a.born - b.born); // stable: the main registry's own first among equals
  const slots = family.slots as Map<string, object>;
  slots.clear();
  const cap = name === OVERFLOW_METRIC ? Number.MAX_SAFE_INTEGER : main.maxSeriesPerMetric;
  const at = (values: string[]): object => (family.at as (...v: string[]) => object)(...values);
  for (const e of entries) {
    if (e.own !== undefined) {
      const same = slots.get(e.key!);
      if (same !== undefined) addSlot(same, e.own);
      else if (slots.size < cap) slots.set(e.key!, e.own);
      else addSlot(at(e.values), e.own); // past the cap for the whole: folded, as one thread would have
      continue;
    }
    const slot = at(e.values);
    if (histogram) addHistogram(slot as HistogramSlot, e.share!, e.index);
    else addCounter(slot as ValueSlot, e.share!, e.index);
  }
}

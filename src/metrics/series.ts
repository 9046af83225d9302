/**
 * Series slots: the hot path resolves a label set to a slot once and then
 * adds to a plain number. OpenTelemetry reads the slots at collection time
 * (see provider.ts), so a line costs a Map lookup, not an SDK call.
 *
 * The cap on distinct series per metric lives here: past it, the labels a
 * metric declares as `fold` take the value `__overflow__`, and the folding is
 * counted in quay_log_exporter_series_overflow_total{metric}.
 */
import type { Attributes } from '@opentelemetry/api';
import { CATALOGUE, type CounterName, type GaugeName, type HistogramName, type MetricDef, type MetricName } from './catalogue.js';

export const OVERFLOW = '__overflow__';
/** The label limits.pod_label adds, last, to a metric's labels. */
export const POD_LABEL = 'pod';
const SEP = '\u0001';

export interface ValueSlot {
  value: number;
  readonly attributes: Attributes;
}

export interface HistogramSlot {
  /** Per-bucket (not cumulative) counts; the last one is +Inf. */
  readonly counts: Float64Array;
  /** The sum, correctly rounded; `sumLow` holds what rounding left out (see addToSum). */
  sum: number;
  sumLow: number;
  count: number;
  min: number;
  max: number;
  readonly attributes: Attributes;
}

type OverflowHook = (metric: string) => void;
/** Told of every slot a family makes (src/threads: the order series were born in). */
type SlotHook = (metric: string, slot: object) => void;

/**
 * A copy of `s` that shares no memory with the line it was cut from. V8 keeps
 * a substring's whole parent alive — for a log line, the 1 MiB read chunk it
 * was sliced from — so a value stored for good must not be a substring, or
 * every series pins a chunk (a replay peaked at 229 MB instead of 151 MB).
 */
export function own(s: string): string {
  // Concatenation then slice makes V8 flatten into a fresh string first.
  return (' ' + s).slice(1);
}

/** series_ttl's memory of a slot: its level at the last sweep and when that level last changed. */
interface Seen {
  level: number;
  changedAt: number;
}

abstract class Family<S extends object> {
  readonly slots = new Map<string, S>();
  private readonly foldIdx: number[];
  /** series_ttl (only once expire() ran): what each slot was at the last sweep. */
  private seen: WeakMap<S, Seen> | undefined;
  /**
   * Expired slots, oldest first: one that moves again (a parser still holds it) or is
   * recorded to again by its labels comes back with its whole count. At most `cap` are
   * remembered; past that the oldest is forgotten (and would start again from zero).
   */
  private expired: Map<string, S> | undefined;
  /** Index of the `pod` label (limits.pod_label), -1 without one. */
  private readonly podAt: number;
  /** The pod's value in this view of the family (withPod); '' in the family itself. */
  protected pod = '';

  constructor(
    readonly name: string,
    readonly def: MetricDef,
    private readonly cap: number,
    private readonly onOverflow: OverflowHook,
    private readonly onSlot?: SlotHook,
  ) {
    const fold = def.fold && def.fold.length > 0 ? def.fold : def.labels;
    this.foldIdx = fold.map((l) => def.labels.indexOf(l));
    this.podAt = def.labels.indexOf(POD_LABEL);
  }

  /** The same series (shared slots and cap), recorded with `pod` as the value of the pod label. */
  withPod(pod: string): this {
    const view = Object.create(this) as this;
    view.pod = pod;
    return view;
  }

  protected abstract create(attributes: Attributes): S;

  /** What moves when the series is recorded to: a counter's value, a histogram's count. */
  protected abstract level(slot: S): number;

  /**
   * Stops exporting series that have not moved for `ttlMs` (Telegraf's
   * `expiration_interval`), judged at each call (no clock read per line). An
   * expired slot is remembered: if it moves again (a parser holds it), or its
   * labels are recorded to again, the same slot comes back with its whole
   * count, so a counter never goes down. Returns how many expired.
   */
  expire(nowMs: number, ttlMs: number): number {
    const seen = (this.seen ??= new WeakMap());
    const expired = (this.expired ??= new Map());
    for (const [key, slot] of expired) {
      if (this.level(slot) !== seen.get(slot)?.level && !this.slots.has(key)) {
        expired.delete(key);
        this.slots.set(key, slot);
        seen.set(slot, { level: this.level(slot), changedAt: nowMs });
      }
    }
    let n = 0;
    for (const [key, slot] of this.slots) {
      const level = this.level(slot);
      const memo = seen.get(slot);
      if (memo === undefined || memo.level !== level) seen.set(slot, { level, changedAt: nowMs });
      else if (nowMs - memo.changedAt >= ttlMs) {
        this.slots.delete(key);
        expired.set(key, slot);
        n++;
      }
    }
    for (const key of expired.keys()) {
      if (expired.size <= this.cap) break;
      expired.delete(key);
    }
    return n;
  }

  /** The slot for these label values, in catalogue order. Missing values are "". */
  at(a = '', b = '', c = '', d = '', e = ''): S {
    // The pod label is the last one; callers give the others.
    const p = this.podAt;
    if (p >= 0) {
      if (p === 0) a = this.pod;
      else if (p === 1) b = this.pod;
      else if (p === 2) c = this.pod;
      else if (p === 3) d = this.pod;
      else e = this.pod;
    }
    const n = this.def.labels.length;
    const key = n <= 1 ? a : n === 2 ? a + SEP + b : n === 3 ? a + SEP + b + SEP + c : n === 4 ? a + SEP + b + SEP + c + SEP + d : a + SEP + b + SEP + c + SEP + d + SEP + e;
    const slot = this.slots.get(key);
    if (slot !== undefined) return slot;
    return this.add(key, [a, b, c, d, e]);
  }

  /**
   * Stops exporting this series (a gauge of a thing that is gone). Only that
   * slot: a slot made since for the same labels stays.
   */
  drop(slot: S): void {
    for (const [key, s] of this.slots) {
      if (s === slot) {
        this.slots.delete(key);
        return;
      }
    }
  }

  /**
   * drop() in O(1) for a slot made by at(): found by its own labels. A slot
   * folded into `__overflow__` is shared, so it is never dropped this way.
   */
  dropSlot(slot: S): void {
    const attrs = (slot as { attributes?: Attributes }).attributes ?? {};
    const values = this.def.labels.map((l) => String(attrs[l] ?? ''));
    if (values.includes(OVERFLOW)) return;
    const key = values.slice(0, Math.max(1, values.length)).join(SEP);
    if (this.slots.get(key) === slot) this.slots.delete(key);
  }

  /** Whether a series with these values exists (no slot is created). */
  has(...values: string[]): boolean {
    return this.slots.has(values.slice(0, Math.max(1, this.def.labels.length)).join(SEP));
  }

  private add(key: string, values: string[]): S {
    const back = this.expired?.get(key);
    if (back !== undefined) {
      // Recorded to again after it expired: the same series, count and all.
      this.expired!.delete(key);
      this.slots.set(key, back);
      return back;
    }
    const labels = this.def.labels;
    // Kept for the life of the series: copies, not substrings of the line (see own()).
    key = own(key);
    for (let i = 0; i < values.length; i++) values[i] = own(values[i]!);
    if (this.slots.size >= this.cap) {
      for (const i of this.foldIdx) values[i] = OVERFLOW;
      key = values.slice(0, Math.max(1, labels.length)).join(SEP);
      this.onOverflow(this.name);
      const folded = this.slots.get(key);
      if (folded !== undefined) return folded;
    }
    const attributes: Attributes = {};
    for (let i = 0; i < labels.length; i++) attributes[labels[i]!] = values[i]!;
    const slot = this.create(attributes);
    this.slots.set(key, slot);
    if (this.onSlot !== undefined) this.onSlot(this.name, slot);
    return slot;
  }
}

export class CounterFamily extends Family<ValueSlot> {
  protected create(attributes: Attributes): ValueSlot {
    return { value: 0, attributes };
  }

  protected level(slot: ValueSlot): number {
    return slot.value;
  }
}

/** Same storage as a counter; the value is set rather than added to. */
export class GaugeFamily extends CounterFamily {}

export class HistogramFamily extends Family<HistogramSlot> {
  readonly bounds: Float64Array;

  constructor(name: string, def: MetricDef, cap: number, onOverflow: OverflowHook, onSlot?: SlotHook) {
    super(name, def, cap, onOverflow, onSlot);
    this.bounds = Float64Array.from(def.buckets ?? []);
  }

  protected create(attributes: Attributes): HistogramSlot {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, sumLow: 0, count: 0, min: Infinity, max: -Infinity, attributes };
  }

  protected level(slot: HistogramSlot): number {
    return slot.count;
  }

  /** Record one observation into a slot (bucket i holds bounds[i-1] < v <= bounds[i]). */
  observe(slot: HistogramSlot, v: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && v > bounds[i]!) i++;
    slot.counts[i]!++;
    addToSum(slot, v);
    slot.count++;
    if (v < slot.min) slot.min = v;
    if (v > slot.max) slot.max = v;
  }
}

/**
 * Adds `v` to a histogram's sum without losing what rounding drops: the sum is
 * kept as two doubles (Knuth's TwoSum, then Fast2Sum), exact while the values'
 * bits span under ~100 binary places (durations, byte counts, rates), so the
 * exported `sum` is the correctly rounded exact sum: the same whatever order
 * the values came in, which lets shares counted on several threads add up to
 * the very number one thread gives (src/threads).
 */
export function addToSum(slot: { sum: number; sumLow: number }, v: number): void {
  const hi = slot.sum;
  const s = hi + v;
  if (!Number.isFinite(s)) {
    slot.sum = s;
    return;
  }
  const bb = s - hi;
  const err = hi - (s - bb) + (v - bb); // exactly what s lost
  const lo = slot.sumLow + err;
  const sum = s + lo;
  slot.sumLow = lo - (sum - s);
  slot.sum = sum;
}

/** All families of the catalogue, created on first use. */
export class MetricRegistry {
  private readonly families = new Map<MetricName, Family<object>>();
  /** Metrics defined at start-up besides the catalogue (user and shipped rules, src/rules). */
  private readonly extra = new Map<string, MetricDef>();
  private overflow: CounterFamily | undefined;
  /** In a view made by forPod(): its pod, and its views of the pod-labelled families. */
  private pod: string | undefined;
  private podViews: Map<MetricName, Family<object>> | undefined;
  /** Told of every slot made from now on (src/threads); unset: nothing is done. */
  onSlot: SlotHook | undefined;

  /** `podLabelled`: metrics that get a `pod` label, last (limits.pod_label). */
  constructor(
    readonly maxSeriesPerMetric = 10_000,
    private readonly podLabelled: ReadonlySet<string> = new Set(),
  ) {}

  /**
   * This registry as seen from one pod's parsers: the pod-labelled metrics
   * record with pod=`pod`, every other metric is the same family. Series,
   * caps and collection stay in this registry.
   */
  forPod(pod: string): MetricRegistry {
    const view = Object.create(this) as MetricRegistry;
    view.pod = pod;
    view.podViews = new Map();
    return view;
  }

  counter(name: CounterName): CounterFamily {
    return this.family(name) as CounterFamily;
  }

  gauge(name: GaugeName): GaugeFamily {
    return this.family(name) as GaugeFamily;
  }

  histogram(name: HistogramName): HistogramFamily {
    return this.family(name) as HistogramFamily;
  }

  /**
   * series_ttl: counters and histograms whose labels come from the logs
   * (those with `fold` labels: namespace, repository…) stop being exported
   * after `ttlMs` without a change. Gauges (a state that holds) and series
   * with fixed labels are kept. Returns how many series expired.
   */
  expire(nowMs: number, ttlMs: number): number {
    let n = 0;
    for (const f of this.families.values()) {
      const fromLogs = (f.def.fold !== undefined && f.def.fold.length > 0) || f.def.labels.includes(POD_LABEL);
      if (f.def.kind === 'gauge' || !fromLogs) continue;
      n += f.expire(nowMs, ttlMs);
    }
    return n;
  }

  /** The family of `name` if it was created, without creating it. */
  existing(name: MetricName): Family<object> | undefined {
    return this.families.get(name);
  }

  /**
   * Adds a metric beside the catalogue (rules: src/rules). Must happen before
   * the MeterProvider is created (it creates the unlabelled series of every
   * definition). A catalogue name cannot be redefined.
   */
  define(name: string, def: MetricDef): void {
    if (Object.hasOwn(CATALOGUE, name)) throw new Error(`metric ${name} is a built-in metric`);
    this.extra.set(name, def);
  }

  /** Counter family of a metric added with define(). */
  definedCounter(name: string): CounterFamily {
    return this.family(name as MetricName) as CounterFamily;
  }

  definedHistogram(name: string): HistogramFamily {
    return this.family(name as MetricName) as HistogramFamily;
  }

  /** Every definition: the catalogue, then define()d metrics. */
  *definitions(): IterableIterator<[string, MetricDef]> {
    yield* Object.entries(CATALOGUE) as Array<[string, MetricDef]>;
    yield* this.extra.entries();
  }

  /** Families created so far, in creation order. */
  entries(): IterableIterator<[MetricName, Family<object>]> {
    return this.families.entries();
  }

  private family(name: MetricName): Family<object> {
    if (this.pod !== undefined && this.podLabelled.has(name)) {
      let v = this.podViews!.get(name);
      if (v === undefined) this.podViews!.set(name, (v = this.baseFamily(name).withPod(this.pod)));
      return v;
    }
    return this.baseFamily(name);
  }

  private baseFamily(name: MetricName): Family<object> {
    let f = this.families.get(name);
    if (f) return f;
    let def: MetricDef | undefined = Object.hasOwn(CATALOGUE, name) ? CATALOGUE[name] : this.extra.get(name);
    if (def === undefined) throw new Error(`unknown metric ${name}`);
    if (this.podLabelled.has(name)) {
      // Pods churn: past the cap the pod folds too.
      def = { ...def, labels: [...def.labels, POD_LABEL], ...(def.fold && { fold: [...def.fold, POD_LABEL] }) };
    }
    const hook: OverflowHook = (metric) => {
      this.overflow ??= this.counter('quay_log_exporter_series_overflow_total');
      this.overflow.at(metric).value++;
    };
    // The overflow counter itself has one series per metric: never capped below that.
    const cap = name === 'quay_log_exporter_series_overflow_total' ? Number.MAX_SAFE_INTEGER : this.maxSeriesPerMetric;
    const slotHook: SlotHook = (metric, slot) => this.onSlot?.(metric, slot);
    if (def.kind === 'histogram') f = new HistogramFamily(name, def, cap, hook, slotHook);
    else if (def.kind === 'gauge') f = new GaugeFamily(name, def, cap, hook, slotHook);
    else f = new CounterFamily(name, def, cap, hook, slotHook);
    this.families.set(name, f);
    return f;
  }
}

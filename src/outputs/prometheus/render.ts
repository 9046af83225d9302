/**
 * The Prometheus text exposition written straight from the series slots:
 * the same bytes as the SDK's PrometheusSerializer over SlotProducer's data
 * (without scope info and target_info, our default), which a test checks
 * byte for byte, at a fraction of the cost. With 90,000 series the SDK path
 * built a data point object per series and its label string anew at every
 * scrape (about 1 s and most of a scrape's garbage); here a series' label
 * string is made once and kept with its slot.
 */
import type { MetricName } from '../../metrics/catalogue.js';
import { HistogramFamily, type CounterFamily, type MetricRegistry } from '../../metrics/series.js';

/** As the SDK's escapeString / escapeAttributeValue. */
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (s: string) => escapeHelp(s).replace(/"/g, '\\"');

/** `a="x",b="y"` (or '') per attributes object, made once. */
const labelCache = new WeakMap<object, string>();
export function labelsOf(attributes: Record<string, unknown>): string {
  let s = labelCache.get(attributes);
  if (s === undefined) {
    // join() makes one flat string. Built with += it stayed a tree of concatenations kept for the
    // life of the series: ~330 bytes per series instead of ~100, 3.3 MB at 10,000 series (heap snapshot).
    const parts: string[] = [];
    for (const [k, v] of Object.entries(attributes)) parts.push(`${k}="${escapeValue(typeof v === 'string' ? v : JSON.stringify(v))}"`);
    s = parts.join(',');
    labelCache.set(attributes, s);
  }
  return s;
}

function value(v: number): string {
  return v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : `${v}`;
}

/** Series written between two yields of renderExpositionAsync. */
const SERIES_PER_SLICE = 2000;
const EMPTY = '# no registered metrics';

/** The first render's buffer. */
const FIRST_RENDER_BYTES = 64 * 1024;
/** Length of each registry's last render. */
const lastRenderBytes = new WeakMap<MetricRegistry, number>();

/**
 * Room a render starts with after one of `last` bytes: that plus a quarter (series come and go),
 * at least FIRST_RENDER_BYTES. A render then seldom grows its buffer, and its text is handed out
 * as a view of it, not copied: at 10,000 series a scrape allocated 1 + 2 MiB of buffers and a
 * 1.2 MB copy, now 1.5 MB; at the cap (8.9 MB of text) 31 MiB and a copy, now 11 MB.
 */
export function renderCapacity(last: number | undefined): number {
  return last === undefined ? FIRST_RENDER_BYTES : Math.max(FIRST_RENDER_BYTES, last + (last >> 2));
}

/** Appends text as UTF-8 to one growing Buffer: no array of parts, no joined string, no second copy. */
class Out {
  buf: Buffer;
  len = 0;
  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  write(text: string): void {
    // A UTF-8 byte count is at most 3 per UTF-16 unit; grow before, never mid-write.
    if (this.len + text.length * 3 > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + text.length * 3));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.len += this.buf.write(text, this.len, 'utf8');
  }
  /** The text as a view of the buffer (its slack is at most a quarter after the first render; it lives only while being sent). */
  bytes(): Buffer {
    return this.len === 0 ? Buffer.from(EMPTY) : this.buf.subarray(0, this.len);
  }
}

function outFor(registry: MetricRegistry): Out {
  return new Out(renderCapacity(lastRenderBytes.get(registry)));
}

function done(registry: MetricRegistry, out: Out): Buffer {
  lastRenderBytes.set(registry, out.len);
  return out.bytes();
}

/** The whole text at once (replay, tests). */
export function renderExposition(registry: MetricRegistry): string {
  const out = outFor(registry);
  for (const _ of render(registry, out));
  return done(registry, out).toString('utf8');
}

/**
 * The same bytes, written in slices of SERIES_PER_SLICE series with the event
 * loop free in between: a scrape of 90,000 series never holds up /healthz or
 * the tail loop, and scrapes that arrive meanwhile join this render.
 */
export async function renderExpositionAsync(registry: MetricRegistry): Promise<Buffer> {
  const out = outFor(registry);
  for (const _ of render(registry, out)) await new Promise((r) => setImmediate(r));
  return done(registry, out);
}

/** Counters and gauges in catalogue order, then histograms, as SlotProducer hands them to the SDK; yields every SERIES_PER_SLICE series. */
function* render(registry: MetricRegistry, out: Out): Generator<void> {
  let n = 0;
  // The catalogue's metrics, then rule metrics (registry.definitions(), the order SlotProducer uses).
  for (const [name, def] of registry.definitions()) {
    if (def.kind === 'histogram') continue;
    const family = registry.existing(name as MetricName) as CounterFamily | undefined;
    if (family === undefined || family.slots.size === 0) continue;
    const full = def.kind === 'counter' && !name.endsWith('_total') ? `${name}_total` : name;
    out.write(`# HELP ${full} ${escapeHelp(def.help || 'description missing')}\n# TYPE ${full} ${def.kind}\n`);
    for (const slot of family.slots.values()) {
      const l = labelsOf(slot.attributes);
      out.write(full);
      if (l) out.write(`{${l}}`);
      out.write(` ${value(slot.value)}\n`);
      if (++n % SERIES_PER_SLICE === 0) yield;
    }
  }
  for (const [name, family] of registry.entries()) {
    if (!(family instanceof HistogramFamily) || family.slots.size === 0) continue;
    out.write(`# HELP ${name} ${escapeHelp(family.def.help || 'description missing')}\n# TYPE ${name} histogram\n`);
    const les = [...Array.from(family.bounds, (b) => (b === Infinity ? '+Inf' : String(b))), '+Inf'];
    const nb = family.bounds.length + 1;
    for (const slot of family.slots.values()) {
      const l = labelsOf(slot.attributes);
      const braces = l ? `{${l}}` : '';
      const prefix = l ? `{${l},le="` : '{le="';
      out.write(`${name}_count${braces} ${value(slot.count)}\n${name}_sum${braces} ${value(slot.sum)}\n`);
      let acc = 0;
      for (let i = 0; i < nb; i++) {
        acc += slot.counts[i]!;
        out.write(`${name}_bucket${prefix}${les[i]}"} ${value(acc)}\n`);
        if (family.bounds[i] === Infinity) break; // the SDK stops after an explicit +Inf bound
      }
      if (++n % SERIES_PER_SLICE === 0) yield;
    }
  }
}

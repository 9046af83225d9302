/**
 * What the InfluxDB output writes, in the layout Telegraf's Prometheus input
 * uses with `metric_version = 1`, so dashboards built for Telegraf-scraped
 * metrics work unchanged:
 *
 *   counter    quay_registry_pulls_total,namespace=acme,repository=web counter=42 1700000000000
 *   gauge      quay_log_exporter_files_watched gauge=3 1700000000000
 *   histogram  quay_registry_transfer_duration_seconds,direction=pull 0.005=0,0.01=1,…,+Inf=7,count=7,sum=12.5 1700000000000
 *
 * Values are cumulative, as Prometheus sees them; histogram bucket fields are
 * cumulative counts (Prometheus `le`). Events become one point each, stamped
 * with the time of their log line.
 */
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { QuayEvent } from '../../events.js';
import { formatPoint, formatTags, formatTime, type FieldValue, type Precision } from './line.js';

/** Telegraf names bucket fields by the bound as Go's FormatFloat('f', -1) prints it: no exponent. */
export function boundFieldName(bound: number): string {
  if (bound === Infinity) return '+Inf';
  const s = String(bound);
  if (!s.includes('e')) return s;
  if (Number.isInteger(bound)) return BigInt(bound).toString();
  return bound.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

function asTags(attributes: Record<string, unknown>, global: Readonly<Record<string, string>>): Record<string, string> {
  // Labels of the metric win over global tags of the same name, as in Telegraf.
  const tags: Record<string, string> = { ...global };
  for (const [k, v] of Object.entries(attributes)) {
    if (v !== undefined && v !== null) tags[k] = String(v);
  }
  return tags;
}

/**
 * Every data point of one collection as line-protocol points, all stamped
 * with `timeMs` (the export time, like a Telegraf scrape).
 */
export function metricsToLines(metrics: ResourceMetrics, global: Readonly<Record<string, string>>, timeMs: number, precision: Precision): string[] {
  const time = formatTime(timeMs, precision);
  const lines: string[] = [];
  const push = (line: string | undefined) => {
    if (line !== undefined) lines.push(line);
  };
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const name = metric.descriptor.name;
      switch (metric.dataPointType) {
        case DataPointType.SUM: {
          // An UpDownCounter is a gauge to Prometheus (and to Telegraf).
          const field = metric.isMonotonic ? 'counter' : 'gauge';
          for (const dp of metric.dataPoints) push(formatPoint(name, formatTags(asTags(dp.attributes, global)), { [field]: dp.value }, time));
          break;
        }
        case DataPointType.GAUGE:
          for (const dp of metric.dataPoints) push(formatPoint(name, formatTags(asTags(dp.attributes, global)), { gauge: dp.value }, time));
          break;
        case DataPointType.HISTOGRAM:
          for (const dp of metric.dataPoints) {
            const { boundaries, counts } = dp.value.buckets;
            const fields: Record<string, FieldValue> = {};
            let cumulative = 0;
            for (let i = 0; i < counts.length; i++) {
              cumulative += counts[i]!;
              fields[i < boundaries.length ? boundFieldName(boundaries[i]!) : '+Inf'] = cumulative;
            }
            fields['count'] = dp.value.count;
            fields['sum'] = dp.value.sum ?? 0;
            push(formatPoint(name, formatTags(asTags(dp.attributes, global)), fields, time));
          }
          break;
        default:
          // Exponential histograms have no Telegraf v1 equivalent; the catalogue has none.
          break;
      }
    }
  }
  return lines;
}

/** The longest prefix of `text` that is at most `maxBytes` bytes of UTF-8, cut at a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8');
  let end = maxBytes;
  // Back off over continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/**
 * InfluxDB keeps one point per measurement, tag set and timestamp: a second
 * event of the same series at the same time would overwrite the first (nginx
 * logs whole seconds, so two slow pulls of one repository in one second
 * collide). Such an event moves to the next free unit of the write precision
 * after the last one its series used. Earlier, out-of-order times are left
 * as they are.
 */
export class UniqueTimes {
  /** Per series: the last time as logged, and the last time written. */
  private readonly last = new Map<string, { logged: bigint; written: bigint }>();

  constructor(private readonly maxSeries = 10_000) {}

  /** The time to write for an event of `series` logged at `time` (in precision units). */
  assign(series: string, time: bigint): bigint {
    const prev = this.last.get(series);
    const written = prev !== undefined && time >= prev.logged && time <= prev.written ? prev.written + 1n : time;
    if (prev === undefined && this.last.size >= this.maxSeries) this.last.clear(); // bounded; a cleared series only loses the nudge
    this.last.set(series, { logged: time, written });
    return written;
  }
}

/** One event as one point: global tags plus the event's tags, `error` cut to `errorMaxBytes`. */
export function eventToLine(
  event: QuayEvent,
  global: Readonly<Record<string, string>>,
  errorMaxBytes: number,
  precision: Precision,
  times?: UniqueTimes,
): string | undefined {
  let fields = event.fields;
  const error = fields['error'];
  if (typeof error === 'string' && error.length > 0) {
    const cut = truncateUtf8(error, errorMaxBytes);
    if (cut !== error) fields = { ...fields, error: cut };
  }
  // Fields, not tags: pods come and go, and a tag per pod would multiply the series.
  const pod = event.stream?.pod;
  if (pod !== undefined) fields = { ...fields, pod, pod_namespace: event.stream?.namespace ?? '' };
  const tagPart = formatTags({ ...global, ...event.tags });
  let time = formatTime(event.time, precision);
  if (times) time = String(times.assign(event.measurement + tagPart, BigInt(time)));
  return formatPoint(event.measurement, tagPart, fields, time);
}

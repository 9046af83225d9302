/**
 * Collections and events as line protocol (Telegraf's prometheus input, metric_version = 1), and the
 * OTel exporter around it. Expected lines written out by hand.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { boundFieldName, eventToLine, metricsToLines, UniqueTimes } from './convert.js';
import { InfluxMetricExporter } from './exporter.js';

const collect = async (r: MetricRegistry) => (await new SlotProducer(r).collect()).resourceMetrics;

describe('metricsToLines', () => {
  it('counter, gauge and histogram (cumulative buckets, count, sum); labels win over global tags', async () => {
    const r = new MetricRegistry();
    r.counter('quay_registry_pulls_total').at('acme', 'web').value = 42;
    r.gauge('quay_log_exporter_files_watched').at().value = 3;
    const h = r.histogram('quay_registry_transfer_duration_seconds');
    const pull = h.at('pull');
    for (const v of [0.003, 0.02, 7]) h.observe(pull, v);
    const lines = metricsToLines(await collect(r), { namespace: 'global', pod: 'p' }, 1_700_000_000_123, 's');
    // buckets: 0.005 → 1 (0.003), 0.01 → 1, 0.025 → 2 (0.02), … 5 → 2, 10 → 3 (7), … 300 → 3, +Inf → 3
    // (integer-named fields come first: JS orders integer-like object keys so; InfluxDB ignores field order)
    const buckets = '1=2,5=2,10=3,30=3,60=3,120=3,300=3,0.005=1,0.01=1,0.025=2,0.05=2,0.1=2,0.25=2,0.5=2,2.5=2,+Inf=3';
    expect(lines).toEqual([
      'quay_registry_pulls_total,namespace=acme,pod=p,repository=web counter=42 1700000000',
      'quay_log_exporter_files_watched,namespace=global,pod=p gauge=3 1700000000',
      `quay_registry_transfer_duration_seconds,direction=pull,namespace=global,pod=p ${buckets},count=3,sum=7.023 1700000000`,
    ]);
  });

  it('a non-monotonic sum is a gauge; a histogram without sum writes sum=0; an exponential histogram nothing; undefined/null attributes left out', () => {
    const t: [number, number] = [0, 0];
    const metrics = {
      resource: {} as never,
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            { descriptor: { name: 'updown' }, dataPointType: DataPointType.SUM, isMonotonic: false, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: { a: 'x', b: undefined, c: null, d: 5 }, startTime: t, endTime: t, value: -2 }] },
            { descriptor: { name: 'h' }, dataPointType: DataPointType.HISTOGRAM, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: {}, startTime: t, endTime: t, value: { buckets: { boundaries: [1], counts: [0, 2] }, count: 2 } }] },
            { descriptor: { name: 'exp' }, dataPointType: DataPointType.EXPONENTIAL_HISTOGRAM, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [{ attributes: {}, startTime: t, endTime: t, value: {} }] },
          ],
        },
      ],
    } as unknown as ResourceMetrics;
    expect(metricsToLines(metrics, {}, 5, 'ms')).toEqual(['updown,a=x,d=5 gauge=-2 5', 'h 1=0,+Inf=2,count=2,sum=0 5']);
  });

  it('a point with no finite value is left out', async () => {
    const r = new MetricRegistry();
    r.gauge('quay_log_exporter_files_watched').at().value = NaN;
    r.counter('quay_log_gc_iterations_total').at().value = 1;
    expect(metricsToLines(await collect(r), {}, 1, 'ms')).toEqual(['quay_log_gc_iterations_total counter=1 1']);
  });
});

describe('boundFieldName', () => {
  it('small fractions without an exponent, trailing zeros cut', () => {
    // 1.5e-7 → "0.00000015"; 2.5e-10 → "0.00000000025"
    expect([1.5e-7, 2.5e-10, 5e-324 > 0 ? 1e-20 : 0].map(boundFieldName)).toEqual(['0.00000015', '0.00000000025', '0.00000000000000000001']);
    expect(boundFieldName(1e22)).toBe('10000000000000000000000');
    expect(boundFieldName(0.1)).toBe('0.1');
  });
});

describe('eventToLine', () => {
  const base = { measurement: 'quay_mirror_sync', time: 1_700_000_000_000, tags: { namespace: 'acme' } } as const;
  it('an empty error stays empty; an error that fits is not copied', () => {
    expect(eventToLine({ ...base, fields: { error: '', n: 1 } }, {}, 4, 'ms')).toBe('quay_mirror_sync,namespace=acme error="",n=1 1700000000000');
    expect(eventToLine({ ...base, fields: { error: 'abcd' } }, {}, 4, 'ms')).toBe('quay_mirror_sync,namespace=acme error="abcd" 1700000000000');
    expect(eventToLine({ ...base, fields: { error: 'abcde' } }, {}, 4, 'ms')).toBe('quay_mirror_sync,namespace=acme error="abcd" 1700000000000');
  });

  it('a pod without a namespace gets pod_namespace ""', () => {
    expect(eventToLine({ ...base, fields: { n: 1 }, stream: { id: 's', pod: 'q-1' } }, {}, 4, 'ms')).toBe('quay_mirror_sync,namespace=acme n=1,pod="q-1",pod_namespace="" 1700000000000');
  });

  it('with UniqueTimes: two events of one series in one second move apart by one unit of the precision', () => {
    const times = new UniqueTimes();
    const e = { ...base, fields: { n: 1 } };
    expect([eventToLine(e, {}, 4, 's', times), eventToLine(e, {}, 4, 's', times), eventToLine({ ...e, tags: { namespace: 'other' } }, {}, 4, 's', times)]).toEqual([
      'quay_mirror_sync,namespace=acme n=1 1700000000',
      'quay_mirror_sync,namespace=acme n=1 1700000001',
      'quay_mirror_sync,namespace=other n=1 1700000000',
    ]);
  });

  it('no field left: undefined', () => {
    expect(eventToLine({ ...base, fields: { bad: NaN } }, {}, 4, 'ms')).toBeUndefined();
  });
});

describe('UniqueTimes bound', () => {
  it('past maxSeries remembered series it starts again (a new series clears the memory)', () => {
    const t = new UniqueTimes(2);
    t.assign('a', 10n);
    t.assign('b', 10n);
    // a third series clears the memory: a and b are forgotten
    t.assign('c', 10n);
    expect(t.assign('a', 10n)).toBe(10n);
    // a known series does not clear: c is still remembered (2 series now: c, a)
    expect(t.assign('c', 10n)).toBe(11n);
  });
});

describe('InfluxMetricExporter', () => {
  it('queues every line, answers success; after shutdown it fails; a throw is a failure; cumulative; forceFlush waits on the queue', async () => {
    const pushed: string[] = [];
    let flushed = 0;
    const exporter = new InfluxMetricExporter({ tags: { pod: 'p' }, precision: 'ms', push: (l) => void pushed.push(l), flush: async () => void flushed++ });
    const r = new MetricRegistry();
    r.counter('quay_log_gc_iterations_total').at().value = 2;
    const results: ExportResult[] = [];
    exporter.export(await collect(r), (res) => results.push(res));
    expect(pushed).toHaveLength(1);
    expect(pushed[0]).toMatch(/^quay_log_gc_iterations_total,pod=p counter=2 \d{13}$/);
    expect(exporter.selectAggregationTemporality()).toBe(AggregationTemporality.CUMULATIVE);
    await exporter.forceFlush();
    expect(flushed).toBe(1);
    const throwing = new InfluxMetricExporter({ tags: {}, precision: 'ms', push: () => {
      throw new Error('full');
    }, flush: async () => {} });
    throwing.export(await collect(r), (res) => results.push(res));
    await exporter.shutdown();
    exporter.export(await collect(r), (res) => results.push(res));
    expect(results.map((x) => [x.code, x.error?.message])).toEqual([
      [ExportResultCode.SUCCESS, undefined],
      [ExportResultCode.FAILED, 'full'],
      [ExportResultCode.FAILED, 'influxdb exporter is shut down'],
    ]);
    // nothing more queued after shutdown
    expect(pushed).toHaveLength(1);
  });
});

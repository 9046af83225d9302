import { ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { DeltaConverter } from './delta.js';

const descriptor = (name: string) => ({ name, description: '', unit: '', valueType: ValueType.DOUBLE });
const t = (s: number): [number, number] => [s, 0];

function exportOf(at: number, counter: Record<string, number>, hist?: { counts: number[]; sum: number; count: number }, gauge = 0): ResourceMetrics {
  const metrics: MetricData[] = [
    {
      descriptor: descriptor('pulls'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: Object.entries(counter).map(([repo, value]) => ({ attributes: { repository: repo }, startTime: t(0), endTime: t(at), value })),
    },
    {
      descriptor: descriptor('files'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: [{ attributes: {}, startTime: t(0), endTime: t(at), value: gauge }],
    },
  ];
  if (hist) {
    metrics.push({
      descriptor: descriptor('duration'),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [
        {
          attributes: { component: 'registry' },
          startTime: t(0),
          endTime: t(at),
          value: { buckets: { boundaries: [0.1, 1], counts: hist.counts }, sum: hist.sum, count: hist.count, min: 0.01, max: 3 },
        },
      ],
    });
  }
  return { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: { name: 's' }, metrics }] };
}

const points = (r: ResourceMetrics, name: string) => r.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === name)!;

describe('DeltaConverter', () => {
  it('sends the increase since the last export the collector took', () => {
    const c = new DeltaConverter();
    // First export: everything so far is the delta (a=3, b=1).
    const first = c.convert(exportOf(10, { a: 3, b: 1 }, { counts: [1, 2, 0], sum: 1.5, count: 3 }, 7));
    expect(points(first.data, 'pulls').dataPoints.map((p) => p.value)).toEqual([3, 1]);
    expect(points(first.data, 'pulls').aggregationTemporality).toBe(AggregationTemporality.DELTA);
    first.commit();
    // a 3→5 (+2), b unchanged (+0), c new (4); histogram +1 in the 1..+Inf bucket and +1 in ≤0.1: counts [1,0,1], sum 2.5-1.5=1, count 2.
    const second = c.convert(exportOf(20, { a: 5, b: 1, c: 4 }, { counts: [2, 2, 1], sum: 2.5, count: 5 }, 2));
    const pulls = points(second.data, 'pulls');
    expect(pulls.dataPoints.map((p) => p.value)).toEqual([2, 0, 4]);
    // The interval starts where the last one ended (10 s), except for the new series (its own start).
    expect(pulls.dataPoints.map((p) => p.startTime[0])).toEqual([10, 10, 0]);
    const h = points(second.data, 'duration');
    expect(h.aggregationTemporality).toBe(AggregationTemporality.DELTA);
    const hv = h.dataPoints[0]!.value as { buckets: { counts: number[] }; sum: number; count: number; min?: number };
    expect(hv.buckets.counts).toEqual([1, 0, 1]);
    expect(hv.sum).toBe(1);
    expect(hv.count).toBe(2);
    // min/max of the interval are unknown from two cumulative states.
    expect(hv.min).toBeUndefined();
    // A gauge is passed as it is.
    expect(points(second.data, 'files').dataPoints[0]!.value).toBe(2);
  });

  it('without a commit (the export failed), the next delta spans both intervals', () => {
    const c = new DeltaConverter();
    c.convert(exportOf(10, { a: 3 })).commit();
    c.convert(exportOf(20, { a: 5 })); // lost: not committed
    const third = c.convert(exportOf(30, { a: 9 }));
    // 9 - 3 = 6: the 2 of the failed export are not lost.
    expect(points(third.data, 'pulls').dataPoints[0]!.value).toBe(6);
    expect(points(third.data, 'pulls').dataPoints[0]!.startTime[0]).toBe(10);
  });

  it('a series below its last value was made again: all of it is new; a series gone is forgotten', () => {
    const c = new DeltaConverter();
    c.convert(exportOf(10, { a: 5, b: 2 })).commit();
    // a dropped (series_ttl) and made again at 1: delta 1, not -4. b gone.
    const second = c.convert(exportOf(20, { a: 1 }));
    second.commit();
    expect(points(second.data, 'pulls').dataPoints.map((p) => p.value)).toEqual([1]);
    // b comes back at 2: it was forgotten, so all 2 are sent again as new.
    const third = c.convert(exportOf(30, { a: 1, b: 2 }));
    expect(points(third.data, 'pulls').dataPoints.map((p) => p.value)).toEqual([0, 2]);
  });
});

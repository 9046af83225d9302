/**
 * CountingExporter around an inner exporter that answers when the test says (as the OTLP exporter
 * answers once its retries are over): one export in flight, the rest skipped and counted; points
 * counted written or dropped; deltas committed only on success. test/outputs/otlp.test.ts runs the
 * real OTLP exporters against a receiver.
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InstrumentType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { CountingExporter } from './exporter.js';

class Inner implements PushMetricExporter {
  calls: { data: ResourceMetrics; done: (r: ExportResult) => void }[] = [];
  flushed = 0;
  shut = 0;
  export(data: ResourceMetrics, done: (r: ExportResult) => void): void {
    this.calls.push({ data, done });
  }
  async forceFlush(): Promise<void> {
    this.flushed++;
  }
  async shutdown(): Promise<void> {
    this.shut++;
  }
}

function setup(temporality = AggregationTemporality.CUMULATIVE) {
  const inner = new Inner();
  const stats = { written: { value: 0 }, dropped: { value: 0 }, errors: { value: 0 } };
  const failures: [string | undefined, number][] = [];
  const successes: number[] = [];
  const resource = resourceFromAttributes({ 'service.name': 'test-svc' });
  const exporter = new CountingExporter({ inner, resource, temporality, stats, onFailure: (e, n) => void failures.push([e?.message, n]), onSuccess: (n) => void successes.push(n) });
  return { inner, stats, failures, successes, exporter, resource };
}

async function collection(values: Record<string, number>): Promise<ResourceMetrics> {
  const r = new MetricRegistry();
  for (const [repo, v] of Object.entries(values)) r.counter('quay_registry_pulls_total').at('acme', repo).value = v;
  r.gauge('quay_log_exporter_files_watched').at().value = 1;
  return (await new SlotProducer(r).collect()).resourceMetrics;
}

describe('CountingExporter', () => {
  it('counts the points of a delivered export as written, with this output\'s resource', async () => {
    const { inner, stats, successes, exporter, resource } = setup();
    const results: ExportResult[] = [];
    exporter.export(await collection({ a: 1, b: 2 }), (r) => results.push(r));
    expect(inner.calls[0]!.data.resource).toBe(resource);
    inner.calls[0]!.done({ code: ExportResultCode.SUCCESS });
    // 2 pull series + 1 gauge = 3 points
    expect(stats).toEqual({ written: { value: 3 }, dropped: { value: 0 }, errors: { value: 0 } });
    expect(successes).toEqual([3]);
    expect(results.map((r) => r.code)).toEqual([ExportResultCode.SUCCESS]);
  });

  it('a failed export: its points dropped, one error, told with the error', async () => {
    const { inner, stats, failures, exporter } = setup();
    const results: ExportResult[] = [];
    exporter.export(await collection({ a: 1 }), (r) => results.push(r));
    inner.calls[0]!.done({ code: ExportResultCode.FAILED, error: new Error('503') });
    expect(stats).toEqual({ written: { value: 0 }, dropped: { value: 2 }, errors: { value: 1 } });
    expect(failures).toEqual([['503', 2]]);
    expect(results.map((r) => r.code)).toEqual([ExportResultCode.FAILED]);
  });

  it('one export in flight: the next is skipped and counted, not queued; after the answer the next goes', async () => {
    const { inner, stats, failures, exporter } = setup();
    const results: ExportResult[] = [];
    exporter.export(await collection({ a: 1 }), (r) => results.push(r));
    exporter.export(await collection({ a: 2, b: 1 }), (r) => results.push(r));
    expect(inner.calls).toHaveLength(1);
    // the skipped one: 3 points dropped
    expect(failures).toEqual([['previous otlp export still in flight', 3]]);
    inner.calls[0]!.done({ code: ExportResultCode.SUCCESS });
    exporter.export(await collection({ a: 3 }), (r) => results.push(r));
    expect(inner.calls).toHaveLength(2);
    inner.calls[1]!.done({ code: ExportResultCode.SUCCESS });
    expect(stats).toEqual({ written: { value: 4 }, dropped: { value: 3 }, errors: { value: 1 } });
    expect(results.map((r) => r.code)).toEqual([ExportResultCode.FAILED, ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);
  });

  it('after shutdown every export fails without reaching the inner exporter', async () => {
    const { inner, stats, failures, exporter } = setup();
    await exporter.shutdown();
    expect(inner.shut).toBe(1);
    const results: ExportResult[] = [];
    exporter.export(await collection({ a: 1 }), (r) => results.push(r));
    expect(inner.calls).toHaveLength(0);
    expect(failures).toEqual([['otlp exporter is shut down', 2]]);
    expect(stats.errors.value).toBe(1);
    expect(results[0]!.code).toBe(ExportResultCode.FAILED);
  });

  it('delta: the base moves only after a delivered export', async () => {
    const { inner, exporter } = setup(AggregationTemporality.DELTA);
    expect(exporter.selectAggregationTemporality(InstrumentType.COUNTER)).toBe(AggregationTemporality.DELTA);
    const sent = (i: number) => inner.calls[i]!.data.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === 'quay_registry_pulls_total')!.dataPoints.map((p) => p.value);
    exporter.export(await collection({ a: 5 }), () => {});
    expect(sent(0)).toEqual([5]);
    inner.calls[0]!.done({ code: ExportResultCode.SUCCESS });
    exporter.export(await collection({ a: 7 }), () => {});
    // 7 − 5 = 2, but this one fails: the base stays at 5
    expect(sent(1)).toEqual([2]);
    inner.calls[1]!.done({ code: ExportResultCode.FAILED });
    exporter.export(await collection({ a: 8 }), () => {});
    // 8 − 5 = 3: both intervals
    expect(sent(2)).toEqual([3]);
  });

  it('cumulative: values as they are; forceFlush is the inner one', async () => {
    const { inner, exporter } = setup();
    expect(exporter.selectAggregationTemporality(InstrumentType.COUNTER)).toBe(AggregationTemporality.CUMULATIVE);
    exporter.export(await collection({ a: 5 }), () => {});
    inner.calls[0]!.done({ code: ExportResultCode.SUCCESS });
    exporter.export(await collection({ a: 7 }), () => {});
    expect(inner.calls[1]!.data.scopeMetrics[0]!.metrics[0]!.dataPoints.map((p) => p.value)).toEqual([7]);
    await exporter.forceFlush();
    expect(inner.flushed).toBe(1);
  });
});

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { EventBus } from '../../events.js';
import { PatternLibrary } from '../../grok/index.js';
import { silentLogger } from '../../log.js';
import { MetricRegistry } from '../../metrics/series.js';
import { LineResult } from '../types.js';
import { createOcMirrorParser } from './index.js';
import { parseGoDurationSeconds, parseRateBytesPerSecond } from './units.js';

const grok = PatternLibrary.bundled();

function replay(fixture: string, config: Record<string, unknown> = {}) {
  const registry = new MetricRegistry();
  const parser = createOcMirrorParser({ config: parseConfig({ state_dir: '/nonexistent', ...config }), registry, events: new EventBus(), grok, log: silentLogger });
  const lines = readFileSync(new URL(`../../../test/fixtures/${fixture}`, import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
  const results = lines.map((l) => parser.parse(l, 0));
  const counter = (name: 'quay_mirror_images_total' | 'quay_mirror_sync_failures_total' | 'quay_mirror_slow_transfers_total', ...labels: string[]) => {
    const f = registry.counter(name);
    return f.has(...labels) ? f.at(...labels).value : 0;
  };
  return { registry, results, counter };
}

describe('units', () => {
  it('parses oc rates (kB/MB decimal, KiB/GiB binary)', () => {
    expect(parseRateBytesPerSecond('0B/s')).toBe(0);
    expect(parseRateBytesPerSecond('12.5MB/s')).toBe(12_500_000);
    expect(parseRateBytesPerSecond('1.2GiB/s')).toBeCloseTo(1.2 * 1024 ** 3, 3);
    expect(parseRateBytesPerSecond('9.416kB/s')).toBeCloseTo(9416, 6);
    expect(parseRateBytesPerSecond('512KiB/s')).toBe(524_288);
    expect(parseRateBytesPerSecond('iB/s')).toBeNaN();
    expect(parseRateBytesPerSecond('fast')).toBeNaN();
  });

  it('parses oc durations', () => {
    expect(parseGoDurationSeconds('650ms')).toBeCloseTo(0.65, 9);
    expect(parseGoDurationSeconds('1m2.5s')).toBeCloseTo(62.5, 9);
    expect(parseGoDurationSeconds('2h3m21.48s')).toBeCloseTo(7401.48, 9);
  });
});

describe('oc-mirror parser: ci-images-mirror JSON (test/fixtures/oc-mirror-ci-images.log)', () => {
  // In beforeAll, not at collection: mutation testing switches its mutants on in beforeAll.
  let s: ReturnType<typeof replay>;
  beforeAll(() => {
    s = replay('oc-mirror-ci-images.log');
  });

  it('counts images by msg', () => {
    expect(s.counter('quay_mirror_images_total', 'ci-images-mirror', 'queued')).toBe(3);
    expect(s.counter('quay_mirror_images_total', 'ci-images-mirror', 'up_to_date')).toBe(2);
    expect(s.counter('quay_mirror_images_total', 'ci-images-mirror', 'mirrored')).toBe(2);
    expect(s.counter('quay_mirror_images_total', 'ci-images-mirror', 'failed')).toBe(1);
    expect(s.counter('quay_mirror_images_total', 'ci-images-mirror', 'failed_after_retries')).toBe(1);
    // The entry without `component`.
    expect(s.counter('quay_mirror_images_total', 'unknown', 'mirrored')).toBe(1);
  });

  it('classifies oc errors found in `output`, once each (the summary line is not a failure)', () => {
    const f = s.registry.counter('quay_mirror_sync_failures_total');
    expect(s.counter('quay_mirror_sync_failures_total', 'ci-images-mirror', 'unknown_blob')).toBe(1);
    expect(s.counter('quay_mirror_sync_failures_total', 'ci-images-mirror', 'manifest_invalid')).toBe(1);
    expect(s.counter('quay_mirror_sync_failures_total', 'ci-images-mirror', 'schema1_unsupported')).toBe(1);
    expect(s.counter('quay_mirror_sync_failures_total', 'ci-images-mirror', 'rate_limited')).toBe(1);
    expect(f.slots.size).toBe(4);
  });

  it('records completion time and rate; 0B/s has no rate', () => {
    const d = s.registry.histogram('quay_mirror_transfer_duration_seconds').at('ci-images-mirror');
    expect(d.count).toBe(2);
    expect(d.sum).toBeCloseTo(0.65 + 62.5, 9);
    const t = s.registry.histogram('quay_mirror_transfer_throughput_bytes_per_second').at('ci-images-mirror');
    expect(t.count).toBe(1);
    expect(t.sum).toBe(12_500_000);
    // 12.5 MB/s is above the default slow threshold of 1 MiB/s.
    expect(s.counter('quay_mirror_slow_transfers_total', 'ci-images-mirror')).toBe(0);
  });

  it('every JSON entry matches; the truncated last line does not', () => {
    expect(s.results).toHaveLength(15);
    expect(s.results.slice(0, 14).every((r) => r === LineResult.Matched)).toBe(true);
    expect(s.results[14]).toBe(LineResult.Unmatched);
  });
});

describe('oc-mirror parser: plain `oc image mirror` output (test/fixtures/oc-mirror-plain.log)', () => {
  it('counts failures, completions and slow transfers under component "oc"', () => {
    const s = replay('oc-mirror-plain.log');
    // Unmatched: "phase 0:", the indented plan line, the "uploading:" line.
    expect(s.results.filter((r) => r === LineResult.Unmatched)).toHaveLength(3);
    expect(s.results.filter((r) => r === LineResult.Matched)).toHaveLength(8);
    expect(s.counter('quay_mirror_sync_failures_total', 'oc', 'manifest_invalid')).toBe(1);
    expect(s.counter('quay_mirror_sync_failures_total', 'oc', 'rate_limited')).toBe(1);
    expect(s.registry.counter('quay_mirror_sync_failures_total').slots.size).toBe(2);
    const d = s.registry.histogram('quay_mirror_transfer_duration_seconds').at('oc');
    expect(d.count).toBe(3);
    expect(d.sum).toBeCloseTo(151.1 + 7401.48 + 0.02, 6);
    const t = s.registry.histogram('quay_mirror_transfer_throughput_bytes_per_second').at('oc');
    expect(t.count).toBe(2);
    expect(t.sum).toBeCloseTo(96_060_000 + 9416, 3);
    // 9.416 kB/s for 7401 s = 69.7 MB: at least min_bytes (1 MiB) and below 1 MiB/s → slow. 96 MB/s is not.
    expect(s.counter('quay_mirror_slow_transfers_total', 'oc')).toBe(1);
  });

  it('uses slow_transfer from the config', () => {
    // With a threshold of 100 MB/s the 96.06 MB/s mirror is slow too.
    const s = replay('oc-mirror-plain.log', { slow_transfer: { max_bytes_per_second: 100_000_000 } });
    expect(s.counter('quay_mirror_slow_transfers_total', 'oc')).toBe(2);
  });
});

describe('oc-mirror parser, bad input', () => {
  it('never throws on huge, binary, odd JSON or near-miss lines', () => {
    const registry = new MetricRegistry();
    const parser = createOcMirrorParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events: new EventBus(), grok, log: silentLogger });
    const lines = [
      'x'.repeat(1 << 20),
      '\u0000\u0001\uFFFD binary',
      '[1,2,3]',
      '{"msg": 42, "component": {"x": 1}, "output": ["error: nope"]}',
      '{"component": "' + 'c'.repeat(500) + '", "msg": "Mirroring"}',
      'info: Mirroring completed in ' + '1h'.repeat(100_000) + ' (1B/s)',
      'info: Mirroring completed in 5s (99999999999999999999999999PB/s)',
    ];
    const results = lines.map((l) => {
      let r: LineResult | undefined;
      expect(() => (r = parser.parse(l, 0))).not.toThrow();
      return r;
    });
    expect(results.slice(0, 3)).toEqual([LineResult.Unmatched, LineResult.Unmatched, LineResult.Unmatched]);
    // A non-string msg or component counts nothing but the entry is valid JSON.
    expect(results[3]).toBe(LineResult.Matched);
    // An over-long component name becomes "unknown".
    expect(registry.counter('quay_mirror_images_total').at('unknown', 'queued').value).toBe(1);
  });
});

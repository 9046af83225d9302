import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
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
  // Per test (beforeEach), not in beforeEach: Stryker records per-test coverage from a beforeEach
  // of its own, so what beforeEach reaches is "static" coverage no test owns (test/MUTATION.md).
  let s: ReturnType<typeof replay>;
  beforeEach(() => {
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

describe('oc-mirror parser: edges of the line reading and of the slow-transfer bounds', () => {
  function parser(config: Record<string, unknown> = {}) {
    const registry = new MetricRegistry();
    const p = createOcMirrorParser({ config: parseConfig({ state_dir: '/nonexistent', ...config }), registry, events: new EventBus(), grok, log: silentLogger });
    const images = (...labels: string[]) => (registry.counter('quay_mirror_images_total').has(...labels) ? registry.counter('quay_mirror_images_total').at(...labels).value : 0);
    const slow = (c: string) => (registry.counter('quay_mirror_slow_transfers_total').has(c) ? registry.counter('quay_mirror_slow_transfers_total').at(c).value : 0);
    return { p, registry, images, slow };
  }

  it('JSON after spaces or a tab, and after a prefix the caller skips (start > 0)', () => {
    const s = parser();
    expect(s.p.parse('   {"component":"w","msg":"Mirroring"}', 0)).toBe(LineResult.Matched);
    expect(s.p.parse('\t{"msg":"Image is up to date"}', 0)).toBe(LineResult.Matched);
    // The parser is told the entry starts at 7 (after "pod-1: "): the prefix is not part of the JSON.
    expect(s.p.parse('pod-1: {"component":"w","msg":"Mirrored successfully"}', 7)).toBe(LineResult.Matched);
    // Not JSON though it starts with "{": read as oc text, which it is not either.
    expect(s.p.parse('{not json', 0)).toBe(LineResult.Unmatched);
    // One each: w/queued, unknown/up_to_date, w/mirrored.
    expect(s.images('w', 'queued')).toBe(1);
    expect(s.images('unknown', 'up_to_date')).toBe(1);
    expect(s.images('w', 'mirrored')).toBe(1);
    expect(s.registry.counter('quay_mirror_images_total').slots.size).toBe(3);
  });

  it('an unknown msg is read as oc text, line by line; an empty output reads nothing', () => {
    const s = parser();
    // msg: two oc lines (an error, not_found by the built-in table, and a completion) and an empty line between them.
    const entry = { component: 'w', msg: 'error: manifest unknown: manifest unknown\n\ninfo: Mirroring completed in 3s (2MB/s)', output: '' };
    expect(s.p.parse(JSON.stringify(entry), 0)).toBe(LineResult.Matched);
    expect(s.registry.counter('quay_mirror_sync_failures_total').at('w', 'not_found').value).toBe(1);
    expect(s.registry.counter('quay_mirror_sync_failures_total').slots.size).toBe(1);
    const d = s.registry.histogram('quay_mirror_transfer_duration_seconds').at('w');
    expect([d.count, d.sum]).toEqual([1, 3]);
    // A known msg counts the image and is not read as oc text.
    expect(s.p.parse('{"component":"w","msg":"Failed to mirror","output":"error: blob unknown: blob unknown to registry"}', 0)).toBe(LineResult.Matched);
    expect(s.images('w', 'failed')).toBe(1);
    expect(s.registry.counter('quay_mirror_sync_failures_total').at('w', 'unknown_blob').value).toBe(1);
    expect(s.registry.counter('quay_mirror_sync_failures_total').slots.size).toBe(2);
  });

  it('plain text: a last line without newline, and lines after an empty one', () => {
    const s = parser();
    // ocLines on a plain line reads from `start`: the text before it is not oc output.
    expect(s.p.parse('xx info: Mirroring completed in 4s (0B/s)', 3)).toBe(LineResult.Matched);
    expect(s.p.parse('xx info: Mirroring completed in 4s (0B/s)', 0)).toBe(LineResult.Unmatched);
    const d = s.registry.histogram('quay_mirror_transfer_duration_seconds').at('oc');
    expect([d.count, d.sum]).toEqual([1, 4]);
  });

  it('0s is a duration; the slow bounds: at least min_bytes, strictly below max_bytes_per_second', () => {
    const s = parser();
    // 0s (1MB/s): duration 0 observed; rate 1,000,000 observed; 0 bytes < min_bytes: not slow.
    s.p.parse('info: Mirroring completed in 0s (1MB/s)', 0);
    const d = s.registry.histogram('quay_mirror_transfer_duration_seconds').at('oc');
    expect([d.count, d.sum]).toEqual([1, 0]);
    expect(s.slow('oc')).toBe(0);
    // 2s at 524,288 B/s = 1,048,576 bytes = min_bytes exactly, below 1 MiB/s: slow (1).
    s.p.parse('info: Mirroring completed in 2s (524288B/s)', 0);
    expect(s.slow('oc')).toBe(1);
    // 1s at exactly 1 MiB/s (1,048,576 B/s): not below the max rate: not slow (still 1).
    s.p.parse('info: Mirroring completed in 1s (1MiB/s)', 0);
    expect(s.slow('oc')).toBe(1);
    // 1s at 1,048,575 B/s: 1 byte under min_bytes: not slow (still 1).
    s.p.parse('info: Mirroring completed in 1s (1048575B/s)', 0);
    expect(s.slow('oc')).toBe(1);
    const t = s.registry.histogram('quay_mirror_transfer_throughput_bytes_per_second').at('oc');
    // 1,000,000 + 524,288 + 1,048,576 + 1,048,575
    expect([t.count, t.sum]).toEqual([4, 3_621_439]);
  });
});

describe('oc-mirror: units and component names, edge by edge', () => {
  it('rates: every prefix, binary and decimal, a space before the unit, surrounding space; anchored at both ends', () => {
    // docker/go-units: k/K, M, G, T, P are powers of 1000; with "i" of 1024.
    expect(parseRateBytesPerSecond('1 kB/s')).toBe(1000);
    expect(parseRateBytesPerSecond('1KB/s')).toBe(1000);
    expect(parseRateBytesPerSecond('3GB/s')).toBe(3e9);
    expect(parseRateBytesPerSecond('1TB/s')).toBe(1e12);
    expect(parseRateBytesPerSecond('1PB/s')).toBe(1e15);
    expect(parseRateBytesPerSecond('1MiB/s')).toBe(1_048_576);
    expect(parseRateBytesPerSecond('2TiB/s')).toBe(2 * 1024 ** 4);
    expect(parseRateBytesPerSecond('1PiB/s')).toBe(1024 ** 5);
    expect(parseRateBytesPerSecond('  2MB/s \n')).toBe(2_000_000);
    expect(parseRateBytesPerSecond('7B/s')).toBe(7);
    // "i" without a prefix is no unit (there is no "iB").
    expect(parseRateBytesPerSecond('5iB/s')).toBeNaN();
    for (const t of ['x1MB/s', '1MB/sx', '1.MB/s', '.5MB/s', '1mB/s', '1MB', '1  MB/s', 'MB/s', '1.5.2MB/s']) expect(parseRateBytesPerSecond(t), t).toBeNaN();
  });

  it('a component name of 1 to 64 letters, digits, "_", "." or "-"; anything else is "unknown"', () => {
    const registry = new MetricRegistry();
    const p = createOcMirrorParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events: new EventBus(), grok, log: silentLogger });
    const names = ['a'.repeat(64), 'A-z_0.9', 'a'.repeat(65), '', 'w x', '!w', 'w!'];
    for (const c of names) p.parse(JSON.stringify({ component: c, msg: 'Mirroring' }), 0);
    const f = registry.counter('quay_mirror_images_total');
    expect([...f.slots.values()].map((s) => [s.attributes['component'], s.value])).toEqual([
      ['a'.repeat(64), 1],
      ['A-z_0.9', 1],
      // 65 characters, empty, a space, "!" first or last: 5
      ['unknown', 5],
    ]);
  });
});

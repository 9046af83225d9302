/**
 * The line path an input's config builds (splitter → framing → multi-line → handler): which stages are
 * in it, in which order, the offset that is safe to save while stages hold lines, and flush/tick.
 * Bytes and offsets counted by hand.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { MetricRegistry } from '../metrics/series.js';
import { buildLinePath, flushStages, safeOffset, tickStages } from './chain.js';
import { CriFraming, DockerFraming } from './framing.js';
import { MultilineStage } from './multiline.js';

const input = (o: Record<string, unknown>) => parseConfig({ inputs: [{ paths: ['/x.log'], ...o }] }).inputs[0]!;

describe('buildLinePath', () => {
  it('raw, no multiline: no stages, lines straight to the handler', () => {
    const got: string[] = [];
    const path = buildLinePath(input({ framing: 'raw' }), (l) => void got.push(l), new MetricRegistry());
    expect(path.stages).toEqual([]);
    path.splitter.write(Buffer.from('a\nb\n'));
    expect(got).toEqual(['a', 'b']);
    // nothing held: the safe offset is what the splitter consumed (4 bytes)
    expect(safeOffset(path)).toBe(4);
  });

  it('cri framing, then multiline, in that order; docker framing is the other class', () => {
    const cri = buildLinePath(input({ framing: 'cri', multiline: { pattern: '^\\s' } }), () => {}, new MetricRegistry());
    expect(cri.stages.map((s) => s.constructor)).toEqual([CriFraming, MultilineStage]);
    const docker = buildLinePath(input({ framing: 'docker' }), () => {}, new MetricRegistry());
    expect(docker.stages.map((s) => s.constructor)).toEqual([DockerFraming]);
  });

  it('the safe offset is the start of the oldest line a stage holds; flush hands it over; truncation counted once per line', () => {
    const got: string[] = [];
    const registry = new MetricRegistry();
    const path = buildLinePath(input({ framing: 'raw', multiline: { pattern: '^\\s' }, max_line_bytes: 1024 }), (l) => void got.push(l), registry);
    // "first\n" (6 bytes, offset 0) opens an event; "  cont\n" (7 bytes, offset 6) joins it; both held
    path.splitter.write(Buffer.from('first\n  cont\n'));
    expect(got).toEqual([]);
    expect(path.splitter.consumed).toBe(13);
    expect(safeOffset(path)).toBe(0);
    // "next\n" at 13 ends the event and is held in turn
    path.splitter.write(Buffer.from('next\n'));
    expect(got).toEqual(['first\n  cont']);
    expect(safeOffset(path)).toBe(13);
    flushStages(path);
    expect(got).toEqual(['first\n  cont', 'next']);
    expect(safeOffset(path)).toBe(18);
    // a 2000-byte line: cut at 1024 and counted
    path.splitter.write(Buffer.from('y'.repeat(2000) + '\n'));
    flushStages(path);
    expect(got[2]!.length).toBe(1024);
    expect(registry.counter('quay_log_exporter_lines_truncated_total').at().value).toBe(1);
  });

  it('tick: an event held past multiline.timeout is handed over (the first tick stamps it, a later one past the timeout ends it)', () => {
    const got: string[] = [];
    const path = buildLinePath(input({ framing: 'raw', multiline: { pattern: '^\\s', timeout: '1s' } }), (l) => void got.push(l), new MetricRegistry());
    path.splitter.write(Buffer.from('first\n'));
    tickStages(path, 10_000);
    tickStages(path, 10_999);
    expect(got).toEqual([]);
    tickStages(path, 11_000);
    expect(got).toEqual(['first']);
  });

  it('cri framing + multiline: partial records joined, then continuation lines joined, offsets of the first record', () => {
    const got: string[] = [];
    const path = buildLinePath(input({ framing: 'cri', multiline: { pattern: '^\\s' } }), (l) => void got.push(l), new MetricRegistry());
    const recs = ['2026-11-30T10:00:00.000000000Z stdout P Trace', '2026-11-30T10:00:00.000000001Z stdout F back', '2026-11-30T10:00:00.000000002Z stdout F   at x'];
    path.splitter.write(Buffer.from(recs.join('\n') + '\n'));
    // all held by multiline: from the first record's offset
    expect(safeOffset(path)).toBe(0);
    flushStages(path);
    expect(got).toEqual(['Traceback\n  at x']);
  });
});

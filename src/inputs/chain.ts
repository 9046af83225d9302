/**
 * Builds the per-stream line path from an input's config: splitter → framing
 * → multi-line → handler. Stages that are not configured are not in the
 * path at all, so a plain input hands lines straight to the handler.
 */
import type { InputConfig } from '../config/schema.js';
import type { MetricRegistry } from '../metrics/series.js';
import { CriFraming, DockerFraming } from './framing.js';
import { MultilineStage } from './multiline.js';
import { LineSplitter } from './splitter.js';
import type { Sink, Stage } from './stage.js';
import type { LineHandler } from './types.js';

export interface LinePath {
  readonly splitter: LineSplitter;
  readonly stages: readonly Stage[];
}

export function buildLinePath(config: InputConfig, handler: LineHandler, registry: MetricRegistry): LinePath {
  const truncated = registry.counter('quay_log_exporter_lines_truncated_total').at();
  const onTruncated = () => {
    truncated.value++;
  };
  const stages: Stage[] = [];
  // Built back to front: each stage hands to the one after it.
  let sink: Sink = handler;
  if (config.multiline) {
    const ml = new MultilineStage(config.multiline, config.source === 'supervisord', sink, onTruncated);
    stages.unshift(ml);
    sink = ml.push;
  }
  if (config.framing !== 'raw') {
    const Framing = config.framing === 'cri' ? CriFraming : DockerFraming;
    const fr = new Framing(sink, config.max_line_bytes, onTruncated, config.partial_line_timeout);
    stages.unshift(fr);
    sink = fr.push;
  }
  return { splitter: new LineSplitter(config.max_line_bytes, sink, onTruncated), stages };
}

/** Offset of the oldest byte not yet handed to the handler. */
export function safeOffset(path: LinePath): number {
  let min = path.splitter.consumed;
  for (const s of path.stages) {
    const h = s.heldFrom();
    if (h < min) min = h;
  }
  return min;
}

/** Hand over everything the stages hold, in path order. */
export function flushStages(path: LinePath): void {
  for (const s of path.stages) s.flush();
}

export function tickStages(path: LinePath, now: number): void {
  for (const s of path.stages) s.tick(now);
}

/** Waits until the stages that hand lines over later (src/threads) have handed over what they hold. */
export async function settleStages(path: LinePath): Promise<void> {
  for (const s of path.stages) if (s.settle !== undefined) await s.settle();
}

/** A promise while a stage holds as much as it may (src/threads): the reader waits on it before reading more. */
export function backlogOf(path: LinePath): Promise<void> | undefined {
  for (const s of path.stages) {
    const b = s.backlog?.();
    if (b !== undefined) return b;
  }
  return undefined;
}

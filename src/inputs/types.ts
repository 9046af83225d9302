/**
 * The contract between inputs and the rest of the pipeline.
 *
 * An input reads bytes (a file, stdin), frames them (raw, cri, docker),
 * joins multi-line events, and hands each complete line to `LineHandler`,
 * synchronously and in order. The handler records the line's metrics before
 * it returns, so once an input has handed over every line before an offset,
 * that offset may be saved: at-least-once, never lost.
 */
import type { Logger } from '../log.js';
import type { MetricRegistry } from '../metrics/series.js';

/** Receives one complete line or joined multi-line event (no trailing newline). */
export type LineHandler = (line: string) => void;

export interface InputDeps {
  /** Where the line goes: the router for this input's source. */
  readonly handler: LineHandler;
  /** For the self-metrics (input bytes, truncated lines, rotations, files watched, lag). */
  readonly registry: MetricRegistry;
  /** Directory for offset files. */
  readonly stateDir: string;
  readonly log: Logger;
}

export interface Input {
  readonly name: string;
  /** Begin reading; resolves once the input is set up (files found or waited for). */
  start(): Promise<void>;
  /**
   * Stop: read to the end of what was already written, hand it over, save
   * offsets, release files. Resolves when done.
   */
  stop(): Promise<void>;
  /**
   * Only for inputs that can end (stdin): resolves once the input has ended
   * and handed over everything (end of stream, or stop()). File inputs never
   * end on their own and leave this undefined.
   */
  readonly finished?: Promise<void>;
}

/**
 * The contract between inputs and the rest of the pipeline.
 *
 * An input reads bytes (a file, stdin), frames them (raw, cri, docker),
 * joins multi-line events, and hands each complete line to `LineHandler`,
 * synchronously and in order. The handler records the line's metrics before
 * it returns, so once an input has handed over every line before an offset,
 * that offset may be saved: at-least-once, never lost.
 */
import type { InputConfig, InputSource } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MetricRegistry } from '../metrics/series.js';
import type { OriginSlot } from '../records/record.js';
import type { LinePath } from './chain.js';

/** Receives one complete line or joined multi-line event (no trailing newline). */
export type LineHandler = (line: string) => void;

/**
 * Where a stream of lines comes from. A stream is one ordered sequence whose
 * lines may depend on each other (a pid's mirror attempt, a traceback): a
 * file (by identity, not path), stdin, a Forward input's tag (+ Kubernetes container), whatever connection carries it.
 */
export interface StreamInfo {
  /** Unique among the streams open at the same time: `file:<dev>:<ino>`, `stdin:<input>`, `forward:<input>:<tag>[:<namespace>/<pod>/<container>]`. */
  readonly id: string;
  /** Kubernetes pod and namespace, when the stream is a container's log (see kubernetes.ts). */
  readonly pod?: string;
  readonly namespace?: string;
  /** Fluent tag, for Forward streams. */
  readonly tag?: string;
}

/**
 * One open stream: its lines in order, then end() once. `line` is bound (it
 * can be handed on as a sink by itself). end() closes the state the stream's
 * lines left open (an attempt, a multi-line entry) as an idle gap would.
 */
export interface LineStream {
  readonly line: LineHandler;
  end(): void;
}

/** Opens a stream; the router for an input's source (Pipeline.openStream). */
export type OpenStream = (info: StreamInfo) => LineStream;

/** Opens a stream whose source the input chooses per stream (a Forward tag → tag_sources). */
export type OpenSourceStream = (source: InputSource, info: StreamInfo) => LineStream;

/** Every stream's lines to one handler, end() ignored: for tests and callers that keep no state per stream. */
export function oneHandler(handler: LineHandler): OpenStream {
  const stream: LineStream = { line: handler, end() {} };
  return () => stream;
}

export interface InputDeps {
  /** Opens the stream of each file (stdin: one), whose lines go to the router for this input's source. */
  readonly open: OpenStream;
  /** For the self-metrics (input bytes, truncated lines, rotations, files watched, lag). */
  readonly registry: MetricRegistry;
  /** Directory for offset files. */
  readonly stateDir: string;
  readonly log: Logger;
  /** Inputs of records (forward, stdin json/msgpack): a stream per origin and tag, its source chosen per stream. */
  readonly openSource?: OpenSourceStream;
  /** Called after a read; an input that can slow its sender waits while it returns a promise (a push output catching up). */
  readonly pause?: () => Promise<void> | undefined;
  /** With records out: record inputs say here which Fluent record the line they hand over came in. */
  readonly origin?: OriginSlot;
  /** File inputs: builds each file's line path (default chain.ts buildLinePath; `run` with pipeline.threads: src/threads/daemon.ts). */
  readonly linePath?: (config: InputConfig, handler: LineHandler, registry: MetricRegistry) => LinePath;
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

/**
 * `run` with pipeline.threads N > 1: file inputs parse their order-free
 * lines (nginx, gunicorn: the same split as `replay --threads`) in N - 1
 * worker threads.
 *
 * The main thread reads each followed file as before, but its splitter cuts
 * what it read at the last newline into a piece of whole lines (its own
 * ArrayBuffer, transferred) instead of decoding it. A worker records the
 * order-free lines of the piece into its share and answers with the rest and
 * with what the piece counted (tracked-share.ts); when every worker has its
 * fill, the main thread does the same with its own share (as replay does:
 * N threads parse). The main thread takes the
 * answers in the order the pieces were cut, across all files (one sequence),
 * and for each: makes the series the piece made, at their place among the
 * series its own lines make (so series order and the cap are one thread's),
 * puts the handed-back lines through the ordinary router (mirror attempts
 * per pid, GC runs, supervisord's lines keep their order), and adds the
 * counts into the slots. Every scrape and push export reads those slots: each
 * piece is in them whole or not at all.
 *
 * Offsets: the pieces of a file wait in a Stage (inputs/stage.ts) whose
 * heldFrom() is the start of the oldest piece not yet added, so a saved
 * offset never passes a line whose counts are not in the slots. A worker
 * that dies fails the daemon (exit 1) with what it held unsaved: a restart
 * reads those lines again, none lost, none counted twice.
 */
import { Worker } from 'node:worker_threads';
import type { Config, InputConfig } from '../config/schema.js';
import type { LinePath } from '../inputs/chain.js';
import { LineSplitter } from '../inputs/splitter.js';
import type { Stage } from '../inputs/stage.js';
import type { LineHandler } from '../inputs/types.js';
import type { Logger } from '../log.js';
import type { HistogramSlot, MetricRegistry, ValueSlot } from '../metrics/series.js';
import { addHistogramData } from './merge.js';
import type { Pipeline } from '../pipeline.js';
import type { DaemonPiece, DaemonWorkerData } from './daemon-worker.js';
import { threadsUnusable } from './replay.js';
import type { RuleSource } from '../rules/compile.js';
import { ruleSources } from '../rules/index.js';
import { LINE_BITS } from './share.js';
import { TrackedShare, type PieceCounts } from './tracked-share.js';

/** Pieces a worker may have in flight: one being parsed, one waiting; past that the main thread parses the next piece itself. */
export const PIECES_PER_WORKER = 2;
/** Pieces and lines waiting for their turn before the reader waits (a slow piece at the head holds the rest). */
export const MAX_QUEUED = 16;

const WORKER_URL = new URL('./daemon-worker.js', import.meta.url);

/** Why this input cannot be split over threads with the same result; undefined when it can. */
export function daemonThreadsUnusable(config: Config, input: InputConfig, pipeline: Pipeline): string | undefined {
  if (input.type !== 'file') return `a ${input.type} input is read on the main thread`;
  if (pipeline.records !== undefined) return 'outputs.records writes a record per line in line order';
  return threadsUnusable(config, input, pipeline, []);
}

/** A piece or a line the main thread decoded itself, waiting for its turn. */
interface Item {
  readonly stage: PieceStage;
  /** File offset of its first byte. */
  readonly start: number;
  readonly seq: number;
  /** A line decoded on the main thread (a partial last line, an oversize line's head). */
  readonly line?: string;
  /** A piece: the worker and setup it went to, and the answer once it came. */
  readonly worker?: WorkerSlot;
  readonly setup?: number;
  result?: PieceCounts;
}

interface WorkerSlot {
  readonly index: number;
  /** undefined: the main thread's own shares (`local`). */
  readonly worker: Worker | undefined;
  /** Pieces sent, answered in this order. */
  readonly waiting: Item[];
  /** Per setup: the main thread's slot for each of the share's slot ids. */
  readonly slots: object[][];
}

/** The splitter of a threaded file: complete lines leave as a piece instead of being decoded here. */
class PieceSplitter extends LineSplitter {
  constructor(
    maxLineBytes: number,
    private readonly stage: PieceStage,
    onTruncated: () => void,
  ) {
    super(maxLineBytes, stage.push, onTruncated);
  }

  protected override split(start: number, last: number): void {
    // Its own ArrayBuffer (not Node's pool, not zero-filled), transferable.
    const piece = Buffer.allocUnsafeSlow(last + 1 - start);
    this.buf.copy(piece, 0, start, last + 1);
    // In commit(), buf[0] is at file offset `consumed` (no oversize line is being skipped when split runs).
    this.stage.piece(this.consumed + start, piece.buffer as ArrayBuffer);
  }
}

/** One file's pieces and lines on their way through the threads, in order. */
class PieceStage implements Stage {
  /** Its items not yet added, oldest first. */
  readonly pending: Item[] = [];

  constructor(
    private readonly threads: DaemonThreads,
    readonly setup: number,
    readonly handler: LineHandler,
  ) {}

  readonly push = (line: string, start: number): void => {
    this.threads.enqueue(this, start, line);
  };

  piece(start: number, bytes: ArrayBuffer): void {
    this.threads.send(this, start, bytes);
  }

  heldFrom(): number {
    return this.pending.length > 0 ? this.pending[0]!.start : Infinity;
  }

  /** Answers are taken as they come; nothing is handed over early. */
  flush(): void {}

  tick(): void {}

  async settle(): Promise<void> {
    while (this.pending.length > 0 && this.threads.failure === undefined) await this.threads.next();
  }

  backlog(): Promise<void> | undefined {
    return this.threads.backlogged() ? this.threads.next() : undefined;
  }
}

export class DaemonThreads {
  private readonly workers: WorkerSlot[];
  /** The main thread's own shares, one per setup, made when first needed (every worker busy). */
  private readonly local: WorkerSlot;
  private readonly localShares: Array<TrackedShare | undefined> = [];
  /** Every item in flight, in the order cut (across files). */
  private readonly queue: Item[] = [];
  private seq = 0;
  private readonly setups: Array<{ source: InputConfig['source']; maxLineBytes: number }> = [];
  /** The rules, read once here and handed to every share (ShareSetup.rules): a worker reads no YAML. */
  private readonly rules: readonly RuleSource[];
  private wakers: Array<() => void> = [];
  private closing = false;
  /** Set once a worker died: nothing more is added, what is held stays held. */
  failure: Error | undefined;
  /** Resolves with the first worker's death (never otherwise). */
  readonly failed: Promise<Error>;
  private onFailure!: (err: Error) => void;

  /**
   * Threads for the inputs that can use them (said once for each that cannot); undefined when none can.
   * `threads` counts the main thread: N - 1 workers (`workers` given: that many; 0, the in-process
   * tests': every piece through the main thread's own share).
   */
  static start(pipeline: Pipeline, log: Logger, workers = pipeline.config.pipeline.threads - 1): DaemonThreads | undefined {
    const config = pipeline.config;
    const threads = workers + 1;
    const usable: InputConfig[] = [];
    for (const [i, input] of config.inputs.entries()) {
      const why = daemonThreadsUnusable(config, input, pipeline);
      if (why === undefined) usable.push(input);
      else log.info(`pipeline.threads: input parsed on one thread (${why})`, { input: input.name ?? `${input.type}-${i}`, threads });
    }
    if (usable.length === 0) return undefined;
    log.info('pipeline.threads: order-free lines of file inputs parsed in worker threads', { threads, workers: threads - 1 });
    return new DaemonThreads(pipeline, workers, usable);
  }

  private constructor(
    private readonly pipeline: Pipeline,
    workers: number,
    private readonly usable: readonly InputConfig[],
  ) {
    this.rules = ruleSources(pipeline.config);
    for (const input of usable) {
      if (!this.setups.some((s) => s.source === input.source && s.maxLineBytes === input.max_line_bytes)) {
        this.setups.push({ source: input.source, maxLineBytes: input.max_line_bytes });
      }
    }
    this.failed = new Promise((resolve) => (this.onFailure = resolve));
    const data: DaemonWorkerData = { config: pipeline.config, trafficSource: pipeline.trafficSource, setups: this.setups, rules: this.rules };
    this.workers = Array.from({ length: workers }, (_, index) => {
      const worker = new Worker(WORKER_URL, { workerData: data });
      const slot: WorkerSlot = { index, worker, waiting: [], slots: this.setups.map(() => []) };
      worker.on('message', (r: PieceCounts) => {
        const item = slot.waiting.shift();
        if (item === undefined) return;
        item.result = r;
        this.drain();
      });
      worker.on('error', (err) => this.fail(new Error(`worker thread ${index + 1} failed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`worker thread ${index + 1} exited (code ${code})`));
      });
      return slot;
    });
    this.local = { index: -1, worker: undefined, waiting: [], slots: this.setups.map(() => []) };
  }

  /** The line path of a file of `input`, or undefined when the input stays on the main thread. */
  linePathFor(input: InputConfig): ((config: InputConfig, handler: LineHandler, registry: MetricRegistry) => LinePath) | undefined {
    if (!this.usable.includes(input)) return undefined;
    const setup = this.setups.findIndex((s) => s.source === input.source && s.maxLineBytes === input.max_line_bytes);
    return (config, handler, registry) => {
      const truncated = registry.counter('quay_log_exporter_lines_truncated_total').at();
      const stage = new PieceStage(this, setup, handler);
      const splitter = new PieceSplitter(config.max_line_bytes, stage, () => {
        truncated.value++;
      });
      return { splitter, stages: [stage] };
    };
  }

  /** Whether every worker has its fill of pieces. */
  full(): boolean {
    return this.workers.every((w) => w.waiting.length >= PIECES_PER_WORKER);
  }

  /** Whether the reader should wait before reading more. */
  backlogged(): boolean {
    return this.queue.length >= MAX_QUEUED && this.failure === undefined;
  }

  /** Resolves at the next answer taken (or a worker's death). */
  next(): Promise<void> {
    if (this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.wakers.push(resolve));
  }

  send(stage: PieceStage, start: number, bytes: ArrayBuffer): void {
    if (this.full() && this.failure === undefined) {
      // Every worker busy: the main thread parses this piece itself (its answer waits its turn like a worker's).
      const share = (this.localShares[stage.setup] ??= new TrackedShare({ config: this.pipeline.config, trafficSource: this.pipeline.trafficSource, rules: this.rules, ...this.setups[stage.setup]! }));
      const item: Item = { stage, start, seq: this.seq++, worker: this.local, setup: stage.setup };
      item.result = share.piece(new Uint8Array(bytes), item.seq);
      this.queue.push(item);
      stage.pending.push(item);
      this.drain();
      return;
    }
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.waiting.length < best.waiting.length) best = w;
    const item: Item = { stage, start, seq: this.seq++, worker: best, setup: stage.setup };
    this.queue.push(item);
    stage.pending.push(item);
    // After a worker died nothing is sent: the piece stays held, its offset unsaved.
    if (this.failure !== undefined) return;
    best.waiting.push(item);
    const message: DaemonPiece = { setup: stage.setup, seq: item.seq, bytes };
    best.worker!.postMessage(message, [bytes]);
  }

  enqueue(stage: PieceStage, start: number, line: string): void {
    const item: Item = { stage, start, seq: this.seq++, line };
    this.queue.push(item);
    stage.pending.push(item);
    this.drain();
  }

  /** Takes every item at the head of the queue that is ready, in order. */
  private drain(): void {
    if (this.failure !== undefined) return;
    const queue = this.queue;
    let taken = false;
    while (queue.length > 0) {
      const item = queue[0]!;
      if (item.line !== undefined) item.stage.handler(item.line);
      else if (item.result !== undefined) this.add(item);
      else break;
      queue.shift();
      item.stage.pending.shift();
      taken = true;
    }
    if (taken) this.wake();
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const resolve of w) resolve();
  }

  /** A piece's answer into the main registry: its new series where they were born among its handed-back lines, then its counts. */
  private add(item: Item): void {
    const r = item.result!;
    const registry = this.pipeline.registry;
    const slots = item.worker!.slots[item.setup!]!;
    const fresh = r.fresh;
    let f = 0;
    const admitBefore = (position: number): void => {
      for (; f < fresh.names.length && fresh.born[f]! < position; f++) {
        const family = registry.definedCounter(fresh.names[f]!) as unknown as { at(...values: string[]): object };
        slots[fresh.first + f] = family.at(...fresh.labels[f]!);
      }
    };
    if (r.count > 0) {
      const handler = item.stage.handler;
      const base = r.seq * LINE_BITS;
      const lines = r.count === 1 ? [r.lines] : r.lines.split('\n');
      for (let i = 0; i < lines.length; i++) {
        admitBefore(base + r.at[i]!);
        handler(lines[i]!);
      }
    }
    admitBefore(Infinity);
    const { ids, values } = r.counters;
    for (let k = 0; k < ids.length; k++) (slots[ids[k]!] as ValueSlot).value += values[k]!;
    const h = r.histograms;
    let o = 0;
    for (let k = 0; k < h.ids.length; k++) {
      const s = slots[h.ids[k]!] as HistogramSlot;
      addHistogramData(s, h.data, o);
      o += s.counts.length + 5;
    }
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.wake();
    this.onFailure(err);
  }

  /** Pieces and lines held unsaved (after a worker died: never to be added). */
  get held(): number {
    return this.queue.length;
  }

  /** After the inputs stopped (everything settled): the workers end. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker!.terminate()));
  }
}

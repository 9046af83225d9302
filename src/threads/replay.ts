/**
 * `replay --threads N` (N > 1): the main thread reads each file in big
 * chunks and cuts them at their last newline into pieces of whole lines,
 * which go (as transferred bytes, no per-line messages) to N worker threads.
 * A worker records the order-free lines of its piece into its own share of
 * the series and sends back the rest; the main thread puts those through the
 * ordinary router in piece order, so mirror attempts, GC runs and every
 * other per-stream state see their lines exactly as one thread would. At the
 * end the shares are added into the main registry (merge.ts).
 *
 * Used only where that gives the same numbers (threadsUnusable says why not
 * otherwise); N = 1 never comes here: it is replay's one-thread path.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Config, InputConfig } from '../config/schema.js';
import { readChunks } from '../inputs/replay.js';
import { LineSplitter } from '../inputs/splitter.js';
import type { LineHandler } from '../inputs/types.js';
import type { Pipeline } from '../pipeline.js';
import { PROGRAM_SOURCES } from '../quay/router.js';
import { resolveTrafficSource, type TrafficSource } from '../quay/traffic.js';
import { ruleSources } from '../rules/index.js';
import { mergeShares } from './merge.js';
import { SharePool } from './pool.js';
import { LINE_BITS, ORDER_FREE_SOURCES, OrderFreeShare, type PieceResult, type ShareSetup } from './share.js';

const NL = 10;
/**
 * Largest piece handed to a share. A worker's handed-back lines (~15% of a piece) come back as one
 * string: from a 1 MiB piece that is ~150 KB, over V8's 128 KiB limit for the young generation, so
 * each went to the large-object space and stayed there until a full GC (main thread's heap 20 MB
 * larger than one thread's). From 256 KiB pieces it is ~40 KB and dies young.
 */
const PIECE_BYTES = 256 << 10;
/** Pieces sent to a worker before the main thread parses the next one itself: one being parsed, the rest waiting (1 MiB). */
const PIECES_PER_WORKER = 4;
/**
 * Pieces whose handed-back lines may wait for an earlier piece before reading stops to catch up (3 MiB).
 * What waits is held in the main thread's heap (a piece parsed here keeps its decoded text through its
 * handed-back lines): 32 pieces (8 MiB) peaked ~5 MB higher, at the same CPU.
 */
const MAX_QUEUED = 12;

/** Below this many bytes in all, the default (`--threads` not given) stays on one thread: starting workers costs more. */
export const AUTO_THREADS_MIN_BYTES = 8 << 20;

/** Why these files and this config cannot be split over threads with the same result; undefined when they can. */
export function threadsUnusable(config: Config, input: InputConfig, pipeline: Pipeline, files: readonly string[]): string | undefined {
  const why = threadsUnusableByConfig(config, input, files);
  if (why !== undefined) return why;
  if (pipeline.events.active) return 'events are written (outputs.influxdb.events) in line order';
  const programs = new Set(Object.entries(PROGRAM_SOURCES).filter(([, s]) => ORDER_FREE_SOURCES.has(s)).map(([p]) => p));
  for (const rule of pipeline.rules.rules) {
    if (!rule.programs.some((p) => programs.has(p)) && !rule.sources.some((s) => ORDER_FREE_SOURCES.has(s as never))) continue;
    for (const m of rule.metrics) {
      if (m.type === 'gauge') return `rule ${rule.name} sets a gauge (the last line wins: an order)`;
      const v = m.value;
      if (m.type === 'counter' && v !== undefined && !(v.kind === 'const' || (v.kind === 'group' && v.type === 'int'))) {
        return `rule ${rule.name} adds fractional numbers to a counter (their sum depends on order)`;
      }
    }
  }
  return undefined;
}

/** The reasons threadsUnusable can tell from the config alone, before any pipeline is built (startReplayWorkers). */
function threadsUnusableByConfig(config: Config, input: InputConfig, files: readonly string[]): string | undefined {
  if (files.includes('-')) return 'stdin is read on one thread';
  if (input.source !== 'supervisord' && !ORDER_FREE_SOURCES.has(input.source)) return `source ${input.source} is order-dependent throughout`;
  if (input.framing !== 'raw') return `framing ${input.framing} joins partial lines in order`;
  if (input.multiline) return 'multiline joins lines in order';
  if (config.limits.pod_label !== false) return 'limits.pod_label';
  if (config.outputs.influxdb?.events.enabled) return 'events are written (outputs.influxdb.events) in line order';
  return undefined;
}

/**
 * The threads a replay asks for (`--threads`, else the cores there are once the files hold
 * AUTO_THREADS_MIN_BYTES), before the config's rules are known: 1 when it will surely be one.
 */
export async function threadsAsked(config: Config, input: InputConfig, files: readonly string[], threads: number | undefined): Promise<number> {
  const asked = threads ?? availableParallelism();
  if (asked <= 1 || threadsUnusableByConfig(config, input, files) !== undefined) return 1;
  if (threads === undefined && (await totalBytes(files)) < AUTO_THREADS_MIN_BYTES) return 1;
  return asked;
}

/**
 * The workers of a replay, started as soon as the config is known: a worker's start-up (module
 * loading, patterns, rules) then runs on the other core while the main thread checks the
 * config and builds its pipeline. Undefined when the replay will surely run on one thread. What
 * a worker needs from the pipeline (the traffic source) is resolved from the config the same way.
 */
export async function startReplayWorkers(config: Config, input: InputConfig, files: readonly string[], threads: number | undefined): Promise<SharePool | undefined> {
  const n = await threadsAsked(config, input, files, threads);
  if (n <= 1) return undefined;
  return new SharePool(n - 1, shareSetup(config, input, resolveTrafficSource(config, [input.source])));
}

function shareSetup(config: Config, input: InputConfig, trafficSource: TrafficSource): ShareSetup {
  return { config, source: input.source, trafficSource, maxLineBytes: input.max_line_bytes, rules: ruleSources(config) };
}

/** Total size of the files, for the default's threshold. */
export async function totalBytes(files: readonly string[]): Promise<number> {
  let n = 0;
  // A file that cannot be read counts 0 here: the one-thread path then says why, as it always did.
  for (const f of files) n += (await stat(f).catch(() => undefined))?.size ?? 0;
  return n;
}

/** The main thread's splitter: the complete-line ranges go out as pieces instead of being decoded here. */
class PieceSplitter extends LineSplitter {
  constructor(
    maxLineBytes: number,
    sink: (line: string) => void,
    onTruncated: () => void,
    private readonly onPiece: (bytes: ArrayBuffer) => void,
  ) {
    super(maxLineBytes, sink, onTruncated);
  }

  protected override split(start: number, last: number): void {
    const buf = this.buf;
    while (last - start >= PIECE_BYTES) {
      const cut = buf.lastIndexOf(NL, start + PIECE_BYTES - 1);
      if (cut < start) break; // one line longer than a piece: it goes whole
      this.piece(start, cut);
      start = cut + 1;
    }
    this.piece(start, last);
  }

  private piece(start: number, last: number): void {
    // Not zero-filled, and not from Node's shared pool: its own ArrayBuffer, transferable.
    const piece = Buffer.allocUnsafeSlow(last + 1 - start);
    this.buf.copy(piece, 0, start, last + 1);
    this.onPiece(piece.buffer as ArrayBuffer);
  }
}

export interface ThreadedReplay {
  readonly files: readonly string[];
  readonly input: InputConfig;
  readonly pipeline: Pipeline;
  /** The stream a file's lines go to (replay.ts). */
  readonly handlerOf: (file: string) => LineHandler;
  readonly threads: number;
  /** Workers started earlier (startReplayWorkers), threads - 1 of them; else they are started here. Closed at the end either way. */
  readonly workers?: SharePool;
}

export async function replayThreaded(r: ThreadedReplay): Promise<void> {
  const { input, pipeline } = r;
  const registry = pipeline.registry;
  const setup = shareSetup(pipeline.config, input, pipeline.trafficSource);
  // N threads parse: N - 1 workers, and the main thread's own share, used when every worker is busy.
  // (N workers beside a reading main thread cost a worker's start-up and warm-up more, for a main thread mostly idle.)
  const pool = r.workers ?? new SharePool(r.threads - 1, setup);
  const local = new OrderFreeShare(setup);
  // Birth of every slot the main thread makes from here on (merge.ts).
  const born = new Map<object, number>();
  let position = -1;
  registry.onSlot = (_metric, slot) => born.set(slot, position);
  const truncated = registry.counter('quay_log_exporter_lines_truncated_total').at();
  const bytesIn = registry.counter('quay_log_exporter_input_bytes_total').at(input.name ?? 'replay');
  let seq = 0;
  try {
    for (const file of r.files) {
      const handler = r.handlerOf(file);
      // In piece order: a result, or a worker's answer still to come (`result` is set when it comes).
      const queue: Array<{ result?: PieceResult; pending?: Promise<PieceResult> }> = [];
      const nextResult = async (): Promise<PieceResult> => {
        const item = queue.shift()!;
        return item.result ?? (await item.pending!);
      };
      const finish = (p: PieceResult): void => {
        if (p.count === 0) return;
        const base = p.seq * LINE_BITS;
        const lines = p.count === 1 ? [p.lines] : p.lines.split('\n');
        for (let i = 0; i < lines.length; i++) {
          position = base + p.at[i]!;
          handler(lines[i]!);
        }
      };
      // A line the main thread decodes itself (an oversize line's head, the last line without a newline) keeps its place too.
      const sp = new PieceSplitter(
        input.max_line_bytes,
        (line) => queue.push({ result: { seq: seq++, lines: line, count: 1, at: Int32Array.of(0) } }),
        () => {
          truncated.value++;
        },
        (bytes) => {
          if (!pool.hasRoom(PIECES_PER_WORKER)) {
            queue.push({ result: local.piece(new Uint8Array(bytes), seq++) });
            return;
          }
          const item: { result?: PieceResult; pending?: Promise<PieceResult> } = {};
          // Awaited in turn below, a failure is thrown there, not left unhandled.
          item.pending = pool.piece(seq++, bytes).then((r) => (item.result = r));
          item.pending.catch(() => {});
          queue.push(item);
        },
      );
      for await (const chunk of readChunks(file)) {
        bytesIn.value += chunk.length;
        sp.write(chunk);
        // Lines handed back are put through in order as soon as their piece is done.
        while (queue.length > 0 && (queue.length > MAX_QUEUED || queue[0]!.result !== undefined)) finish(await nextResult());
      }
      sp.flushPartial();
      while (queue.length > 0) finish(await nextResult());
    }
    position = -1;
    mergeShares(registry, (slot) => born.get(slot) ?? -1, [local.snapshot(), ...(await pool.finish())]);
  } finally {
    registry.onSlot = undefined;
    await pool.close();
  }
}

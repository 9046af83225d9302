/**
 * One share of the order-free counting: what a worker thread runs on the
 * pieces of a file it is handed. A piece is whole lines (bytes ending in a
 * newline); the share splits them as the input's splitter would (same
 * truncation, same CR handling), and of each line either
 *  - records it here, when it is order-free: nginx and gunicorn lines (the
 *    access logs, ~85% of a Quay log), their rules and lines_total; or
 *  - hands it back, with its index in the piece, for the main thread to put
 *    through the ordinary router in piece order (mirror attempts per pid, GC
 *    runs, supervisord's and the start-up script's lines, other programs).
 * Every slot this share makes is stamped with the position of the line that
 * made it, so the main thread can merge the shares in the order one thread
 * would have made the series (merge.ts): same series, same cap, same bytes.
 */
import type { Config, InputSource } from '../config/schema.js';
import { EventBus } from '../events.js';
import { prefixEnd, textStartAfter } from '../formats/supervisord.js';
import { LineSplitter } from '../inputs/splitter.js';
import type { Logger } from '../log.js';
import { MetricRegistry, type ValueSlot } from '../metrics/series.js';
import { PatternLibrary } from '../grok/index.js';
import { GunicornParser } from '../quay/gunicorn.js';
import { NginxParser } from '../quay/nginx.js';
import { createRouter, PROGRAM_SOURCES, type Parsers } from '../quay/router.js';
import { TrafficRecorder, type TrafficSource } from '../quay/traffic.js';
import { ANONYMOUS_STREAM, type ParserContext, type ParserStream, type SourceParser } from '../quay/types.js';
import { compileRules, type RuleSource } from '../rules/compile.js';
import { RuleSet, type RuleTable } from '../rules/engine.js';
import { parseZoneOffset } from '../quay/time.js';
import { snapshotRegistry, type RegistrySnapshot } from './merge.js';

/** Sources whose every line is order-free: an input of that source is wholly shared out. */
export const ORDER_FREE_SOURCES: ReadonlySet<InputSource> = new Set<InputSource>(['nginx', 'gunicorn']);

/** What the main thread needs to build a share: the config and what it resolved from it. */
export interface ShareSetup {
  readonly config: Config;
  readonly source: InputSource;
  readonly trafficSource: TrafficSource;
  readonly maxLineBytes: number;
  /**
   * The config's rules with the shipped ones (rules/index.ts ruleSources(config)), read by the main
   * thread: a worker compiles them without loading the YAML reader and the config schema (~0.1 s of
   * a worker's start-up, and its memory).
   */
  readonly rules: readonly RuleSource[];
}

/** The lines of a piece the share did not record, for the main thread, in order. */
export interface PieceResult {
  /** Position (see merge.ts) of the piece, as given. */
  readonly seq: number;
  /** The lines, joined by "\n" ('' when none: `count` tells one empty line from none). */
  readonly lines: string;
  readonly count: number;
  /** Each line's index among the piece's lines. */
  readonly at: Int32Array;
}

/**
 * Series a share holds per metric before it folds on its own: the schema's
 * largest max_series_per_metric. Past it (a file with over a million distinct
 * label sets of one metric) a share folds what the whole might have admitted.
 */
export const SHARE_SERIES_BOUND = 1_000_000;

/**
 * Positions per piece: a line's position is piece × LINE_BITS + its index in the piece. A piece is
 * at most max_line_bytes + 1 ≤ 64 MiB + 1 bytes, so fewer lines than this; 2^53 / 2^27 pieces is plenty.
 */
export const LINE_BITS = 2 ** 27;

interface ProgramRoute {
  readonly parser: SourceParser;
  readonly lines: readonly [ValueSlot, ValueSlot, ValueSlot];
  readonly rules: RuleTable | undefined;
  readonly program: string;
}

/** As pipeline.ts loadPatterns (not imported from there: that module loads every output, which a worker never needs). */
function loadPatterns(config: Config): PatternLibrary {
  const lib = PatternLibrary.bundled();
  for (const file of config.grok.pattern_files) lib.loadFile(file);
  for (const [name, regex] of Object.entries(config.grok.patterns)) lib.define(name, regex, `config grok.patterns.${name}`);
  return lib;
}

const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

export class OrderFreeShare {
  readonly registry: MetricRegistry;
  private readonly splitter: LineSplitter;
  /** Position of the line being recorded; slots made now are stamped with it. */
  private position = -1;
  private readonly born = new Map<object, number>();
  private lineIndex = 0;
  private seq = 0;
  private kept: string[] = [];
  private keptAt: number[] = [];

  constructor(setup: ShareSetup) {
    const { config, source } = setup;
    // Its own registry, folding nothing below SHARE_SERIES_BOUND: whether a series is past the cap
    // depends on the lines of every share before it, so only the merge can tell (merge.ts).
    this.registry = new MetricRegistry(SHARE_SERIES_BOUND);
    const grok = loadPatterns(config);
    const events = new EventBus(); // no sinks: threads are only used while no events are written (eligibility.ts)
    // As createRuleSet (rules/index.ts) builds it, from the sources the main thread read.
    const rules = new RuleSet(compileRules(setup.rules, grok, this.registry, '(config)'), grok, events, parseZoneOffset(config.python_log_timezone));
    const ctx: ParserContext = { config, registry: this.registry, events, grok, log: QUIET };
    const traffic = new TrafficRecorder(this.registry, config, events);
    const nginx = new NginxParser(ctx, setup.trafficSource === 'nginx' ? traffic : undefined);
    const gunicorn = new GunicornParser(ctx, setup.trafficSource === 'gunicorn' ? traffic : undefined);
    let handle: (line: string) => void;
    if (source === 'supervisord') {
      handle = this.supervisordHandler(nginx, gunicorn, rules);
    } else {
      if (!ORDER_FREE_SOURCES.has(source)) throw new Error(`source ${source} is not order-free`);
      const parsers = { nginx, gunicorn } as unknown as Parsers;
      handle = createRouter(source, parsers, this.registry, undefined, rules).open(ANONYMOUS_STREAM).line;
    }
    this.registry.onSlot = (_metric, slot) => this.born.set(slot, this.position);
    const truncated = this.registry.counter('quay_log_exporter_lines_truncated_total').at();
    this.splitter = new LineSplitter(
      setup.maxLineBytes,
      (line) => {
        this.position = this.seq + this.lineIndex;
        handle(line);
        this.lineIndex++;
      },
      () => {
        truncated.value++;
      },
    );
  }

  /** The supervisord stream: nginx and gunicorn programs here, everything else handed back. */
  private supervisordHandler(nginx: SourceParser, gunicorn: SourceParser, rules: RuleSet): (line: string) => void {
    const lines = this.registry.counter('quay_log_exporter_lines_total');
    const routes = new Map<string, ProgramRoute>();
    for (const [program, src] of Object.entries(PROGRAM_SOURCES)) {
      if (src !== 'nginx' && src !== 'gunicorn') continue;
      routes.set(program, {
        parser: src === 'nginx' ? nginx : gunicorn,
        lines: [lines.at(src, 'matched'), lines.at(src, 'unmatched'), lines.at(src, 'ignored')],
        rules: rules.forProgram(program),
        program,
      });
    }
    const stream: ParserStream = { info: ANONYMOUS_STREAM };
    return (line) => {
      const end = prefixEnd(line);
      const route = end < 0 ? undefined : routes.get(line.slice(0, end));
      if (route === undefined) {
        this.kept.push(line);
        this.keptAt.push(this.lineIndex);
        return;
      }
      const start = textStartAfter(line, end);
      const result = route.parser.parse(line, start, stream);
      if (route.rules !== undefined) route.rules.apply(line, start, result === 0, route.program, ANONYMOUS_STREAM);
      route.lines[result].value++;
    };
  }

  /** Record a piece (whole lines); `seq` is its place in the file. */
  piece(bytes: Uint8Array, seq: number): PieceResult {
    this.seq = seq * LINE_BITS;
    this.lineIndex = 0;
    this.kept = [];
    this.keptAt = [];
    const sp = this.splitter;
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(sp.space, bytes.length - off);
      sp.buf.set(bytes.subarray(off, off + n), sp.fill);
      off += n;
      sp.commit(n);
    }
    // A piece ends in a newline; anything left is a bug upstream, not a line to keep for the next piece.
    sp.flushPartial();
    return { seq, lines: this.kept.join('\n'), count: this.kept.length, at: Int32Array.from(this.keptAt) };
  }

  /** Position of the line being recorded now (daemon.ts: where a slot made now was born). */
  get linePosition(): number {
    return this.position;
  }

  /** Every slot this share holds, with the position it was born at. */
  snapshot(): RegistrySnapshot {
    return snapshotRegistry(this.registry, (slot) => this.born.get(slot) ?? -1);
  }
}

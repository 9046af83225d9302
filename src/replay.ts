/**
 * `replay`: read whole files (or stdin) from start to end through the same
 * inputs code, parsers and outputs as `run`, then print the metrics: the
 * Prometheus text is exactly what a scrape of /metrics would return. With an
 * InfluxDB output configured, the events and one final metrics export are
 * written there: that is how a day of logs is backfilled.
 */
import { availableParallelism } from 'node:os';
import { inputSchema, type Config, type InputConfig, type InputSource } from './config/schema.js';
import { replayStream } from './inputs/replay.js';
import { podOfPath } from './inputs/kubernetes.js';
import type { LineHandler } from './inputs/types.js';
import type { Logger } from './log.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';
import { preflight } from './preflight.js';
import type { SharePool } from './threads/pool.js';
import { replayThreaded, startReplayWorkers, threadsAsked, threadsUnusable } from './threads/replay.js';

export interface ReplayOptions {
  readonly files: readonly string[];
  readonly format: 'prometheus' | 'json';
  /** Overrides the first configured input's source (default supervisord). */
  readonly source?: InputSource;
  readonly framing?: InputConfig['framing'];
  readonly log: Logger;
  readonly write: (text: string) => Promise<void>;
  /**
   * Threads that parse (`--threads`): 1 is the one-thread path; more split the
   * order-free lines over worker threads (src/threads). Undefined: the cores
   * there are, once the files are big enough to pay for starting workers.
   */
  readonly threads?: number;
  /** The pipeline to replay through, built with replayPipelineOptions (preflight's); else replay builds it. */
  readonly pipeline?: Pipeline;
  /** Worker threads started before the pipeline (startReplayWorkers); replay uses or closes them. */
  readonly workers?: SharePool;
}

/** Framing, multi-line and limits of the first configured input, else the defaults. */
export function replayInputConfig(config: Config, options: Pick<ReplayOptions, 'source' | 'framing'>): InputConfig {
  const base = config.inputs[0] ?? inputSchema.parse({ type: 'stdin', name: 'replay' });
  return { ...base, source: options.source ?? base.source, framing: options.framing ?? base.framing };
}

/** The options of a replay's pipeline. Records out are for `run`: replay's stdout is the metrics. */
export function replayPipelineOptions(config: Config, options: Pick<ReplayOptions, 'source' | 'framing' | 'log'>): PipelineOptions {
  return { log: options.log, extraSources: [replayInputConfig(config, options).source], records: false };
}

/**
 * The `replay` command: its workers start first (their start-up runs on the other core meanwhile),
 * then the config is checked by building the replay's own pipeline (preflight: one build, grok
 * compiled once), then the files are replayed.
 */
export async function replayCommand(config: Config, origin: string, options: Omit<ReplayOptions, 'pipeline' | 'workers'>): Promise<Pipeline> {
  const input = replayInputConfig(config, options);
  const workers = await startReplayWorkers(config, input, options.files, options.threads);
  try {
    const pipeline = await preflight(config, origin, replayPipelineOptions(config, options));
    return await replay(config, { ...options, pipeline, workers });
  } finally {
    await workers?.close();
  }
}

export async function replay(config: Config, options: ReplayOptions): Promise<Pipeline> {
  const input = replayInputConfig(config, options);
  const pipeline = options.pipeline ?? (await Pipeline.create(config, replayPipelineOptions(config, options)));
  const influx = pipeline.influx;
  // Files are read one after the other, so most are pieces of one log (quay.log.1, quay.log):
  // one stream. A container's log (a Kubernetes path) is a stream of its own, its rotated
  // pieces included; streams are not ended: the log stops, its writer did not.
  const streams = new Map<string, LineHandler>();
  const handlerOf = (file: string): LineHandler => {
    const pod = podOfPath(file);
    if (pod === undefined) return pipeline.handler(input.source);
    const id = `container:${pod.namespace}/${pod.pod}/${pod.container}`;
    let h = streams.get(id);
    if (h === undefined) streams.set(id, (h = pipeline.openStream(input.source, { id, pod: pod.pod, namespace: pod.namespace }).line));
    return h;
  };
  const threads = await threadsFor(config, input, pipeline, options);
  if (threads > 1) {
    await replayThreaded({ files: options.files, input, pipeline, handlerOf, threads, workers: options.workers });
  } else {
    await options.workers?.close(); // started for a config whose rules turned out to need one thread
    for (const file of options.files) {
      await replayStream(file, input, {
        handler: handlerOf(file),
        registry: pipeline.registry,
        log: options.log,
        // A backfill waits for InfluxDB rather than dropping event points.
        pause: influx ? () => influx.backpressure() : undefined,
      });
    }
  }
  const text =
    options.format === 'json' ? JSON.stringify(await pipeline.prometheus.json(), null, 2) + '\n' : await pipeline.prometheus.exposition();
  await options.write(text);
  await pipeline.shutdown();
  const lost = influx?.lost() ?? 0;
  if (lost > 0) throw new ReplayLossError(lost);
  return pipeline;
}

/** How many threads to parse with: 1 unless more give the very same numbers (threadsUnusable), said once when asked for and not used. */
async function threadsFor(config: Config, input: InputConfig, pipeline: Pipeline, options: ReplayOptions): Promise<number> {
  const asked = options.threads ?? availableParallelism();
  if (asked <= 1) return 1;
  const why = threadsUnusable(config, input, pipeline, options.files);
  if (why !== undefined) {
    // Said when asked for (--threads); the default says it only at debug level.
    options.log[options.threads === undefined ? 'debug' : 'info'](`replay: one thread (${why})`, { threads_asked: asked });
    return 1;
  }
  const threads = await threadsAsked(config, input, options.files, options.threads);
  if (threads > 1) options.log.debug('replay: threads', { threads });
  return threads;
}

/** The backfill lost points: the printed metrics are complete, InfluxDB is not. */
export class ReplayLossError extends Error {
  constructor(readonly points: number) {
    super(`replay: ${points} point(s) were not written to InfluxDB (unreachable, refusing, or still queued at shutdown_timeout); the printed metrics are complete, the InfluxDB backfill is not`);
    this.name = 'ReplayLossError';
  }
}

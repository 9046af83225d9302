/**
 * A worker thread of `run` with pipeline.threads: one TrackedShare per kind
 * of input it is sent pieces of (source, max_line_bytes), each piece
 * answered, in the order the pieces came, with its handed-back lines and what
 * it counted (tracked-share.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config, InputSource } from '../config/schema.js';
import type { TrafficSource } from '../quay/traffic.js';
import type { RuleSource } from '../rules/compile.js';
import { TrackedShare, transferables } from './tracked-share.js';

export interface DaemonWorkerData {
  readonly config: Config;
  readonly trafficSource: TrafficSource;
  readonly setups: ReadonlyArray<{ readonly source: InputSource; readonly maxLineBytes: number }>;
  /** The rules, read by the main thread (ShareSetup.rules). */
  readonly rules: readonly RuleSource[];
}

export interface DaemonPiece {
  /** Index in `setups`. */
  readonly setup: number;
  readonly seq: number;
  readonly bytes: ArrayBuffer;
}

const data = workerData as DaemonWorkerData;
const shares = data.setups.map((s) => new TrackedShare({ config: data.config, trafficSource: data.trafficSource, source: s.source, maxLineBytes: s.maxLineBytes, rules: data.rules }));
const port = parentPort!;
port.on('message', (m: DaemonPiece) => {
  const r = shares[m.setup]!.piece(new Uint8Array(m.bytes), m.seq);
  port.postMessage(r, transferables(r));
});

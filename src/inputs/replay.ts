/**
 * `replay`: one file (or stdin) from byte 0 to its end through the same
 * splitter, framing and multi-line code as a followed file. No offsets, no
 * timeouts (time means nothing when reading history at full speed): an event
 * ends at its next non-continuation line, max_lines, or the end of input.
 */
import { open } from 'node:fs/promises';
import type { InputConfig } from '../config/schema.js';
import { buildLinePath, flushStages } from './chain.js';
import { READ_CHUNK } from './splitter.js';
import type { InputDeps, LineHandler } from './types.js';

export interface ReplayDeps extends Pick<InputDeps, 'registry' | 'log'> {
  /** Where this file's lines go (replay.ts picks the stream: one per container, see streamKeyOf). */
  readonly handler: LineHandler;
  /** Called after each chunk; reading waits while it returns a promise (a push output catching up). */
  readonly pause?: () => Promise<void> | undefined;
}

export async function replayStream(pathOrDash: string, config: InputConfig, deps: ReplayDeps): Promise<void> {
  const path = buildLinePath(config, deps.handler, deps.registry);
  const sp = path.splitter;
  const bytes = deps.registry.counter('quay_log_exporter_input_bytes_total').at(config.name ?? 'replay');
  if (pathOrDash === '-') {
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      bytes.value += chunk.length;
      sp.write(chunk);
      await deps.pause?.();
    }
  } else {
    for await (const chunk of readChunks(pathOrDash)) {
      bytes.value += chunk.length;
      sp.write(chunk);
      await deps.pause?.();
    }
  }
  sp.flushPartial();
  flushStages(path);
}

/**
 * A file's bytes, READ_CHUNK at a time. Two buffers: the next read runs in the thread pool while
 * the caller handles this chunk, so the CPU does not sit idle waiting for each read. A chunk is
 * valid only until the next one is asked for (its buffer is read into again).
 */
export async function* readChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let current = Buffer.allocUnsafe(READ_CHUNK);
    let next = Buffer.allocUnsafe(READ_CHUNK);
    let pos = 0;
    let reading = fh.read(current, 0, READ_CHUNK, pos);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      pos += bytesRead;
      reading = fh.read(next, 0, READ_CHUNK, pos);
      yield current.subarray(0, bytesRead);
      [current, next] = [next, current];
    }
  } finally {
    await fh.close();
  }
}

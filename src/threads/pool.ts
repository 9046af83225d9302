/**
 * The worker threads of one replay: pieces go to the worker with the fewest
 * in flight; each worker answers in the order it was sent, so a FIFO of
 * promises per worker is all the bookkeeping. A worker that fails fails the
 * replay (every pending piece is rejected with its error).
 */
import { Worker } from 'node:worker_threads';
import type { RegistrySnapshot } from './merge.js';
import type { PieceResult, ShareSetup } from './share.js';
import type { ToWorker } from './worker.js';

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  readonly waiting: Waiter[];
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * A worker's young generation, MB. V8 lets it grow to 2 x 16 MB semi-spaces (the main thread's
 * does too); a share's objects die young (lines, matches) or live for good (series), so 8 MB
 * scavenges a little more often for the same CPU, and peak RSS of a 2-thread replay fell ~25 MB.
 * Below that (4 MB) more short-lived objects were promoted and the old space grew instead.
 */
const WORKER_YOUNG_GENERATION_MB = 8;

export class SharePool {
  private readonly slots: Slot[];
  private failed: Error | undefined;

  constructor(size: number, setup: ShareSetup) {
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_URL, { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
      const slot: Slot = { worker, waiting: [] };
      worker.on('message', (m: { kind: 'piece'; result: PieceResult } | { kind: 'snapshot'; snapshot: RegistrySnapshot }) => {
        slot.waiting.shift()?.resolve(m.kind === 'piece' ? m.result : m.snapshot);
      });
      const fail = (err: Error) => {
        this.failed ??= err;
        for (const w of slot.waiting.splice(0)) w.reject(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (slot.waiting.length > 0) fail(new Error(`replay worker exited (code ${code}) with ${slot.waiting.length} piece(s) unanswered`));
      });
      return slot;
    });
  }

  get size(): number {
    return this.slots.length;
  }

  private ask<T>(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      slot.waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage(message, transfer);
    });
  }

  /** Whether some worker has fewer than `perWorker` pieces in flight. */
  hasRoom(perWorker: number): boolean {
    return this.slots.some((s) => s.waiting.length < perWorker);
  }

  /** Hands a piece (whole lines) to the least busy worker; `bytes` is transferred, not copied. */
  piece(seq: number, bytes: ArrayBuffer): Promise<PieceResult> {
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.waiting.length < best.waiting.length) best = s;
    return this.ask<PieceResult>(best, { kind: 'piece', seq, bytes }, [bytes]);
  }

  /** Every worker's share of the series, then the workers are gone. */
  async finish(): Promise<RegistrySnapshot[]> {
    try {
      return await Promise.all(this.slots.map((s) => this.ask<RegistrySnapshot>(s, { kind: 'end' })));
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

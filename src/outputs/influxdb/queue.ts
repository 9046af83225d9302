/**
 * The bounded queue between the pipeline and InfluxDB. `push` is O(1) and
 * never touches the network, so the tail loop never waits on InfluxDB.
 *
 * - Batches of `batch_size` points leave every `flush_interval`, or at once
 *   when a full batch is waiting; one request is in flight at a time, so
 *   points arrive in order.
 * - Server down, slow, 5xx or 429: the batch stays at the head and is retried
 *   with exponential backoff (250 ms doubling, capped at `max_retry_delay`).
 * - Queue full: the NEWEST point is dropped and counted, so what was queued
 *   before the outage is written once the server is back.
 * - A 4xx other than 429 will never succeed: the refused points are dropped,
 *   counted and logged, and the queue moves on.
 */
import type { Logger } from '../../log.js';
import type { ValueSlot } from '../../metrics/series.js';
import type { SendResult } from './client.js';

export interface QueueStats {
  readonly written: ValueSlot;
  readonly dropped: ValueSlot;
  readonly errors: ValueSlot;
  readonly queued: ValueSlot;
}

export interface QueueOptions {
  readonly capacity: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxRetryDelayMs: number;
  readonly send: (lines: readonly string[], signal: AbortSignal) => Promise<SendResult>;
  readonly stats: QueueStats;
  readonly log: Logger;
}

const FIRST_RETRY_MS = 250;

export class PointQueue {
  private items: string[] = [];
  private head = 0;
  private inFlight: Promise<void> | undefined;
  private attempt = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private kickPending = false;
  private closed = false;
  private readonly abort = new AbortController();
  /** Drops and failures since the last logged line, so an outage logs twice, not per point. */
  private droppedSinceLog = 0;
  private failing = false;

  constructor(private readonly opts: QueueOptions) {}

  get size(): number {
    return this.items.length - this.head;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.kick(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Enqueue one point. False (and counted as dropped) when the queue is full or closed. */
  push(line: string): boolean {
    if (this.closed || this.size >= this.opts.capacity) {
      this.opts.stats.dropped.value++;
      if (this.droppedSinceLog++ === 0) {
        this.opts.log.warn('influxdb output: queue full, dropping new points', { queue_size: this.opts.capacity, closed: this.closed });
      }
      return false;
    }
    this.items.push(line);
    this.opts.stats.queued.value = this.size;
    // A full batch waiting: send it now rather than at the next tick (deferred, so push stays O(1)).
    if (this.size >= this.opts.batchSize && !this.kickPending) {
      this.kickPending = true;
      setImmediate(() => {
        this.kickPending = false;
        this.kick();
      });
    }
    return true;
  }

  /** Start sending unless a request is in flight or a retry is waiting. */
  private kick(): void {
    if (this.inFlight || this.closed || this.size === 0 || Date.now() < this.retryAt) return;
    this.inFlight = this.drain().finally(() => {
      this.inFlight = undefined;
    });
  }

  /** Send batches until the queue is empty or a batch must wait for a retry. */
  private async drain(): Promise<void> {
    while (this.size > 0 && !this.closed && Date.now() >= this.retryAt) {
      const batch = this.items.slice(this.head, this.head + this.opts.batchSize);
      const result = await this.opts.send(batch, this.abort.signal);
      if (this.closed) return;
      if (result.kind === 'retry') {
        this.opts.stats.errors.value++;
        this.attempt++;
        const delay = Math.min(this.opts.maxRetryDelayMs, FIRST_RETRY_MS * 2 ** Math.min(this.attempt - 1, 20));
        this.retryAt = Date.now() + delay;
        if (!this.failing) {
          this.failing = true;
          this.opts.log.warn('influxdb output: write failed, retrying', { error: result.message, queued: this.size });
        }
        this.retryTimer = setTimeout(() => this.kick(), delay);
        this.retryTimer.unref();
        return;
      }
      this.take(batch.length);
      if (result.kind === 'reject') {
        this.opts.stats.dropped.value += result.dropped;
        this.opts.stats.written.value += batch.length - result.dropped;
        this.opts.log.error('influxdb output: server refused points, dropped', { status: result.status, dropped: result.dropped, error: result.message });
      } else {
        this.opts.stats.written.value += batch.length;
      }
      if (this.failing || this.droppedSinceLog > 0) {
        this.opts.log.info('influxdb output: writing again', { failed_attempts: this.attempt, dropped_while_full: this.droppedSinceLog });
        this.failing = false;
        this.droppedSinceLog = 0;
      }
      this.attempt = 0;
    }
  }

  private take(n: number): void {
    this.head += n;
    // Compact now and then so the array does not grow without end.
    if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.opts.stats.queued.value = this.size;
  }

  /**
   * Send what is queued, retrying as usual, until the queue is empty or
   * `timeoutMs` has passed. Resolves true when everything was written.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.size > 0 && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      if (!this.inFlight) {
        // Waiting for a retry: do not sleep past the deadline.
        if (Date.now() < this.retryAt) {
          await within(undefined, Math.min(this.retryAt - Date.now(), left));
          continue;
        }
        this.kick();
      }
      if (this.inFlight) await within(this.inFlight, left);
    }
    return this.size === 0;
  }

  /** Stop timers and abort a request in flight; what is still queued is counted as dropped. */
  close(): number {
    if (this.closed) return 0;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.abort.abort();
    const lost = this.size;
    if (lost > 0) {
      this.opts.stats.dropped.value += lost;
      this.opts.log.error('influxdb output: shutdown timeout reached, points not written', { dropped: lost });
    }
    this.items = [];
    this.head = 0;
    this.opts.stats.queued.value = 0;
    return lost;
  }
}

/**
 * Wait for `promise` (or just for `ms` when none), at most `ms`. The timer is
 * referenced, so a shutdown flush keeps the process alive until it is done,
 * and cleared, so it never delays the exit after that.
 */
export function within(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, ms));
    promise?.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}

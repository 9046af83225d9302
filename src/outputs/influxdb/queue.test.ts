/**
 * The InfluxDB point queue on its own, with a `send` that answers as the server would (ok, retry,
 * refused): its bounds, batches, backoff and counters, worked out by hand. test/outputs/influxdb.test.ts
 * runs the same queue against a real influxd (outage, refused points); this one runs in a mutation run.
 * Timers are vitest's fake ones: the backoff is checked as the order of sends, never as elapsed time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../log.js';
import type { ValueSlot } from '../../metrics/series.js';
import type { SendResult } from './client.js';
import { PointQueue, within } from './queue.js';

const slot = (): ValueSlot => ({ value: 0, attributes: {} });

function setup(opts: { capacity?: number; batchSize?: number; answers?: SendResult[]; maxRetryDelayMs?: number } = {}) {
  const stats = { written: slot(), dropped: slot(), errors: slot(), queued: slot() };
  const sent: string[][] = [];
  const answers = [...(opts.answers ?? [])];
  const logged: { level: string; msg: string }[] = [];
  const log = createLogger('debug', (l) => {
    const { level, msg } = JSON.parse(l) as { level: string; msg: string };
    logged.push({ level, msg });
  });
  const queue = new PointQueue({
    capacity: opts.capacity ?? 100,
    batchSize: opts.batchSize ?? 10,
    flushIntervalMs: 1000,
    maxRetryDelayMs: opts.maxRetryDelayMs ?? 60_000,
    send: async (lines) => {
      sent.push([...lines]);
      return answers.shift() ?? { kind: 'ok' };
    },
    stats,
    log,
  });
  const counts = () => ({ written: stats.written.value, dropped: stats.dropped.value, errors: stats.errors.value, queued: stats.queued.value });
  return { queue, sent, stats, counts, logged };
}

const RETRY: SendResult = { kind: 'retry', message: 'ECONNREFUSED' };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('PointQueue', () => {
  it('holds at most capacity points: the newest are dropped and counted, one warning per run of drops', () => {
    const { queue, counts, logged } = setup({ capacity: 3, batchSize: 10 });
    // 5 pushed into room for 3: true, true, true, false, false
    expect(['a', 'b', 'c', 'd', 'e'].map((p) => queue.push(p))).toEqual([true, true, true, false, false]);
    expect(queue.size).toBe(3);
    expect(counts()).toEqual({ written: 0, dropped: 2, errors: 0, queued: 3 });
    expect(logged.filter((l) => l.msg.includes('queue full'))).toHaveLength(1);
  });

  it('sends a lone point at the flush interval, a full batch at once; a send drains everything queued, in order', async () => {
    const { queue, sent, counts } = setup({ batchSize: 2 });
    queue.start();
    queue.push('a');
    // 'a' alone is not a full batch: it waits for the 1000 ms interval
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([['a']]);
    expect(counts()).toEqual({ written: 1, dropped: 0, errors: 0, queued: 0 });
    // b, c, d: a full batch waiting, sent on the next turn of the loop; that drain takes [d] too
    for (const p of ['b', 'c', 'd']) queue.push(p);
    expect(counts().queued).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([['a'], ['b', 'c'], ['d']]);
    expect(counts()).toEqual({ written: 4, dropped: 0, errors: 0, queued: 0 });
    queue.close();
  });

  it('one batch less than full waits for the interval; exactly full goes at once', async () => {
    const { queue, sent } = setup({ batchSize: 3 });
    queue.start();
    queue.push('a');
    queue.push('b');
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([]);
    queue.push('c');
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([['a', 'b', 'c']]);
    queue.close();
  });

  it('retries a failed batch after 250 ms, then 500, 1000, capped at max_retry_delay; the batch stays at the head', async () => {
    const { queue, sent, counts, logged } = setup({ batchSize: 2, answers: [RETRY, RETRY, RETRY, RETRY], maxRetryDelayMs: 800 });
    for (const p of ['a', 'b', 'c']) queue.push(p);
    await vi.advanceTimersByTimeAsync(0);
    // first attempt (full batch), failed
    expect(sent).toEqual([['a', 'b']]);
    expect(counts()).toEqual({ written: 0, dropped: 0, errors: 1, queued: 3 });
    // the 2nd attempt waits 250 ms (FIRST_RETRY_MS)
    await vi.advanceTimersByTimeAsync(249);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    // the 3rd 500 ms
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(3);
    // the 4th would wait 1000 ms: capped at 800
    await vi.advanceTimersByTimeAsync(799);
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(4);
    // the 5th (800 ms later) is answered ok: both batches go, in order
    await vi.advanceTimersByTimeAsync(800);
    expect(sent).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b'], ['c']]);
    expect(counts()).toEqual({ written: 3, dropped: 0, errors: 4, queued: 0 });
    // one warning when it started failing, one line when it wrote again
    expect(logged.map((l) => l.msg)).toEqual(['influxdb output: write failed, retrying', 'influxdb output: writing again']);
    queue.close();
  });

  it('the backoff starts again from 250 ms after a success', async () => {
    const { queue, sent } = setup({ batchSize: 1, answers: [RETRY, RETRY, { kind: 'ok' }, RETRY] });
    queue.push('a');
    await vi.advanceTimersByTimeAsync(0); // a: retry
    await vi.advanceTimersByTimeAsync(250); // a: retry
    await vi.advanceTimersByTimeAsync(500); // a: ok
    expect(sent).toEqual([['a'], ['a'], ['a']]);
    queue.push('b');
    await vi.advanceTimersByTimeAsync(0); // b: retry
    expect(sent).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(250); // b again after 250 ms, not 1000
    expect(sent).toEqual([['a'], ['a'], ['a'], ['b'], ['b']]);
    queue.close();
  });

  it('a refused batch is dropped as the server counted it, the rest of that batch written, and the queue moves on', async () => {
    const { queue, sent, counts, logged } = setup({ batchSize: 3, answers: [{ kind: 'reject', status: 400, dropped: 1, message: 'partial write' }] });
    for (const p of ['a', 'b', 'c', 'd']) queue.push(p);
    await vi.advanceTimersByTimeAsync(0);
    // batch [a,b,c]: 1 dropped, 2 written; then [d] written
    expect(sent).toEqual([['a', 'b', 'c'], ['d']]);
    expect(counts()).toEqual({ written: 3, dropped: 1, errors: 0, queued: 0 });
    expect(logged.map((l) => [l.level, l.msg])).toEqual([['error', 'influxdb output: server refused points, dropped']]);
  });

  it('after drops while full, the next written batch says so once', async () => {
    const { queue, logged } = setup({ capacity: 1, batchSize: 5 });
    queue.push('a');
    queue.push('b'); // dropped
    queue.push('c'); // dropped, no second warning
    await queue.flush(1000);
    queue.push('d');
    await queue.flush(1000);
    expect(logged.map((l) => l.msg)).toEqual(['influxdb output: queue full, dropping new points', 'influxdb output: writing again']);
  });

  it('flush sends everything queued (several batches) and says whether it all went', async () => {
    const { queue, sent, counts } = setup({ batchSize: 2 });
    for (const p of ['a', 'b', 'c', 'd', 'e']) queue.push(p);
    await expect(queue.flush(1000)).resolves.toBe(true);
    expect(sent).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(counts()).toEqual({ written: 5, dropped: 0, errors: 0, queued: 0 });
    // nothing queued: true at once, nothing sent
    await expect(queue.flush(0)).resolves.toBe(true);
    expect(sent).toHaveLength(3);
  });

  it('flush waits for a retry within its deadline, and gives up at the deadline', async () => {
    const { queue, sent } = setup({ batchSize: 5, answers: [RETRY, RETRY] });
    queue.push('a');
    // attempt 1 fails; flush waits 250 ms for attempt 2 (fails), then needs 500 ms more: past 600 ms
    const done = queue.flush(600);
    await vi.advanceTimersByTimeAsync(600);
    await expect(done).resolves.toBe(false);
    expect(sent).toEqual([['a'], ['a']]);
    expect(queue.size).toBe(1);
    // a longer one sees attempt 3 succeed
    const again = queue.flush(1000);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(again).resolves.toBe(true);
    expect(sent).toHaveLength(3);
  });

  it('close counts what is still queued as dropped, and refuses points after', () => {
    const { queue, counts, logged } = setup({ batchSize: 10 });
    queue.push('a');
    queue.push('b');
    expect(queue.close()).toBe(2);
    expect(counts()).toEqual({ written: 0, dropped: 2, errors: 0, queued: 0 });
    expect(queue.push('c')).toBe(false);
    // 2 lost at close + 1 refused after it
    expect(counts().dropped).toBe(3);
    // a second close has nothing more to count
    expect(queue.close()).toBe(0);
    expect(logged.map((l) => l.msg)).toEqual(['influxdb output: shutdown timeout reached, points not written', 'influxdb output: queue full, dropping new points']);
  });

  it('close of an empty queue logs nothing; start after close starts no timer', async () => {
    const { queue, sent, logged } = setup();
    expect(queue.close()).toBe(0);
    queue.start();
    expect(vi.getTimerCount()).toBe(0);
    expect(sent).toEqual([]);
    expect(logged).toEqual([]);
  });

  it('keeps order and count across the compaction of its array (4096 points taken)', async () => {
    const { queue, sent, counts } = setup({ capacity: 10_000, batchSize: 4100 });
    for (let i = 0; i < 5000; i++) queue.push(String(i));
    await queue.flush(1000);
    for (let i = 5000; i < 5003; i++) queue.push(String(i));
    expect(queue.size).toBe(3);
    await queue.flush(1000);
    // batches of 4100, 900, then the 3 pushed after: every point once, in order
    expect(sent.map((b) => b.length)).toEqual([4100, 900, 3]);
    expect(sent.flat()).toEqual(Array.from({ length: 5003 }, (_, i) => String(i)));
    expect(counts()).toEqual({ written: 5003, dropped: 0, errors: 0, queued: 0 });
  });
});

describe('within', () => {
  it('resolves when the promise settles, or after ms when it does not', async () => {
    let settled = false;
    const never = within(new Promise(() => {}), 100).then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await never;
    expect(settled).toBe(true);
    // a rejection ends the wait too, and clears the timer
    await within(Promise.reject(new Error('x')), 10_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});

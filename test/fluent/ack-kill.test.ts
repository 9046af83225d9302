/**
 * At-least-once across a crash: @fluent-org/logger sends 100,000 records with
 * acks to the exporter (a real child process), the exporter is SIGKILLed
 * mid-stream and started again on the same port. Every record the client saw
 * acknowledged before the crash was recorded by the first process (an ack is
 * written only after its records were recorded); every other record is sent
 * again, and the second process counts exactly those: nothing lost, and
 * nothing acked counted twice.
 */
import type { EventEmitter } from 'node:events';
import { FluentClient } from '@fluent-org/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, waitFor, type RunningDaemon } from '../helpers/daemon.js';
import { sum } from '../helpers/exposition.js';
import { freePort } from '../helpers/wait.js';

const N = 100_000;
const daemons: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.proc.exitCode === null) await d.stop('SIGKILL');
});

async function exporter(port: number): Promise<RunningDaemon> {
  const d = await startDaemon({ inputs: [{ type: 'forward', name: 'fluent', source: 'nginx', forward: { listen: `127.0.0.1:${port}` } }] });
  daemons.push(d);
  await waitFor('forward listening', () => d.stderr().includes('forward input listening'));
  return d;
}

describe('acks across SIGKILL', () => {
  it('100,000 records: the un-acked ones are sent again and counted once more, none is lost', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const first = await exporter(port);
    const client = new FluentClient('quay', {
      eventMode: 'PackedForward',
      socket: { host: '127.0.0.1', port, reconnect: { delay: 100, backoff: 1.5, maxDelay: 1000 } },
      // long enough that no ack of a live process is ever given up on (which would count a record twice)
      ack: { ackTimeout: 15_000 },
      // a record whose chunk was never acked is emitted again (what Fluent Bit's retry does with a chunk)
      eventRetry: { attempts: 100, delay: 100, backoff: 1.5, maxDelay: 2000 },
      flushInterval: 10,
      sendQueueIntervalFlushLimit: { length: 1000 },
    });
    let resolved = 0;
    let failed = 0;
    const emits: Promise<void>[] = [];
    // paced, 500 records every 5 ms at most (as a tailer would send), so the crash lands mid-stream
    const sending = (async () => {
      for (let i = 0; i < N; i++) {
        emits.push(
          client.emit('nginx', { log: `record ${i}` }).then(
            () => void resolved++,
            () => void failed++,
          ),
        );
        if (i % 500 === 499) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // mid-stream: once some records are acked, kill the exporter without warning
    await waitFor('some acks', () => resolved >= N / 5, 60_000, 1);
    const socket = (client as unknown as { socket: EventEmitter }).socket;
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await first.stop('SIGKILL');
    await closed;
    // every ack of the first process has been read by now: acks come before the connection's end
    const ackedByFirst = resolved;
    expect(ackedByFirst).toBeGreaterThan(0);
    expect(ackedByFirst).toBeLessThan(N);

    const second = await exporter(port);
    await sending;
    await Promise.all(emits);
    await client.disconnect();
    // every emit was acknowledged in the end, by one process or the other
    expect(failed).toBe(0);
    expect(resolved).toBe(N);
    const countedBySecond = await waitFor('second count settled', async () => {
      const n = sum(await second.samples(), 'quay_log_exporter_records_received_total', { input: 'fluent' });
      return n >= N - ackedByFirst ? n : undefined;
    });
    // exactly the records without an ack at the crash were sent again: N − acked = counted after the restart
    expect(countedBySecond).toBe(N - ackedByFirst);
    expect(sum(await second.samples(), 'quay_log_exporter_lines_total', { source: 'nginx' })).toBe(N - ackedByFirst);
  });
});

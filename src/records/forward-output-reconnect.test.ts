/**
 * The forward output's ack_timeout against a reconnect whose handshake is slow: a chunk that was not
 * acked must wait for the new connection to open, not destroy it. The bug this pins (found under CI
 * load): tick() checked ack_timeout on every in-flight chunk while the next connection was still
 * in its handshake, destroyed it, and the next attempt again, so a slow link never came back.
 *
 * The next hop is our own forward input with a shared_key (the real server side of HELO/PING/PONG),
 * behind a loopback proxy that (1) passes HELO and PONG on the first connection but drops its acks,
 * and (2) opens the second connection upstream only after HOLD_MS, so its HELO comes late.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardOutputSchema, inputSchema, type InputConfig } from '../config/schema.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { ForwardInput } from '../inputs/forward/server.js';
import { ForwardOutput } from './forward-output.js';
import { onFrames } from '../../test/helpers/forward-frames.js';

// 20 ack_timeouts: under the old check a 10 ms tick would have destroyed the held connection many times over
const ACK_TIMEOUT_MS = 30;
const HOLD_MS = 600;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`not reached: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function forwardInput() {
  const config: InputConfig = {
    ...inputSchema.parse({ type: 'forward', forward: { listen: '127.0.0.1:0', security: { shared_key: 'hop-key' } } }),
    name: 'hop',
  };
  const lines: string[] = [];
  const input = new ForwardInput(config, {
    open: () => ({ line: (l) => void lines.push(l), end() {} }),
    registry: new MetricRegistry(),
    stateDir: '/nonexistent',
    log: silentLogger,
  });
  await input.start();
  cleanup.push(() => input.stop());
  return { port: input.address!.port, lines };
}

/** Server → client frames of connection 1 after HELO and PONG (the acks) are dropped; connection 2 waits HOLD_MS. */
async function proxy(upstreamPort: number) {
  let connections = 0;
  const sockets: Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const server: Server = createServer((client) => {
    const n = ++connections;
    sockets.push(client);
    const open = () => {
      const upstream = connect(upstreamPort, '127.0.0.1');
      sockets.push(upstream);
      upstream.on('error', () => client.destroy()); // the hop stopped at cleanup while a connection was held
      client.on('error', () => upstream.destroy());
      client.pipe(upstream);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      if (n !== 1) {
        upstream.pipe(client);
        return;
      }
      let frames = 0;
      onFrames(upstream, (frame) => {
        if (++frames <= 2) client.write(frame); // HELO, PONG
      });
    };
    if (n === 1) open();
    else timers.push(setTimeout(open, HOLD_MS));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(async () => {
    for (const t of timers) clearTimeout(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

describe('forward output: ack_timeout during a slow reconnect', () => {
  it('the chunk waits for the held handshake: 2 connections, delivered once, 1 retry', async () => {
    const hop = await forwardInput();
    const p = await proxy(hop.port);
    const registry = new MetricRegistry();
    const out = new ForwardOutput(
      forwardOutputSchema.parse({
        host: '127.0.0.1',
        port: p.port,
        mode: 'Forward',
        batch_records: 1,
        flush_interval: '10ms',
        ack_timeout: `${ACK_TIMEOUT_MS}ms`,
        max_retry_delay: '50ms',
        shutdown_timeout: '1ms',
        security: { shared_key: 'hop-key', self_hostname: 'exporter' },
      }),
      registry,
      silentLogger,
    );
    cleanup.push(() => out.shutdown());
    const counter = (name: 'quay_log_exporter_records_out_total' | 'quay_log_exporter_records_retries_total') => registry.counter(name).at('forward').value;

    await until('connection 1', () => p.connections() === 1);
    out.send('quay.test', 0, { log: 'a' });
    await until('acked on connection 2', () => counter('quay_log_exporter_records_out_total') === 1);
    // connection 1: 'a' sent, its ack dropped → ack_timeout → connection 2, held HOLD_MS, then 'a' resent and acked.
    // The old check destroyed connection 2 while held: a third connection, and more on a slower link.
    expect(p.connections()).toBe(2);
    expect(counter('quay_log_exporter_records_retries_total')).toBe(1);
    // the input took 'a' on both connections (at-least-once); the output counts it out once
    expect(hop.lines).toEqual(['a', 'a']);
    expect(registry.gauge('quay_log_exporter_records_acks_pending').at('forward').value).toBe(0);
  });
});

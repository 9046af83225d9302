/**
 * What the forward output puts on the wire in each mode, read back by our own frame decoder
 * (src/inputs/forward/protocol.ts decodeFrame): FluentServer accepts an uncompressed PackedForward
 * chunk sent as "CompressedPackedForward" all the same, so only the bytes tell the modes apart.
 */
import { createServer, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { forwardOutputSchema } from '../config/schema.js';
import { decodeFrame, decoder, encoder, rawDecoder, text } from '../inputs/forward/protocol.js';
import { onFrames } from '../../test/helpers/forward-frames.js';
import { createLogger, silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { ForwardOutput } from './forward-output.js';

async function rawHop() {
  const frames: Uint8Array[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    onFrames(socket, (frame) => void frames.push(Uint8Array.from(frame)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { port: (server.address() as { port: number }).port, frames, close };
}

describe('ForwardOutput modes on the wire', () => {
  // mode → [decoded mode, option], for 2 records of one tag without acks
  const cases: [string, string, Record<string, unknown>][] = [
    ['Message', 'Message', {}],
    ['Forward', 'Forward', { size: 2 }],
    ['PackedForward', 'PackedForward', { size: 2 }],
    ['CompressedPackedForward', 'CompressedPackedForward', { size: 2, compressed: 'gzip' }],
  ];
  it.each(cases)('%s: each frame as that mode, with its option', async (mode, decodedMode, option) => {
    const hop = await rawHop();
    const out = new ForwardOutput(forwardOutputSchema.parse({ port: hop.port, mode, require_ack_response: false, flush_interval: '10ms' }), new MetricRegistry(), silentLogger);
    try {
      out.send('quay.t', 1_700_000_000_000, { log: 'a' });
      out.send('quay.t', 1_700_000_000_000, { log: 'b' });
      await out.shutdown();
      for (let i = 0; i < 300 && hop.frames.length < (mode === 'Message' ? 2 : 1); i++) await new Promise((r) => setTimeout(r, 10));
      const decoded = hop.frames.map((f) => decodeFrame(f));
      // Message: one frame per record, no option; the other modes: one frame of both
      expect(decoded.map((d) => [d.tag, d.mode, d.option ?? {}])).toEqual(mode === 'Message' ? [['quay.t', decodedMode, option], ['quay.t', decodedMode, option]] : [['quay.t', decodedMode, option]]);
      const logs = decoded.flatMap((d) => {
        if (d.entries) return d.entries.map((e) => ((e as unknown[])[1] as { log: string }).log);
        const packed = d.mode === 'CompressedPackedForward' ? gunzipSync(d.packed!) : d.packed!;
        return [...decoder.decodeMulti(packed)].map((e) => ((e as unknown[])[1] as { log: string }).log);
      });
      expect(logs).toEqual(['a', 'b']);
    } finally {
      await hop.close();
    }
  });
});

describe('ForwardOutput handshake against a next hop that does not know the shared_key', () => {
  it('a PONG saying yes with a digest that is not from the shared_key: nothing is sent, the connection dropped', async () => {
    const frames: unknown[][] = [];
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      // HELO first (the server speaks first), then a PONG "ok" with a made-up digest to the PING
      socket.write(encoder.encode(['HELO', { nonce: 'n0nce', auth: '', keepalive: true }]));
      onFrames(socket, (frame) => {
        const msg = rawDecoder.decode(frame) as unknown[];
        frames.push(msg);
        if (text(msg[0]) === 'PING') socket.write(encoder.encode(['PONG', true, '', 'hop', 'f'.repeat(128)]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const logged: string[] = [];
    const log = createLogger('debug', (l) => void logged.push(l));
    const out = new ForwardOutput(
      forwardOutputSchema.parse({ port, mode: 'Forward', require_ack_response: false, flush_interval: '10ms', shutdown_timeout: '200ms', security: { shared_key: 'key', self_hostname: 'me' } }),
      new MetricRegistry(),
      log,
    );
    try {
      out.send('quay.t', 0, { log: 'secret' });
      for (let i = 0; i < 300 && !logged.some((l) => l.includes('does not know the shared_key')); i++) await new Promise((r) => setTimeout(r, 10));
      // only PINGs reached the hop (one per connection attempt), never the record
      expect(frames.length).toBeGreaterThan(0);
      expect(frames.every((f) => text(f[0]) === 'PING')).toBe(true);
      expect(logged.some((l) => l.includes('handshake: the server does not know the shared_key'))).toBe(true);
    } finally {
      await out.shutdown();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

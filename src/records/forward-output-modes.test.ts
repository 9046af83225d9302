/**
 * What the forward output puts on the wire in each mode, read back by our own frame decoder
 * (src/inputs/forward/protocol.ts decodeFrame): FluentServer accepts an uncompressed PackedForward
 * chunk sent as "CompressedPackedForward" all the same, so only the bytes tell the modes apart.
 */
import { createServer, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { forwardOutputSchema } from '../config/schema.js';
import { decodeFrame, decoder, FrameScanner } from '../inputs/forward/protocol.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { ForwardOutput } from './forward-output.js';

async function rawHop() {
  const frames: Uint8Array[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (b: Buffer) => {
      pending = Buffer.concat([pending, b]);
      for (;;) {
        const n = new FrameScanner(1 << 24).scan(pending, pending.length);
        if (n < 0) return;
        frames.push(Uint8Array.from(pending.subarray(0, n)));
        pending = pending.subarray(n);
      }
    });
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

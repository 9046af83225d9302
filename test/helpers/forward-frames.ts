/**
 * The reading half of a hand-made Fluent Forward next hop (tests of the forward output): each whole
 * Forward-mode frame a socket receives, however TCP cut it, as its records' `log` values and chunk id.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { decoder, FrameScanner } from '../../src/inputs/forward/protocol.js';

export interface ForwardFrame {
  readonly logs: string[];
  readonly chunk?: string;
}

/** Each whole msgpack frame `readable` receives, however TCP cut it; onFrame returns false when it closed the stream: the rest is not read. */
export function onFrames(readable: Readable, onFrame: (frame: Buffer) => boolean | void): void {
  let pending = Buffer.alloc(0);
  readable.on('data', (b: Buffer) => {
    pending = Buffer.concat([pending, b]);
    for (;;) {
      const n = new FrameScanner(1 << 24).scan(pending, pending.length);
      if (n < 0) return;
      const frame = pending.subarray(0, n);
      pending = pending.subarray(n);
      if (onFrame(frame) === false) return;
    }
  });
}

/** onFrame returns false when it closed the socket: the rest of that data is not read. */
export function onForwardFrames(socket: Socket, onFrame: (frame: ForwardFrame) => boolean | void): void {
  onFrames(socket, (bytes) => {
    const [, entries, option] = decoder.decode(bytes) as [string, [unknown, { log: string }][], { chunk?: string } | undefined];
    return onFrame({ logs: entries.map((e) => e[1].log), chunk: option?.chunk });
  });
}

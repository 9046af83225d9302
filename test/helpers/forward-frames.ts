/**
 * The reading half of a hand-made Fluent Forward next hop (tests of the forward output): each whole
 * Forward-mode frame a socket receives, however TCP cut it, as its records' `log` values and chunk id.
 */
import type { Socket } from 'node:net';
import { decoder, FrameScanner } from '../../src/inputs/forward/protocol.js';

export interface ForwardFrame {
  readonly logs: string[];
  readonly chunk?: string;
}

/** onFrame returns false when it closed the socket: the rest of that data is not read. */
export function onForwardFrames(socket: Socket, onFrame: (frame: ForwardFrame) => boolean | void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (b: Buffer) => {
    pending = Buffer.concat([pending, b]);
    for (;;) {
      const n = new FrameScanner(1 << 24).scan(pending, pending.length);
      if (n < 0) return;
      const [, entries, option] = decoder.decode(pending.subarray(0, n)) as [string, [unknown, { log: string }][], { chunk?: string } | undefined];
      pending = pending.subarray(n);
      if (onFrame({ logs: entries.map((e) => e[1].log), chunk: option?.chunk }) === false) return;
    }
  });
}

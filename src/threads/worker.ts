/**
 * A worker thread: one OrderFreeShare, fed pieces (transferred ArrayBuffers)
 * by the main thread, answering each with the lines it did not record, in the
 * order the pieces came; `end` answers with its share of the series.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { OrderFreeShare, type ShareSetup } from './share.js';

export type ToWorker = { readonly kind: 'piece'; readonly seq: number; readonly bytes: ArrayBuffer } | { readonly kind: 'end' };

const share = new OrderFreeShare(workerData as ShareSetup);
const port = parentPort!;
port.on('message', (m: ToWorker) => {
  if (m.kind === 'piece') {
    const r = share.piece(new Uint8Array(m.bytes), m.seq);
    port.postMessage({ kind: 'piece', result: r }, [r.at.buffer as ArrayBuffer]);
  } else {
    port.postMessage({ kind: 'snapshot', snapshot: share.snapshot() });
  }
});

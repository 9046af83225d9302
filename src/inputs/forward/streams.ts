/**
 * The streams of a forward input, independent of the connections that carry
 * them. Fluent Bit and Fluentd reconnect (idle keepalive timeouts, restarts,
 * several workers each with its own connection), so a connection is not a
 * log: a stream is the input + the Fluent tag + the record's Kubernetes
 * container (`kubernetes.namespace_name/pod_name/container_name`, what Fluent
 * Bit's kubernetes filter and Fluentd's kubernetes_metadata filter add) when
 * present. It ends after `stream_idle_timeout` without a record, as a file
 * ends when it is gone, not when a socket closes: a mirror attempt whose
 * lines come over two connections stays one attempt.
 */
import type { RecordLines, RecordStream } from '../records.js';

interface Entry {
  readonly key: string;
  readonly stream: RecordStream;
  lastMs: number;
}

/** Streams one input keeps open at most; past it, the one idle longest ends. */
export const MAX_STREAMS = 4096;

export class ForwardStreams {
  private readonly open = new Map<string, Entry>();
  /** The last record's stream: a run of records of one container costs no look-up. */
  private last: Entry | undefined;

  constructor(
    private readonly input: string,
    private readonly records: RecordLines,
    private readonly idleTimeoutMs: number,
  ) {}

  /** The stream of a record of `tag` (opened on first use); `nowMs` marks it active. */
  of(tag: string, record: Record<string, unknown>, nowMs: number): RecordStream {
    const k = record['kubernetes'];
    let namespace = '';
    let pod = '';
    let container = '';
    if (typeof k === 'object' && k !== null && !(k instanceof Uint8Array)) {
      const m = k as Record<string, unknown>;
      if (typeof m['pod_name'] === 'string') {
        pod = m['pod_name'];
        if (typeof m['namespace_name'] === 'string') namespace = m['namespace_name'];
        if (typeof m['container_name'] === 'string') container = m['container_name'];
      }
    }
    const key = pod === '' ? tag : `${tag}\u0000${namespace}/${pod}/${container}`;
    let e = this.last;
    if (e === undefined || e.key !== key) {
      e = this.open.get(key);
      if (e === undefined) {
        if (this.open.size >= MAX_STREAMS) this.endIdlest();
        const id = pod === '' ? `forward:${this.input}:${tag}` : `forward:${this.input}:${tag}:${namespace}/${pod}/${container}`;
        const stream = this.records.open(id, tag, pod === '' ? undefined : { pod, namespace });
        this.open.set(key, (e = { key, stream, lastMs: nowMs }));
      }
      this.last = e;
    }
    e.lastMs = nowMs;
    return e.stream;
  }

  /** Ends the streams without a record for stream_idle_timeout (their open state closes as an idle gap would). */
  sweep(nowMs: number): void {
    for (const [key, e] of this.open) {
      if (nowMs - e.lastMs < this.idleTimeoutMs) continue;
      this.end(key, e);
    }
  }

  get size(): number {
    return this.open.size;
  }

  private endIdlest(): void {
    let idlest: Entry | undefined;
    for (const e of this.open.values()) if (idlest === undefined || e.lastMs < idlest.lastMs) idlest = e;
    if (idlest !== undefined) this.end(idlest.key, idlest);
  }

  private end(key: string, e: Entry): void {
    this.open.delete(key);
    if (this.last === e) this.last = undefined;
    e.stream.end();
  }
}

/**
 * Records to the next hop's in_forward (Fluentd, Fluent Bit, another
 * exporter): batches in any of the four modes, the shared_key handshake,
 * and with `require_ack_response` every chunk kept until its ack arrives and
 * sent again after a reconnect or `ack_timeout` (at-least-once, as Fluentd's
 * out_forward). The buffer (queued + unacknowledged) is bounded by
 * `buffer_records`: past half of it inputs are paused, past all of it new
 * records are dropped and counted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { gzipSync } from 'node:zlib';
import type { ForwardOutputConfig } from '../config/schema.js';
import { decoder, encoder, EventTime, MessageSplitter, rawDecoder, salt, sha512Hex, text } from '../inputs/forward/protocol.js';
import type { Logger } from '../log.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';

interface Queued {
  readonly tag: string;
  readonly time: EventTime;
  readonly record: Record<string, unknown>;
}

interface Chunk {
  readonly bytes: Uint8Array;
  readonly count: number;
  sentAt: number;
}

const OUTPUT = 'forward';
/** Replies (acks, handshake) are small; a bigger one is a broken server. */
const MAX_REPLY_BYTES = 64 * 1024;
const MIN_RETRY_MS = 100;
const BACKPRESSURE_POLL_MS = 20;

export class ForwardOutput {
  private queue: Queued[] = [];
  private readonly inflight = new Map<string, Chunk>();
  private inflightRecords = 0;
  private socket: Socket | undefined;
  private ready = false;
  private retryDelay = MIN_RETRY_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly stats: { out: ValueSlot; dropped: ValueSlot; buffered: ValueSlot; pending: ValueSlot; retries: ValueSlot };
  /** With `tls`: read once at start (a missing file is a config error before this). */
  private readonly tlsOptions: ConnectionOptions | undefined;

  constructor(
    private readonly config: ForwardOutputConfig,
    registry: MetricRegistry,
    private readonly log: Logger,
  ) {
    this.stats = {
      out: registry.counter('quay_log_exporter_records_out_total').at(OUTPUT),
      dropped: registry.counter('quay_log_exporter_records_dropped_total').at(OUTPUT),
      buffered: registry.gauge('quay_log_exporter_records_buffered').at(OUTPUT),
      pending: registry.gauge('quay_log_exporter_records_acks_pending').at(OUTPUT),
      retries: registry.counter('quay_log_exporter_records_retries_total').at(OUTPUT),
    };
    const tls = config.tls;
    if (tls) {
      this.tlsOptions = {
        host: config.host,
        port: config.port,
        // SNI and the name checked: the host, unless it is an address (checked against the certificate's IP SANs).
        ...(isIP(config.host) === 0 ? { servername: config.host } : {}),
        ...(tls.ca_file ? { ca: readFileSync(tls.ca_file) } : {}),
        ...(tls.cert_file ? { cert: readFileSync(tls.cert_file) } : {}),
        ...(tls.key_file ? { key: readFileSync(tls.key_file) } : {}),
        rejectUnauthorized: !tls.insecure_skip_verify,
      };
      if (tls.insecure_skip_verify) log.warn("outputs.records.forward.tls.insecure_skip_verify: the next hop's certificate is not checked");
    }
    this.timer = setInterval(() => this.tick(), config.flush_interval);
    this.timer.unref();
    this.connect();
  }

  send(tag: string, timeMs: number, record: Record<string, unknown>): void {
    if (this.closed || this.queue.length + this.inflightRecords >= this.config.buffer_records) {
      this.stats.dropped.value++;
      return;
    }
    this.queue.push({ tag, time: EventTime.fromMillis(timeMs), record });
    this.updateGauges();
    if (this.queue.length >= this.config.batch_records) this.flush();
  }

  /** A promise while more than half the buffer is held: inputs wait on it instead of records being dropped. */
  backpressure(): Promise<void> | undefined {
    const half = this.config.buffer_records / 2;
    if (this.queue.length + this.inflightRecords <= half) return undefined;
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        if (this.closed || this.queue.length + this.inflightRecords <= half) {
          clearInterval(poll);
          resolve();
        }
      }, BACKPRESSURE_POLL_MS);
    });
  }

  /** Sends what is queued and waits for the acks, up to shutdown_timeout; what is left is counted as dropped. */
  async shutdown(): Promise<void> {
    const deadline = Date.now() + this.config.shutdown_timeout;
    // Without acks, what is written is only out once the socket has handed it to the OS: wait for that too.
    while ((this.queue.length > 0 || this.inflight.size > 0 || (this.socket?.writableLength ?? 0) > 0) && Date.now() < deadline) {
      this.flush();
      await new Promise((r) => setTimeout(r, BACKPRESSURE_POLL_MS));
    }
    const lost = this.queue.length + this.inflightRecords;
    this.stats.dropped.value += lost;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.reconnectTimer);
    this.queue = [];
    this.inflight.clear();
    this.inflightRecords = 0;
    this.updateGauges();
    this.socket?.destroy();
    this.log.info('forward output stopped', { delivered: this.stats.out.value, dropped: this.stats.dropped.value, lost_at_shutdown: lost });
  }

  private tick(): void {
    const now = Date.now();
    // Only a connection that has (re)sent the chunks can be late with their acks: while a new one is
    // still connecting (or in its TLS handshake), the chunks wait for opened(), and destroying that
    // socket would only start the next attempt, again and again on a slow link.
    if (this.ready) for (const chunk of this.inflight.values()) {
      if (now - chunk.sentAt > this.config.ack_timeout) {
        // As out_forward: no ack in time, the connection is suspect; reconnecting resends every unacked chunk.
        this.log.warn('forward output: no ack within ack_timeout, reconnecting', { ack_timeout_ms: this.config.ack_timeout });
        this.socket?.destroy();
        return;
      }
    }
    this.flush();
  }

  private flush(): void {
    if (!this.ready || this.queue.length === 0) return;
    const socket = this.socket!;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.config.batch_records);
      // One message per run of the same tag, in order.
      let start = 0;
      for (let i = 1; i <= batch.length; i++) {
        if (i === batch.length || batch[i]!.tag !== batch[start]!.tag) {
          this.sendRun(socket, batch.slice(start, i));
          start = i;
        }
      }
    }
    this.updateGauges();
  }

  private sendRun(socket: Socket, run: Queued[]): void {
    const tag = run[0]!.tag;
    const ack = this.config.require_ack_response;
    const mode = this.config.mode;
    if (mode === 'Message') {
      for (const q of run) this.sendChunk(socket, (option) => encoder.encode([tag, q.time, q.record, option]), 1, ack);
      return;
    }
    const size = run.length;
    if (mode === 'Forward') {
      this.sendChunk(socket, (option) => encoder.encode([tag, run.map((q) => [q.time, q.record]), { ...option, size }]), size, ack);
      return;
    }
    const entries = Buffer.concat(run.map((q) => encoder.encode([q.time, q.record])));
    const compressed = mode === 'CompressedPackedForward';
    const payload = compressed ? gzipSync(entries) : entries;
    this.sendChunk(socket, (option) => encoder.encode([tag, payload, { ...option, size, ...(compressed ? { compressed: 'gzip' } : {}) }]), size, ack);
  }

  private sendChunk(socket: Socket, encode: (option: { chunk?: string }) => Uint8Array, count: number, ack: boolean): void {
    if (!ack) {
      // Counted when handed to the OS: a socket destroyed with the chunk still in its buffer (shutdown
      // timeout, reconnect) did not send it, and that is a drop, not a delivery.
      socket.write(encode({}), (err) => {
        if (err) this.stats.dropped.value += count;
        else this.stats.out.value += count;
      });
      return;
    }
    const id = randomBytes(16).toString('base64');
    const bytes = encode({ chunk: id });
    this.inflight.set(id, { bytes, count, sentAt: Date.now() });
    this.inflightRecords += count;
    socket.write(bytes);
  }

  private onAck(id: string): void {
    const chunk = this.inflight.get(id);
    if (!chunk) return; // an ack for a chunk sent before a reconnect and already resent: counted once, by the first
    this.inflight.delete(id);
    this.inflightRecords -= chunk.count;
    this.stats.out.value += chunk.count;
    this.updateGauges();
  }

  private connect(): void {
    if (this.closed) return;
    const socket: Socket = this.tlsOptions ? connectTls(this.tlsOptions) : connect({ host: this.config.host, port: this.config.port });
    this.socket = socket;
    const security = this.config.security;
    let nonce: Uint8Array | undefined;
    let authSalt: Uint8Array | undefined;
    const keySalt = salt();
    let state: 'helo' | 'pong' | 'open' = security ? 'helo' : 'open';
    const replies = new MessageSplitter(MAX_REPLY_BYTES, (frame) => {
      if (state === 'open') {
        const reply = decoder.decode(frame) as { ack?: unknown } | null;
        if (reply && typeof reply.ack === 'string') this.onAck(reply.ack);
        return;
      }
      const msg = rawDecoder.decode(frame);
      if (!Array.isArray(msg)) throw new Error('handshake: not an array');
      if (state === 'helo') {
        const opts = msg[1] as { nonce?: unknown; auth?: unknown } | undefined;
        if (text(msg[0]) !== 'HELO' || !(opts?.nonce instanceof Uint8Array || typeof opts?.nonce === 'string')) throw new Error('handshake: expected HELO');
        nonce = typeof opts.nonce === 'string' ? Buffer.from(opts.nonce) : opts.nonce;
        authSalt = opts.auth instanceof Uint8Array ? opts.auth : Buffer.from(typeof opts.auth === 'string' ? opts.auth : '');
        const s = security!;
        const passDigest = s.username ? sha512Hex(authSalt, s.username, s.password) : '';
        socket.write(encoder.encode(['PING', s.self_hostname, keySalt, sha512Hex(keySalt, s.self_hostname, nonce, s.shared_key), s.username, passDigest]));
        state = 'pong';
        return;
      }
      const [word, ok, reason, serverHostname, digest] = msg as unknown[];
      if (text(word) !== 'PONG' || ok !== true) throw new Error(`handshake refused: ${text(reason) ?? 'no PONG'}`);
      if (text(digest) !== sha512Hex(keySalt, text(serverHostname) ?? '', nonce!, security!.shared_key)) throw new Error('handshake: the server does not know the shared_key');
      state = 'open';
      this.opened(socket);
    });
    // Over TLS nothing is written before the handshake verified the server.
    socket.on(this.tlsOptions ? 'secureConnect' : 'connect', () => {
      if (state === 'open') this.opened(socket);
    });
    socket.on('data', (b: Buffer) => {
      try {
        replies.write(b);
      } catch (err) {
        this.log.error('forward output: connection dropped', { host: this.config.host, port: this.config.port, error: (err as Error).message });
        socket.destroy();
      }
    });
    socket.on('error', (err) => this.log.warn('forward output: connection failed', { host: this.config.host, port: this.config.port, error: err.message }));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.ready = false;
      this.socket = undefined;
      if (this.closed) return;
      this.reconnectTimer = setTimeout(() => this.connect(), this.retryDelay);
      this.reconnectTimer.unref();
      this.retryDelay = Math.min(this.retryDelay * 2, this.config.max_retry_delay);
    });
  }

  /** Connected (and authenticated): every unacked chunk goes again, in order, then the queue. */
  private opened(socket: Socket): void {
    this.ready = true;
    this.retryDelay = MIN_RETRY_MS;
    const now = Date.now();
    for (const chunk of this.inflight.values()) {
      chunk.sentAt = now;
      this.stats.retries.value++;
      socket.write(chunk.bytes);
    }
    this.log.info('forward output connected', { host: this.config.host, port: this.config.port, resent_chunks: this.inflight.size });
    this.flush();
  }

  private updateGauges(): void {
    this.stats.buffered.value = this.queue.length + this.inflightRecords;
    this.stats.pending.value = this.inflight.size;
  }
}

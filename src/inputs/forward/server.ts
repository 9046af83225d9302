/**
 * `type: forward`: a Fluent Forward protocol v1 server on TCP (optionally
 * TLS) and, optionally, a unix socket. Each connection is a ForwardConnection;
 * this file owns listening, the connection limit and the orderly stop.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { forwardSchema, type InputConfig } from '../../config/schema.js';
import type { ValueSlot } from '../../metrics/series.js';
import { createRecordLines, type RecordLines } from '../records.js';
import type { Input, InputDeps } from '../types.js';
import { ForwardConnection, type Security } from './connection.js';
import { ForwardStreams } from './streams.js';

type ForwardConfig = NonNullable<InputConfig['forward']>;

/** How long stop() waits for clients to read their last acks before cutting connections. */
const STOP_GRACE_MS = 2000;

export class ForwardInput implements Input {
  readonly name: string;
  private readonly fwd: ForwardConfig;
  private readonly records: RecordLines;
  private readonly security: Security | undefined;
  private readonly servers: Server[] = [];
  private readonly open = new Map<Socket, ForwardConnection>();
  private readonly gauge: ValueSlot;
  private readonly streams: ForwardStreams;
  private sweeper: NodeJS.Timeout | undefined;
  private nextId = 0;
  /** The TCP address actually bound (port 0 → the port chosen). */
  address: AddressInfo | undefined;

  constructor(
    private readonly config: InputConfig,
    private readonly deps: InputDeps,
  ) {
    this.name = config.name ?? 'forward';
    this.fwd = config.forward ?? forwardSchema.parse({});
    // Without a per-source opener (tests), every stream goes to the input's own source.
    const openSource = deps.openSource ?? ((_source, info) => deps.open(info));
    this.records = createRecordLines(config, deps.registry, openSource, deps.origin);
    const sec = this.fwd.security;
    this.security = sec && {
      sharedKey: sec.shared_key,
      selfHostname: sec.self_hostname,
      users: new Map(sec.users.map((u) => [u.username, u.password])),
    };
    this.gauge = deps.registry.gauge('quay_log_exporter_forward_connections').at(this.name);
    this.streams = new ForwardStreams(this.name, this.records, this.fwd.stream_idle_timeout);
  }

  async start(): Promise<void> {
    const tls = this.fwd.tls;
    const onSocket = (socket: Socket) => this.accept(socket);
    const tcp = tls
      ? createTlsServer(
          {
            cert: readFileSync(tls.cert_file),
            key: readFileSync(tls.key_file),
            ...(tls.ca_file ? { ca: readFileSync(tls.ca_file), requestCert: true, rejectUnauthorized: true } : {}),
          },
          onSocket,
        )
      : createServer(onSocket);
    if (tls) {
      tcp.on('tlsClientError', (err: Error) => {
        this.handshakeFailed('tls');
        this.deps.log.warn('forward TLS handshake failed', { input: this.name, error: err.message });
      });
    }
    this.address = (await listen(tcp, { host: this.fwd.listen.host, port: this.fwd.listen.port })) as AddressInfo;
    this.servers.push(tcp);
    if (this.fwd.unix_path) {
      // A socket file left by a killed process would make listen fail with EADDRINUSE.
      rmSync(this.fwd.unix_path, { force: true });
      const unix = createServer(onSocket);
      await listen(unix, { path: this.fwd.unix_path });
      this.servers.push(unix);
    }
    // Idle streams end about every quarter of the timeout (at most a minute late; a tiny timeout does not spin).
    this.sweeper = setInterval(() => this.streams.sweep(Date.now()), Math.max(10, Math.min(this.fwd.stream_idle_timeout / 4, 60_000)));
    this.sweeper.unref();
    this.deps.log.info('forward input listening', {
      input: this.name,
      address: `${this.address.address}:${this.address.port}`,
      unix_path: this.fwd.unix_path,
      tls: tls !== undefined,
      shared_key: this.security !== undefined,
    });
  }

  /** Stop accepting; close connections once their last acks are written (partial frames are not acked, so the client resends them). */
  async stop(): Promise<void> {
    const closing = this.servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    const sockets = [...this.open.keys()];
    for (const [socket, conn] of this.open) {
      conn.close();
      socket.end();
    }
    const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), STOP_GRACE_MS);
    await Promise.all(closing);
    clearTimeout(timer);
    // Streams are not ended: state open at the exporter's own stop is neither closed nor counted (the streams contract).
    clearInterval(this.sweeper);
    if (this.fwd.unix_path) rmSync(this.fwd.unix_path, { force: true });
  }

  private accept(socket: Socket): void {
    const connections = this.deps.registry.counter('quay_log_exporter_forward_connections_total');
    if (this.open.size >= this.fwd.max_connections) {
      connections.at(this.name, 'refused').value++;
      this.deps.log.warn('forward connection refused: max_connections open', { input: this.name, max_connections: this.fwd.max_connections });
      socket.destroy();
      return;
    }
    connections.at(this.name, 'accepted').value++;
    const id = `${this.name}#${++this.nextId}`;
    const conn = new ForwardConnection(socket, {
      input: this.name,
      id,
      records: this.records,
      streams: this.streams,
      security: this.security,
      maxFrameBytes: this.fwd.max_frame_bytes,
      maxDecompressedBytes: this.fwd.max_decompressed_bytes,
      log: this.deps.log,
      pause: this.deps.pause,
      stats: {
        bytes: this.deps.registry.counter('quay_log_exporter_input_bytes_total').at(this.name),
        acks: this.deps.registry.counter('quay_log_exporter_forward_acks_total').at(this.name),
        handshakeFailed: (reason) => this.handshakeFailed(reason),
        frameRejected: (reason) => {
          this.deps.registry.counter('quay_log_exporter_forward_frames_rejected_total').at(this.name, reason).value++;
        },
      },
    });
    this.open.set(socket, conn);
    this.gauge.value = this.open.size;
    socket.on('error', (err) => this.deps.log.debug('forward connection error', { input: this.name, client: id, error: err.message }));
    socket.on('close', () => {
      conn.close();
      this.open.delete(socket);
      this.gauge.value = this.open.size;
    });
    conn.greet();
  }

  private handshakeFailed(reason: string): void {
    this.deps.registry.counter('quay_log_exporter_forward_handshake_failures_total').at(this.name, reason).value++;
  }
}

function listen(server: Server, options: { host?: string; port?: number; path?: string }): Promise<AddressInfo | string | null> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.off('error', reject);
      resolve(server.address());
    });
  });
}


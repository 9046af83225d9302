/**
 * One Forward connection: bytes → frames (FrameScanner) → handshake or
 * records → streams, then the ack. Everything from a read to its ack runs in
 * one synchronous turn, so an ack is written only after every record of its
 * chunk was recorded by the pipeline: at-least-once, never before.
 *
 * Memory: at most one partial frame is held (≤ max_frame_bytes plus one
 * read); while the pipeline is behind (`pause`) or the client does not read
 * its acks, the socket is paused and TCP slows the sender.
 */
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Logger } from '../../log.js';
import type { ValueSlot } from '../../metrics/series.js';
import type { RecordLines } from '../records.js';
import type { ForwardStreams } from './streams.js';
import { bytes, decodeFrame, decoder, encoder, FrameError, MessageSplitter, rawDecoder, readEntry, salt, sha512Hex, text, timeToMillis, type FrameErrorReason } from './protocol.js';

export interface Security {
  readonly sharedKey: string;
  readonly selfHostname: string;
  /** username → password; empty: no user authentication. */
  readonly users: ReadonlyMap<string, string>;
}

export interface ConnectionDeps {
  readonly input: string;
  readonly id: string;
  readonly records: RecordLines;
  /** The input's streams: a record's stream does not depend on the connection it came over. */
  readonly streams: ForwardStreams;
  readonly security: Security | undefined;
  readonly maxFrameBytes: number;
  readonly maxDecompressedBytes: number;
  readonly log: Logger;
  readonly pause?: () => Promise<void> | undefined;
  readonly stats: {
    readonly bytes: ValueSlot;
    readonly acks: ValueSlot;
    handshakeFailed(reason: string): void;
    frameRejected(reason: FrameErrorReason): void;
  };
}

/** Acks the client has not read yet, in bytes, past which reading stops until it does. */
const MAX_UNREAD_WRITES = 1024 * 1024;

export class ForwardConnection {
  private readonly splitter: MessageSplitter;
  private authenticated: boolean;
  private nonce: Uint8Array | undefined;
  private authSalt: Uint8Array | undefined;
  private closed = false;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.splitter = new MessageSplitter(deps.maxFrameBytes, (frame) => this.frame(frame));
    this.authenticated = deps.security === undefined;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
  }

  /** Sends HELO when a shared_key is configured (the server speaks first). */
  greet(): void {
    if (!this.deps.security) return;
    this.nonce = salt();
    this.authSalt = salt();
    this.write(['HELO', { nonce: this.nonce, auth: this.authSalt, keepalive: true }]);
  }

  /** The connection is gone. Its streams go on (a sender reconnects): they end after an idle gap (streams.ts). */
  close(): void {
    this.closed = true;
    this.splitter.clear();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.deps.stats.bytes.value += chunk.length;
    try {
      this.splitter.write(chunk, () => this.closed);
    } catch (err) {
      const reason: FrameErrorReason = err instanceof FrameError ? err.reason : 'malformed';
      this.fail(reason, (err as Error).message);
      return;
    }
    const wait = this.deps.pause?.();
    if (wait) {
      this.pauseFor(wait);
    } else if (this.socket.writableLength > MAX_UNREAD_WRITES) {
      this.socket.pause();
      this.paused = true;
    }
  }

  private frame(frame: Uint8Array): void {
    if (!this.authenticated) {
      this.ping(frame);
      return;
    }
    const msg = decodeFrame(frame);
    let entries: readonly unknown[];
    if (msg.packed) {
      let payload = msg.packed;
      if (msg.mode === 'CompressedPackedForward') {
        try {
          payload = gunzipSync(payload, { maxOutputLength: this.deps.maxDecompressedBytes });
        } catch (err) {
          throw new FrameError('decompress', `gzip chunk did not inflate within max_decompressed_bytes: ${(err as Error).message}`);
        }
      }
      // Decoded whole before any record is handed on: a chunk broken halfway is refused whole, so its resend counts nothing twice.
      try {
        entries = [...decoder.decodeMulti(payload)];
      } catch (err) {
        throw new FrameError('malformed', `PackedForward entries: ${(err as Error).message}`);
      }
    } else {
      entries = msg.entries!;
    }
    const streams = this.deps.streams;
    const now = Date.now();
    let invalid = 0;
    for (const e of entries) {
      const entry = readEntry(e);
      if (entry) streams.of(msg.tag, entry.record, now).push(entry.record, timeToMillis(entry.time));
      else invalid++;
    }
    if (invalid > 0) this.deps.records.skip('invalid_entry', invalid);
    const chunk = msg.option?.chunk;
    if (chunk !== undefined) {
      this.write({ ack: chunk });
      this.deps.stats.acks.value++;
    }
  }

  /** PING → PONG: the spec's shared_key and user checks, reasons as Fluentd words them. */
  private ping(frame: Uint8Array): void {
    const security = this.deps.security!;
    let msg: unknown;
    try {
      msg = rawDecoder.decode(frame);
    } catch {
      msg = undefined;
    }
    const refuse = (reason: string, code: string) => {
      this.deps.stats.handshakeFailed(code);
      this.deps.log.warn('forward client refused', { input: this.deps.input, client: this.deps.id, reason });
      this.write(['PONG', false, reason, '', '']);
      this.closed = true;
      this.socket.end();
    };
    if (!Array.isArray(msg) || msg.length !== 6 || text(msg[0]) !== 'PING') return refuse('invalid ping message', 'invalid_ping');
    const hostname = text(msg[1]);
    const keySalt = bytes(msg[2]);
    const digest = text(msg[3]);
    const username = text(msg[4]) ?? '';
    const passDigest = text(msg[5]) ?? '';
    if (hostname === undefined || keySalt === undefined || digest === undefined) return refuse('invalid ping message', 'invalid_ping');
    if (digest !== sha512Hex(keySalt, hostname, this.nonce!, security.sharedKey)) return refuse('shared_key mismatch', 'shared_key');
    if (security.users.size > 0) {
      const password = security.users.get(username);
      if (password === undefined || passDigest !== sha512Hex(this.authSalt!, username, password)) {
        return refuse('username/password mismatch', 'user');
      }
    }
    this.authenticated = true;
    this.write(['PONG', true, '', security.selfHostname, sha512Hex(keySalt, security.selfHostname, this.nonce!, security.sharedKey)]);
    this.deps.log.debug('forward client authenticated', { input: this.deps.input, client: this.deps.id, hostname });
  }

  private fail(reason: FrameErrorReason, message: string): void {
    this.deps.stats.frameRejected(reason);
    this.deps.log.warn('forward connection closed: bad frame', { input: this.deps.input, client: this.deps.id, reason, error: message });
    this.closed = true;
    this.splitter.clear();
    this.socket.destroy();
  }

  private write(value: unknown): void {
    if (!this.socket.destroyed) this.socket.write(encoder.encode(value));
  }

  private pauseFor(wait: Promise<void>): void {
    this.socket.pause();
    this.paused = true;
    void wait.then(() => this.maybeResume());
  }

  private maybeResume(): void {
    if (!this.paused || this.closed) return;
    if (this.socket.writableLength > MAX_UNREAD_WRITES) return; // 'drain' comes back here
    const wait = this.deps.pause?.();
    if (wait) {
      void wait.then(() => this.maybeResume());
      return;
    }
    this.paused = false;
    this.socket.resume();
  }
}

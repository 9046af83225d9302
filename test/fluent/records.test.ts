/**
 * Records out, through the real CLI: the exporter as Fluentd's exec_filter
 * (JSON or MessagePack records in on stdin, parsed records out on stdout),
 * and a forward output delivering to @fluent-org/logger's FluentServer.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FluentClient, FluentServer } from '@fluent-org/logger';
import { decodeMulti } from '@msgpack/msgpack';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from '../helpers/daemon.js';
import { sum } from '../helpers/exposition.js';
import { freePort } from '../helpers/wait.js';
import { FIXTURE_LINES } from '../fixtures/quay-supervisord.counts.js';
import { LINE_CASES, RULES_CONFIG } from '../fixtures/line-records.js';
import { encoder } from '../../src/inputs/forward/protocol.js';
import { onForwardFrames } from '../helpers/forward-frames.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/quay-supervisord.log', import.meta.url));
const LINES = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
/**
 * Events in the fixture, by hand: 2 slow transfers (the 2 MiB pull in 4 s, the 3 MiB push in 6 s: both 512 KiB/s),
 * 2 mirror syncs (v1.7.0 failed rate_limited, v1.8.0 success), 2 GC runs (_garbage_collection_repos success),
 * and the mirror attempt (partial: 1 of 2 tags failed), closed when the stream ends (stdin's end; a forward stream outlives its connection).
 */
const EVENTS = 7;
const EVENT_NAMES = ['quay_slow_transfer', 'quay_slow_transfer', 'quay_mirror_sync', 'quay_mirror_sync', 'quay_gc_run', 'quay_gc_run', 'quay_mirror_attempt'];
/** Matched lines: nginx 20 + gunicorn 2 + mirror 5 + gc 2 (quay-supervisord.counts.ts). */
const MATCHED = 29;

function configFile(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'qle-rec-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({ state_dir: join(dir, 'state'), prometheus: { listen: '127.0.0.1:0' }, ...config }));
  return file;
}

type Rec = Record<string, unknown> & { quay: Record<string, unknown> };

async function execFilter(select: string, format: 'json'): Promise<Rec[]> {
  const file = configFile({
    inputs: [{ type: 'stdin', format, message_key: 'message' }],
    outputs: { records: { select, stdout: { format } } },
  });
  // what out_exec_filter writes with <format> json / msgpack: the record, with a key of the sender's
  const records = LINES.map((message) => ({ message, host: 'node-1' }));
  const r = await runCli(['run', '--config', file], { input: records.map((rec) => JSON.stringify(rec) + '\n').join('') });
  expect(r.code).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rec);
}

describe('the exporter as Fluentd exec_filter: records on stdin, parsed records on stdout', () => {
  it('select all (json): every line with what was read from it, the sender\'s keys kept, and every event', async () => {
    const out = await execFilter('all', 'json');
    // 35 lines + 7 events
    expect(LINES).toHaveLength(FIXTURE_LINES);
    expect(out).toHaveLength(FIXTURE_LINES + EVENTS);
    const lines = out.filter((r) => r.quay.event === undefined);
    expect(lines.map((r) => r.message)).toEqual(LINES);
    expect(lines.every((r) => r.host === 'node-1')).toBe(true);
    // fixture line 1: a 5 MiB blob pull from acme/app in 1.532 s
    expect(lines[0]!.quay).toEqual({
      source: 'nginx', result: 'matched', component: 'registry', method: 'GET',
      path: '/v2/acme/app/blobs/sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e',
      status: 200, bytes: 5242880, request_bytes: 512, duration: 1.532, operation: 'pull_blob', namespace: 'acme', repository: 'app',
    });
    const results = lines.map((r) => `${String(r.quay.source)}/${String(r.quay.result)}`);
    // the same split as quay_log_exporter_lines_total
    expect(results.filter((x) => x === 'nginx/matched')).toHaveLength(20);
    expect(results.filter((x) => x === 'other/ignored')).toHaveLength(1);
    const events = out.filter((r) => r.quay.event !== undefined).map((r) => r.quay);
    expect(events.map((e) => e.event)).toEqual(EVENT_NAMES);
    expect(events[2]).toMatchObject({ namespace: 'mirrors', repository: 'node-exporter', result: 'failed', reason: 'rate_limited', tag: 'v1.7.0' });
    expect(events[0]).toMatchObject({ direction: 'pull', bytes: 2097152, seconds: 4, namespace: 'org', repository: 'team/app', time: '2026-11-22T10:15:35.000Z' });
  });

  it('select matched: only lines that matched (29), and the events', async () => {
    const out = await execFilter('matched', 'json');
    expect(out).toHaveLength(MATCHED + EVENTS);
    expect(out.filter((r) => r.quay.event === undefined).every((r) => r.quay.result === 'matched')).toBe(true);
  });

  it('select events: the 7 events alone', async () => {
    const out = await execFilter('events', 'json');
    expect(out.map((r) => r.quay.event)).toEqual(EVENT_NAMES);
  });

  it('every kind of line carries its parsed fields: mirror, GC, supervisord, a user rule (hand-written lines, exact records)', async () => {
    const file = configFile({ ...RULES_CONFIG, inputs: [{ type: 'stdin', format: 'json', message_key: 'message' }], outputs: { records: { select: 'all', stdout: { format: 'json' } } } });
    const r = await runCli(['run', '--config', file], { input: LINE_CASES.map((c) => JSON.stringify({ message: c.line, host: 'node-1' }) + '\n').join('') });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rec).filter((x) => x.quay.event === undefined);
    // 20 lines in, 20 line records out: the sender's record kept, ours under quay
    expect(lines).toEqual(LINE_CASES.map((c) => ({ message: c.line, host: 'node-1', quay: c.quay })));
  });

  it('msgpack in, msgpack out (exec_filter <format> msgpack / <parse> msgpack)', async () => {
    const file = configFile({ inputs: [{ type: 'stdin', format: 'msgpack', message_key: 'message' }], outputs: { records: { select: 'all', stdout: { format: 'msgpack' } } } });
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../helpers/cli.js');
    const child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['pipe', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stdin.end(Buffer.concat(LINES.map((message) => encoder.encode({ message, host: 'node-1' }))));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    const out = [...decodeMulti(Buffer.concat(chunks))] as Rec[];
    expect(out).toHaveLength(FIXTURE_LINES + EVENTS);
    expect(out.filter((r) => r.quay.event === undefined).map((r) => r.message)).toEqual(LINES);
  });
});

const daemons: RunningDaemon[] = [];
const servers: FluentServer[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.proc.exitCode === null) await d.stop('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('forward output', () => {
  for (const mode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const) {
    it(`${mode}: records reach @fluent-org/logger's FluentServer through shared_key, with acks, tags kept`, async () => {
      const server = new FluentServer({
        listenOptions: { host: '127.0.0.1', port: 0 },
        security: { serverHostname: 'next-hop', sharedKey: 'hop-key', authorize: false, userDict: {} },
      });
      servers.push(server);
      const got: { tag: string; record: Rec }[] = [];
      server.on('entry', (tag: string, _time: unknown, record: Rec) => got.push({ tag, record }));
      await server.listen();
      const port = await freePort();
      const d = await startDaemon({
        inputs: [{ type: 'forward', forward: { listen: `127.0.0.1:${port}` } }],
        outputs: { records: { select: 'all', forward: { port: server.port, mode, security: { shared_key: 'hop-key' }, flush_interval: '20ms' } } },
      });
      daemons.push(d);
      await waitFor('forward listening', () => d.stderr().includes('forward input listening'));
      const client = new FluentClient('quay', { socket: { host: '127.0.0.1', port, disableReconnect: true }, ack: { ackTimeout: 10_000 } });
      await client.connect();
      await Promise.all(LINES.map((line) => client.emit('supervisord', { log: line, pod: 'quay-0' })));
      await client.disconnect();
      // 35 lines + 6 events, each acked by the server: not the attempt's, which stays open (its stream outlives the
      // client's connection: a sender that reconnects continues it), to end by its idle gap or the run's end line
      await waitFor('41 records at the next hop', () => got.length === FIXTURE_LINES + EVENTS - 1);
      await waitFor('41 acked', async () => sum(await d.samples(), 'quay_log_exporter_records_out_total', { output: 'forward' }) === 41);
      expect(got.filter((g) => g.tag === 'quay.event.quay_mirror_attempt')).toEqual([]);
      const lines = got.filter((g) => g.record.quay.event === undefined);
      expect(lines.map((g) => g.record.log)).toEqual(LINES);
      expect(lines.every((g) => g.tag === 'quay.supervisord' && g.record.pod === 'quay-0')).toBe(true);
      expect(got.filter((g) => g.tag === 'quay.event.quay_gc_run')).toHaveLength(2);
      const samples = await d.samples();
      expect(sum(samples, 'quay_log_exporter_records_acks_pending')).toBe(0);
      expect(sum(samples, 'quay_log_exporter_records_dropped_total')).toBe(0);
    });
  }

  it('resends exactly the chunks that were not acked when the connection dropped', async () => {
    // A hand-made next hop: it acks the first chunk, takes the second without acking and hangs up; then acks everything.
    const received: string[][] = [];
    let connections = 0;
    let hungUp = false;
    const sockets: Socket[] = [];
    const hop = createServer((socket: Socket) => {
      sockets.push(socket);
      connections++;
      onForwardFrames(socket, (frame) => {
        received.push(frame.logs);
        if (!hungUp && received.length === 2) {
          hungUp = true;
          socket.end(); // the first ack is still delivered
          return false;
        }
        socket.write(encoder.encode({ ack: frame.chunk }));
      });
    });
    await new Promise<void>((r) => hop.listen(0, '127.0.0.1', () => r()));
    const hopPort = (hop.address() as { port: number }).port;
    const port = await freePort();
    const d = await startDaemon({
      inputs: [{ type: 'forward', source: 'nginx', forward: { listen: `127.0.0.1:${port}` } }],
      outputs: { records: { select: 'all', forward: { port: hopPort, mode: 'Forward', batch_records: 3, flush_interval: '1s' } } },
    });
    daemons.push(d);
    await waitFor('forward listening', () => d.stderr().includes('forward input listening'));
    const client = new FluentClient('t', { socket: { host: '127.0.0.1', port, disableReconnect: true }, ack: { ackTimeout: 10_000 }, eventMode: 'Forward', flushInterval: 50 });
    await client.connect();
    // 6 records in one Forward message: the output sends them at once as 2 chunks of 3 (batch_records)
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((l) => client.emit('x', { log: l })));
    await client.disconnect();
    await waitFor('all acked', async () => sum(await d.samples(), 'quay_log_exporter_records_out_total', { output: 'forward' }) === 6).catch((e: Error) => {
      throw new Error(`${e.message}\nreceived: ${JSON.stringify(received)}\n${d.stderr()}`);
    });
    // chunk [a,b,c] acked once; [d,e,f] un-acked when the hop hung up, so sent again after the reconnect
    expect(received).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['d', 'e', 'f']]);
    expect(sum(await d.samples(), 'quay_log_exporter_records_retries_total', { output: 'forward' })).toBe(1);
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => hop.close(() => r()));
  });
});

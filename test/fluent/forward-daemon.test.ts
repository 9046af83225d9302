/**
 * The exporter as a real child process with a forward input: records sent by
 * @fluent-org/logger in each of the four modes, and by Debian's
 * python3-fluent-logger, come out on /metrics exactly as `replay` of the
 * same lines prints them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FluentClient } from '@fluent-org/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from '../helpers/daemon.js';
import { sum } from '../helpers/exposition.js';
import { freePort } from '../helpers/wait.js';
import { FIXTURE_LINES } from '../fixtures/quay-supervisord.counts.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/quay-supervisord.log', import.meta.url));
const LINES = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
let replayed: string | undefined;

/** Self-metrics of the input differ by nature (a file has bytes, a forward input connections and records). */
const withoutInputSeries = (text: string) =>
  text
    .split('\n')
    .filter((l) => !/quay_log_exporter_(input_bytes_total|records_\w+|forward_\w+)/.test(l))
    .join('\n');

const daemons: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.proc.exitCode === null) await d.stop('SIGKILL');
});

async function forwardDaemon(extra: Record<string, unknown> = {}) {
  // replay first: it takes seconds on a loaded machine, while the sender's connection must stay open
  replayed ??= (await runCli(['replay', FIXTURE])).stdout;
  const port = await freePort();
  const d = await startDaemon({ inputs: [{ type: 'forward', name: 'fluent', forward: { listen: `127.0.0.1:${port}`, ...extra } }] });
  daemons.push(d);
  await waitFor('forward listening', () => d.stderr().includes('forward input listening'));
  return { d, port };
}

async function expectSameAsReplay(d: RunningDaemon) {
  // 35 lines in the fixture (quay-supervisord.counts.ts)
  await waitFor('every line', async () => sum(await d.samples(), 'quay_log_exporter_lines_total') === LINES.length);
  replayed ??= (await runCli(['replay', FIXTURE])).stdout;
  expect(LINES).toHaveLength(FIXTURE_LINES);
  expect(withoutInputSeries((await d.get('/metrics')).body)).toBe(withoutInputSeries(replayed));
}

describe('forward input in the running exporter', () => {
  for (const eventMode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const) {
    it(`@fluent-org/logger, ${eventMode}, shared_key and acks: the same metrics as replay`, async () => {
      const { d, port } = await forwardDaemon({ security: { shared_key: 'k' } });
      const client = new FluentClient('quay', {
        eventMode,
        // no idle timeout: the connection (the stream) stays open until the comparison is done
        socket: { host: '127.0.0.1', port, disableReconnect: true, timeout: 600_000 },
        security: { clientHostname: 'test', sharedKey: 'k' },
        ack: { ackTimeout: 10_000 },
      });
      await client.connect();
      // every emit resolves only when the exporter acked its chunk
      await Promise.all(LINES.map((line) => client.emit('supervisord', { log: line + '\n', stream: 'stdout' })));
      // compared while the stream is open, as a followed file is (the connection's end does not end it: streams.ts)
      await expectSameAsReplay(d);
      await client.disconnect();
      const samples = await d.samples();
      expect(sum(samples, 'quay_log_exporter_records_received_total', { input: 'fluent', source: 'supervisord' })).toBe(FIXTURE_LINES);
      expect(sum(samples, 'quay_log_exporter_forward_acks_total')).toBeGreaterThan(0);
    });
  }

  it('python3-fluent-logger (Message mode, message_key message): the same metrics as replay', async () => {
    const hasPython = spawnSync('/usr/bin/python3', ['-c', 'import fluent.sender'], { stdio: 'ignore' }).status === 0;
    if (!hasPython && process.env.CI !== 'true') return;
    replayed ??= (await runCli(['replay', FIXTURE])).stdout;
    const port = await freePort();
    const d = await startDaemon({ inputs: [{ type: 'forward', message_key: 'message', forward: { listen: `127.0.0.1:${port}` } }] });
    daemons.push(d);
    await waitFor('forward listening', () => d.stderr().includes('forward input listening'));
    const script = `
import sys
from fluent import sender
s = sender.FluentSender('quay', host='127.0.0.1', port=${port})
for line in open(sys.argv[1], encoding='utf-8'):
    line = line.rstrip('\\n')
    if line:
        assert s.emit('supervisord', {'message': line}), s.last_error
print('sent', flush=True)
sys.stdin.read()  # the connection (the stream) stays open until the test has compared
s.close()
`;
    const py = spawn('/usr/bin/python3', ['-c', script, FIXTURE], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    py.stdout.on('data', (b: Buffer) => (out += b.toString()));
    py.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await waitFor('python sent', () => out.includes('sent') || err !== '');
    expect(err).toBe('');
    await expectSameAsReplay(d);
    py.stdin.end();
    expect(await new Promise((r) => py.on('close', r))).toBe(0);
  });

  it('a mirror attempt whose lines arrive over two successive connections is one attempt, with its result', async () => {
    const { d, port } = await forwardDaemon();
    const m = 'repomirrorworker stdout | 2026-11-22 10:';
    const job = (tag: string, time: string) =>
      `${m}${time} [88] [DEBUG] [util.repomirror.skopeomirror] Creating mirroring job: upstream image docker://quay.io/prometheus/node-exporter:${tag}, local repository docker://quay.example.com/mirrors/node-exporter:${tag}`;
    const result = (tag: string, time: string, outcome: string) => `${m}${time} [88] [INFO] [workers.repomirrorworker] Source 'docker://quay.io/prometheus/node-exporter:${tag}' ${outcome}.`;
    const runEnded = `${m}16:30,000 [88] [INFO] [apscheduler.executors.default] Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:17:00 UTC)" executed successfully`;
    // Fluent Bit reconnects after its keepalive idle timeout: the sync's first tag over one connection, the rest over the next
    const connections = [
      [job('v1.7.0', '15:32,000'), result('v1.7.0', '15:40,000', 'successful sync')],
      [job('v1.8.0', '16:10,000'), result('v1.8.0', '16:20,000', 'failed to sync'), runEnded],
    ];
    for (const lines of connections) {
      const client = new FluentClient('quay', { socket: { host: '127.0.0.1', port, disableReconnect: true }, ack: { ackTimeout: 10_000 } });
      await client.connect();
      for (const log of lines) await client.emit('supervisord', { log });
      await client.disconnect();
    }
    await waitFor('5 lines', async () => sum(await d.samples(), 'quay_log_exporter_lines_total', { source: 'repomirrorworker' }) === 5);
    const samples = await d.samples();
    // one attempt (pid 88, mirrors/node-exporter) ended by the run's end: 1 tag synced + 1 failed = partial
    expect(sum(samples, 'quay_log_repository_mirror_sync_attempts_total')).toBe(1);
    expect(sum(samples, 'quay_log_repository_mirror_sync_attempts_total', { namespace: 'mirrors', repository: 'node-exporter', result: 'partial' })).toBe(1);
    expect(sum(samples, 'quay_log_repository_mirror_tag_syncs_total', { result: 'success' })).toBe(1);
    expect(sum(samples, 'quay_log_repository_mirror_tag_syncs_total', { result: 'failed' })).toBe(1);
    // two connections, one stream
    expect(sum(samples, 'quay_log_exporter_forward_connections_total', { input: 'fluent', result: 'accepted' })).toBe(2);
  });

  it("two pods' mirror workers with the same pid, on one tag, do not meet: each record's Kubernetes container is its own stream", async () => {
    const { d, port } = await forwardDaemon();
    const m = 'repomirrorworker stdout | 2026-11-22 10:';
    const job = (repo: string, time: string) =>
      `${m}${time} [88] [DEBUG] [util.repomirror.skopeomirror] Creating mirroring job: upstream image docker://quay.io/prometheus/${repo}:v1, local repository docker://quay.example.com/mirrors/${repo}:v1`;
    const result = (repo: string, time: string, outcome: string) => `${m}${time} [88] [INFO] [workers.repomirrorworker] Source 'docker://quay.io/prometheus/${repo}:v1' ${outcome}.`;
    const runEnded = `${m}16:30,000 [88] [INFO] [apscheduler.executors.default] Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:17:00 UTC)" executed successfully`;
    const kubernetes = (pod: string) => ({ namespace_name: 'quay', pod_name: pod, container_name: 'quay-app' });
    // interleaved as Fluent Bit sends two pods' logs under one tag; both workers are pid 88
    const records = [
      { log: job('node-exporter', '15:00,000'), kubernetes: kubernetes('quay-0') },
      { log: job('alertmanager', '15:01,000'), kubernetes: kubernetes('quay-1') },
      { log: result('node-exporter', '15:10,000', 'successful sync'), kubernetes: kubernetes('quay-0') },
      { log: result('alertmanager', '15:11,000', 'failed to sync'), kubernetes: kubernetes('quay-1') },
      { log: runEnded, kubernetes: kubernetes('quay-0') },
      { log: runEnded, kubernetes: kubernetes('quay-1') },
    ];
    const client = new FluentClient('kube', { socket: { host: '127.0.0.1', port, disableReconnect: true }, ack: { ackTimeout: 10_000 } });
    await client.connect();
    for (const r of records) await client.emit('quay', r);
    await client.disconnect();
    await waitFor('6 lines', async () => sum(await d.samples(), 'quay_log_exporter_lines_total', { source: 'repomirrorworker' }) === 6);
    const samples = await d.samples();
    // quay-0's attempt: 1 tag synced → success; quay-1's: 1 tag failed → failed. (As one stream, pid 88's second job
    // would have ended the first attempt with no tag result, and the tag lines would have split it again.)
    expect(sum(samples, 'quay_log_repository_mirror_sync_attempts_total')).toBe(2);
    expect(sum(samples, 'quay_log_repository_mirror_sync_attempts_total', { repository: 'node-exporter', result: 'success' })).toBe(1);
    expect(sum(samples, 'quay_log_repository_mirror_sync_attempts_total', { repository: 'alertmanager', result: 'failed' })).toBe(1);
  });
});

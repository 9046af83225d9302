/**
 * The OTLP output, end to end: the real CLI daemon follows the Quay fixture
 * and pushes over each protocol to a receiver inside the test that decodes
 * the payload (JSON; protobuf with test/outputs/otlp/metrics.proto; gRPC via
 * @grpc/grpc-js). What arrives must be exactly what `replay --format json`
 * prints for the same lines.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/wait.js';
import { sum } from '../helpers/exposition.js';
import { startGrpcReceiver, startHttpReceiver, type ReceivedExport, type ReceivedMetric, type Receiver } from './otlp/receiver.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/quay-supervisord.log', import.meta.url));
/** 35 lines in the fixture (see replay.test.ts). */
const FIXTURE_LINES = 35;
const TOKEN = 'otlp-test-token-5f2c9a71e3';
/** Families that differ between a followed file and a replay (lag, watches) or exist only with an output. */
const PROCESS_ONLY = /^quay_log_exporter_(input_bytes_total|files_watched|input_lag_bytes|rotations_total|output_)/;

interface ReplayMetric {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  series: { labels: Record<string, string>; value?: number; buckets?: Record<string, number>; sum?: number; count?: number }[];
}

let replayed: ReplayMetric[];
let certs: TestCerts;
const daemons: RunningDaemon[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => {
  const r = await runCli(['replay', '--format', 'json', FIXTURE]);
  expect(r.code).toBe(0);
  replayed = (JSON.parse(r.stdout) as { metrics: ReplayMetric[] }).metrics.filter((m) => !PROCESS_ONLY.test(m.name));
  certs = makeCerts();
}, 60_000);

afterAll(async () => {
  for (const d of daemons) if (d.proc.exitCode === null) await d.stop('SIGKILL');
  for (const r of receivers) await r.close();
});

const key = (labels: Record<string, string>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

function linesIn(exp: ReceivedExport): number {
  const m = exp.metrics.find((x) => x.name === 'quay_log_exporter_lines_total');
  return m ? m.points.reduce((a, p) => a + (p.value ?? 0), 0) : 0;
}

/** Every replayed family, series by series, in the received metrics (cumulative). */
function expectSameAsReplay(metrics: Map<string, ReceivedMetric>): void {
  for (const want of replayed) {
    const got = metrics.get(want.name);
    expect(got, want.name).toBeDefined();
    const kind = { counter: 'sum', gauge: 'gauge', histogram: 'histogram' }[want.type];
    expect(got!.kind, want.name).toBe(kind);
    if (want.type === 'counter') expect(got!.monotonic, want.name).toBe(true);
    const byKey = new Map(got!.points.map((p) => [key(p.labels), p]));
    expect(byKey.size, `${want.name} series`).toBe(want.series.length);
    for (const s of want.series) {
      const p = byKey.get(key(s.labels));
      expect(p, `${want.name} ${key(s.labels)}`).toBeDefined();
      if (want.type === 'histogram') {
        expect(p!.count, `${want.name} count`).toBe(s.count);
        expect(p!.sum, `${want.name} sum`).toBeCloseTo(s.sum!, 9);
        expect(p!.buckets, `${want.name} buckets`).toEqual(s.buckets);
      } else {
        expect(p!.value, `${want.name} ${key(s.labels)}`).toBe(s.value);
      }
    }
  }
  // And nothing the replay does not have, besides the process's own families.
  for (const name of metrics.keys()) if (!PROCESS_ONLY.test(name)) expect(replayed.map((m) => m.name)).toContain(name);
}

function lastExport(r: Receiver): Map<string, ReceivedMetric> {
  const last = r.exports[r.exports.length - 1]!;
  return new Map(last.metrics.map((m) => [m.name, m]));
}

async function run(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'qle-otlp-'));
  const d = await startDaemon({ inputs: [{ paths: [FIXTURE], start_at: 'beginning', source: 'supervisord' }], ...config }, dir, {
    POD_NAME: 'quay-app-7d9f8-x2k4q',
    POD_NAMESPACE: 'registry',
    ...env,
  });
  daemons.push(d);
  return d;
}

describe('otlp output', () => {
  it('http/protobuf: every catalogue metric with the values replay prints, the pod as resource, cumulative', async () => {
    const receiver = await startHttpReceiver();
    receivers.push(receiver);
    const tokenFile = join(certs.dir, 'otlp-token');
    writeFileSync(tokenFile, `Bearer ${TOKEN}\n`);
    // A base endpoint: /v1/metrics is appended, as the Collector's otlphttp exporter does.
    const d = await run({
      outputs: { otlp: { protocol: 'http/protobuf', endpoint: receiver.url, interval: '200ms', headers: { Authorization: { file: tokenFile } } } },
    });
    await waitFor('an export with all 35 lines', () => receiver.exports.some((e) => linesIn(e) === FIXTURE_LINES));
    await waitFor('an export after that', () => linesIn(receiver.exports[receiver.exports.length - 1]!) === FIXTURE_LINES);
    expect(receiver.contentTypes[0]).toBe('application/x-protobuf');
    const last = receiver.exports[receiver.exports.length - 1]!;
    expectSameAsReplay(lastExport(receiver));
    expect(last.metrics.find((m) => m.name === 'quay_registry_pulls_total')!.temporality).toBe('cumulative');
    // The Downward API's POD_NAME / POD_NAMESPACE; service.instance.id is the pod.
    expect(last.resource).toMatchObject({
      'service.name': 'quay-log-exporter',
      'service.instance.id': 'quay-app-7d9f8-x2k4q',
      'k8s.pod.name': 'quay-app-7d9f8-x2k4q',
      'k8s.namespace.name': 'registry',
    });
    expect(last.scope).toBe('quay-log-exporter');
    // The header value from the file, without its newline; and never in the exporter's log.
    expect(last.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(d.stderr()).toContain('otlp output started');
    expect(d.stderr()).not.toContain(TOKEN);
    expect((await d.get('/metrics')).body).not.toContain(TOKEN);
    // The output's own counter: every point the receiver decoded was counted as written, no more
    // (an export is counted once its answer is back, so the receiver may be one export ahead).
    const received = () => receiver.exports.reduce((a, e) => a + e.metrics.reduce((b, m) => b + m.points.length, 0), 0);
    const before = received();
    const written = sum(await d.samples(), 'quay_log_exporter_output_points_written_total', { output: 'otlp' });
    const after = received();
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(after);
    expect(written).toBeGreaterThanOrEqual(before - Math.max(...receiver.exports.map((e) => e.metrics.reduce((b, m) => b + m.points.length, 0))));
  });

  it('http/json over TLS with a client certificate: the same numbers, resource from config', async () => {
    const receiver = await startHttpReceiver({ key: certs.serverKey, cert: certs.serverCert, clientCa: certs.caCert });
    receivers.push(receiver);
    await run({
      outputs: {
        otlp: {
          protocol: 'http/json',
          endpoint: `${receiver.url}/v1/metrics`,
          interval: '200ms',
          compression: 'gzip',
          tls: { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey },
          resource: { service_name: 'quay-prod', namespace: 'quay-prod-ns', attributes: { 'deployment.environment.name': 'prod' } },
        },
      },
    });
    await waitFor('an export with all 35 lines', () => receiver.exports.some((e) => linesIn(e) === FIXTURE_LINES));
    await waitFor('an export after that', () => linesIn(receiver.exports[receiver.exports.length - 1]!) === FIXTURE_LINES);
    expect(receiver.contentTypes[0]).toBe('application/json');
    expectSameAsReplay(lastExport(receiver));
    expect(receiver.exports[0]!.resource).toMatchObject({
      'service.name': 'quay-prod',
      'service.instance.id': 'quay-app-7d9f8-x2k4q',
      'k8s.pod.name': 'quay-app-7d9f8-x2k4q',
      // config wins over POD_NAMESPACE
      'k8s.namespace.name': 'quay-prod-ns',
      'deployment.environment.name': 'prod',
    });
  });

  it('grpc and delta, chosen by OTEL_EXPORTER_OTLP_* env alone: the deltas add up to what replay prints', async () => {
    const receiver = await startGrpcReceiver();
    receivers.push(receiver);
    const d = await run(
      { outputs: { otlp: { interval: '200ms' } } },
      {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: `x-scope-orgid=${TOKEN}`,
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
      },
    );
    const total = () => receiver.exports.reduce((a, e) => a + linesIn(e), 0);
    await waitFor('deltas adding up to 35 lines', () => total() === FIXTURE_LINES);
    // Two more exports, each with the lines counter's delta 0: nothing is counted twice.
    const seen = receiver.exports.length;
    await waitFor('two more exports', () => receiver.exports.length >= seen + 2);
    expect(total()).toBe(FIXTURE_LINES);
    expect(receiver.exports[0]!.headers['x-scope-orgid']).toBe(TOKEN);
    expect(d.stderr()).not.toContain(TOKEN);
    // Add the deltas of sums and histograms; gauges are the last value.
    const added = new Map<string, ReceivedMetric>();
    for (const e of receiver.exports) {
      for (const m of e.metrics) {
        if (m.kind !== 'gauge') expect(m.temporality, m.name).toBe('delta');
        const acc = added.get(m.name);
        if (!acc || m.kind === 'gauge') {
          added.set(m.name, structuredClone(m));
          continue;
        }
        for (const p of m.points) {
          const q = acc.points.find((x) => key(x.labels) === key(p.labels));
          if (!q) acc.points.push(structuredClone(p));
          else if (m.kind === 'sum') q.value! += p.value!;
          else {
            q.count! += p.count!;
            q.sum! += p.sum!;
            for (const [b, c] of Object.entries(p.buckets!)) q.buckets![b]! += c;
          }
        }
      }
    }
    expectSameAsReplay(added);
  });

  it('one export at shutdown and none before the first interval: SIGTERM sends the final numbers once', async () => {
    const receiver = await startHttpReceiver();
    receivers.push(receiver);
    // An interval far longer than the test: the only export is the final one at SIGTERM.
    const d = await run({ outputs: { otlp: { protocol: 'http/json', endpoint: receiver.url, interval: '1h' } } });
    await waitFor('35 lines on /metrics', async () => sum(await d.samples(), 'quay_log_exporter_lines_total') === FIXTURE_LINES);
    expect(await d.stop('SIGTERM')).toBe(0);
    // Exactly one export (a preflight that built the output would have sent a second, empty one), with all 35 lines.
    expect(receiver.exports).toHaveLength(1);
    expect(linesIn(receiver.exports[0]!)).toBe(FIXTURE_LINES);
  });

  it('a dead collector: failed exports are counted, lines keep being counted, one export in flight at most', async () => {
    // A "collector" that accepts connections and never answers: the worst case for memory.
    const sockets = new Set<Socket>();
    let open = 0;
    let maxOpen = 0;
    const hang = createServer((s) => {
      sockets.add(s);
      open++;
      maxOpen = Math.max(maxOpen, open);
      s.on('close', () => open--);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (hang.address() as { port: number }).port;
    const refused = await freePort();
    try {
      const d = await run({
        outputs: { otlp: { protocol: 'http/protobuf', endpoint: `http://127.0.0.1:${port}`, interval: '100ms', timeout: '5s' } },
      });
      // The lines are counted while the collector never answers.
      await waitFor('35 lines on /metrics', async () => sum(await d.samples(), 'quay_log_exporter_lines_total') === FIXTURE_LINES);
      // Exports keep coming every 100 ms; each one finding the first still in flight fails at once and is counted.
      await waitFor('5 failed exports', async () => sum(await d.samples(), 'quay_log_exporter_output_write_errors_total', { output: 'otlp' }) >= 5);
      const samples = await d.samples();
      expect(sum(samples, 'quay_log_exporter_output_points_written_total', { output: 'otlp' })).toBe(0);
      expect(sum(samples, 'quay_log_exporter_output_dropped_points_total', { output: 'otlp' })).toBeGreaterThan(0);
      // Nothing piles up: one request open at a time (one connection), however many exports failed.
      expect(maxOpen).toBe(1);
      expect(d.stderr()).toContain('otlp export failed');

      // A refused port: every export fails (after retries within the timeout) and is counted; the daemon stays up.
      const d2 = await run({
        outputs: { otlp: { protocol: 'http/json', endpoint: `http://127.0.0.1:${refused}`, interval: '100ms', timeout: '200ms' } },
      });
      await waitFor('2 failed exports', async () => sum(await d2.samples(), 'quay_log_exporter_output_write_errors_total', { output: 'otlp' }) >= 2);
      await waitFor('35 lines counted meanwhile', async () => sum(await d2.samples(), 'quay_log_exporter_lines_total') === FIXTURE_LINES);
      expect(await d2.stop()).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      hang.close();
    }
  });
});

describe('otlp config', () => {
  it('check-config refuses an unknown protocol, an unreadable header file and a lone client cert, naming the keys (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-otlp-cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'outputs:\n  otlp:\n    protocol: http/xml\n    temporality: lowmemory\n');
    const r1 = await runCli(['check-config', bad]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('outputs.otlp.protocol');
    expect(r1.stderr).toContain('outputs.otlp.temporality');
    const files = join(dir, 'files.yaml');
    writeFileSync(files, 'outputs:\n  otlp:\n    headers:\n      Authorization: {file: missing-token}\n    tls: {ca_file: ca.crt}\n');
    const r2 = await runCli(['check-config', files]);
    expect(r2.code).toBe(2);
    // Relative to the config file, as every path in it.
    expect(r2.stderr).toContain(`outputs.otlp.headers.Authorization.file: cannot read ${join(dir, 'missing-token')} (ENOENT)`);
    expect(r2.stderr).toContain(`outputs.otlp.tls.ca_file: cannot read ${join(dir, 'ca.crt')} (ENOENT)`);
    const lone = join(dir, 'lone.yaml');
    writeFileSync(lone, 'outputs:\n  otlp:\n    tls: {cert_file: client.crt}\n');
    const r4 = await runCli(['check-config', lone]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain('outputs.otlp.tls: give cert_file and key_file together');
    writeFileSync(join(dir, 'token'), `Bearer ${TOKEN}\n`);
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'outputs:\n  otlp:\n    protocol: grpc\n    headers:\n      Authorization: {file: token}\n');
    // check-config touches no network: a receiver at the endpoint gets nothing (preflight builds the pipeline without outputs).
    const receiver = await startHttpReceiver();
    receivers.push(receiver);
    writeFileSync(good, `outputs:\n  otlp:\n    protocol: http/json\n    endpoint: ${receiver.url}\n    headers:\n      Authorization: {file: token}\n`);
    const r5 = await runCli(['check-config', good]);
    expect(r5.code).toBe(0);
    expect(receiver.contentTypes).toEqual([]);
    writeFileSync(good, 'outputs:\n  otlp:\n    protocol: grpc\n    headers:\n      Authorization: {file: token}\n');
    const r3 = await runCli(['check-config', good]);
    expect(r3.code).toBe(0);
    expect(r3.stdout).toContain('otlp grpc');
    expect(r3.stdout + r3.stderr).not.toContain(TOKEN);
  });
});

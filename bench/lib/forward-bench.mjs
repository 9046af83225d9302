/**
 * The forward input under load: the exporter (`node dist/cli.js --config
 * FILE`, a `type: forward` input on 127.0.0.1) receives every line of the
 * corpus as a record `{log: line}` from @fluent-org/logger in this process,
 * PackedForward with acks (what Fluent Bit's `Require_ack_response On`
 * does), at most `inflight` records unacknowledged. Measures records/s from
 * the first emit to the last ack, the exporter's CPU per record (utime+stime
 * from /proc/<pid>/stat), the client's CPU beside it, and checks /metrics
 * against the corpus's true counts like the replay.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FluentClient } from '@fluent-org/logger';

const TICKS_PER_SEC = 100; // Linux USER_HZ

function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC; // utime, stime
}

function vmRssKb(pid) {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

export async function measureForward(cli, { corpusFile, lines, benchConfigFile, mode = 'PackedForward', inflight = 20_000 }) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-fwd-bench-'));
  const base = JSON.parse(readFileSync(benchConfigFile, 'utf8'));
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      ...base,
      log_level: 'info',
      state_dir: join(dir, 'state'),
      prometheus: { listen: '127.0.0.1:0' },
      inputs: [{ type: 'forward', name: 'bench', source: 'supervisord', forward: { listen: '127.0.0.1:0' } }],
    }),
  );
  const child = spawn(process.execPath, [cli, '--config', cfgPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exporter did not start in 20 s:\n${stderr}`)), 20_000);
    child.stderr.on('data', (b) => {
      stderr += b;
      const metrics = /"msg":"serving metrics","address":"([^"]+)"/.exec(stderr);
      const fwd = /"msg":"forward input listening"[^}]*"address":"[^"]*:(\d+)"/.exec(stderr);
      if (metrics && fwd) {
        clearTimeout(timer);
        resolve({ metricsUrl: `http://${metrics[1]}/metrics`, port: Number(fwd[1]) });
      }
    });
  });
  const { metricsUrl, port } = await ready;
  try {
    const client = new FluentClient('quay.supervisord', {
      eventMode: mode,
      socket: { host: '127.0.0.1', port, disableReconnect: true },
      ack: { ackTimeout: 120_000 },
      flushInterval: 5,
      sendQueueIntervalFlushLimit: { length: 2000 },
    });
    await client.connect();
    const cpu0 = cpuMsOf(child.pid);
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    let pending = 0;
    let sent = 0;
    let wake = null;
    const done = () => {
      pending--;
      if (wake && pending < inflight / 2) {
        const w = wake;
        wake = null;
        w();
      }
    };
    const rl = createInterface({ input: createReadStream(corpusFile), crlfDelay: Infinity });
    for await (const line of rl) {
      if (sent >= lines) break;
      sent++;
      pending++;
      client.emit({ log: line }).then(done, (err) => {
        throw err;
      });
      if (pending >= inflight) await new Promise((r) => (wake = r));
    }
    rl.close();
    while (pending > 0) await new Promise((r) => setTimeout(r, 1));
    const wallMs = performance.now() - t0;
    const exporterCpuMs = cpuMsOf(child.pid) - cpu0;
    const c = process.cpuUsage(client0);
    await client.disconnect();
    const exposition = await (await fetch(metricsUrl)).text();
    return {
      mode,
      records: sent,
      wallSec: wallMs / 1000,
      recordsPerSec: sent / (wallMs / 1000),
      exporterCpuSec: exporterCpuMs / 1000,
      exporterCpuUsPerRecord: (exporterCpuMs * 1000) / sent,
      clientCpuUsPerRecord: (c.user + c.system) / sent,
      peakRssMb: vmRssKb(child.pid) / 1024,
      exposition,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

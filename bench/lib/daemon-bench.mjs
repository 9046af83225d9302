/**
 * The running exporter (`node dist/cli.js --config FILE`) following a file:
 *  - latency: append one line, poll /metrics until the series it adds shows
 *    the new value; the time from the write to that scrape, per line;
 *  - steady RSS: follow a corpus with 10 000 distinct repositories, wait
 *    until every line is counted, then read VmRSS from /proc/<pid>/status.
 * Binds 127.0.0.1 on a port the exporter picks (listen :0, read from its log).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePrometheus } from './prom.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startDaemon(cli, config, dir) {
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, JSON.stringify(config, null, 1)); // JSON is YAML
  const child = spawn(process.execPath, [cli, '--config', cfgPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const address = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exporter did not start within 20 s; stderr:\n${stderr}`)), 20_000);
    child.stderr.on('data', (b) => {
      stderr += b;
      const m = /"address":"([^"]+)"/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exporter exited (${code}) before serving; stderr:\n${stderr}`));
    });
  });
  child.stderr.removeAllListeners('data');
  child.stderr.resume();
  const url = `http://${address}/metrics`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  return { child, url, stop };
}

async function scrape(url) {
  const res = await fetch(url);
  return res.text();
}

function value(samples, name, labels) {
  let v = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, x]) => s.labels[k] === x)) v += s.value;
  }
  return v;
}

const baseConfig = (dir, logPath) => ({
  state_dir: join(dir, 'state'),
  log_level: 'info',
  prometheus: { listen: '127.0.0.1:0' },
  inputs: [{ type: 'file', name: 'bench', paths: [logPath], source: 'supervisord', start_at: 'beginning' }],
});

/** Median latency (ms) from append to visibility on /metrics, over `count` lines. */
export async function measureLatency(cli, { count = 15 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-latency-'));
  const logPath = join(dir, 'quay.log');
  writeFileSync(logPath, '');
  const d = await startDaemon(cli, baseConfig(dir, logPath), dir);
  const labels = { operation: 'pull_manifest', namespace: 'bench', repository: 'latency/probe', status: '200' };
  const lat = [];
  try {
    for (let k = 1; k <= count; k++) {
      const line = `nginx stdout | 10.0.0.1 (-) - - [22/Nov/2026:10:00:00 +0000] "GET /v2/bench/latency/probe/manifests/v${k} HTTP/1.1" 200 1500 "-" "docker/24.0.7" (0.004 512 0.004)\n`;
      // Let the poller go idle between lines so each write lands at a random phase of its interval.
      await sleep(137 + ((k * 71) % 200));
      const t0 = performance.now();
      appendFileSync(logPath, line);
      for (;;) {
        const v = value(parsePrometheus(await scrape(d.url)), 'quay_registry_requests_total', labels);
        if (v >= k) break;
        if (performance.now() - t0 > 10_000) throw new Error(`line ${k} not visible on /metrics after 10 s`);
        await sleep(5);
      }
      lat.push(performance.now() - t0);
    }
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  lat.sort((a, b) => a - b);
  return { medianMs: lat[Math.floor(lat.length / 2)], maxMs: lat[lat.length - 1], samples: lat.length };
}

/** Follow `corpusPath` to its end, then sample VmRSS until it stops moving. */
export async function measureDaemonRss(cli, corpusPath, totalLines) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-rss-'));
  const d = await startDaemon(cli, baseConfig(dir, corpusPath), dir);
  const vmRss = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  };
  try {
    const t0 = performance.now();
    let samples = [];
    for (;;) {
      samples = parsePrometheus(await scrape(d.url));
      if (value(samples, 'quay_log_exporter_lines_total', {}) >= totalLines) break;
      if (performance.now() - t0 > 120_000) throw new Error('daemon did not read the whole corpus within 120 s');
      // A scrape of 60 000 series is work too: poll about as often as a fast Prometheus would.
      await sleep(1000);
    }
    const catchUpMs = performance.now() - t0;
    // Steady: keep scraping (a scrape allocates too), every 2 s for 12 s, and take the last reading.
    const rss = [];
    for (let i = 0; i < 6; i++) {
      await sleep(2000);
      await scrape(d.url);
      rss.push(vmRss());
    }
    // Series as Prometheus counts them, less histogram buckets (a histogram is one series here).
    const series = samples.filter((s) => !s.name.endsWith('_bucket') && !s.name.endsWith('_sum')).length;
    const registrySeries = samples.filter((s) => s.name === 'quay_registry_requests_total').length;
    return { steadyRssKb: rss[rss.length - 1], maxSampledRssKb: Math.max(...rss), series, registrySeries, catchUpMs };
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

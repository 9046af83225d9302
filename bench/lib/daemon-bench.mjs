/**
 * The running exporter (`node dist/cli.js --config FILE`) following a file:
 *  - latency: append one line, poll /metrics until the series it adds shows
 *    the new value; the time from the write to that scrape, per line;
 *  - steady RSS: follow a corpus with 10 000 distinct repositories, wait
 *    until every line is counted, then read VmRSS from /proc/<pid>/status;
 *  - CPU per 1,000 lines/s: append a corpus to a followed file at a steady
 *    rate and read utime+stime from /proc/<pid>/stat over the window.
 * Binds 127.0.0.1 on a port the exporter picks (listen :0, read from its log).
 * `nodeOptions` runs the exporter with that NODE_OPTIONS (the shipped
 * Deployment's: shippedNodeOptions()), else with Node's defaults.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parsePrometheus } from './prom.mjs';

const TICKS_PER_SEC = 100; // Linux USER_HZ (getconf CLK_TCK)

/** The NODE_OPTIONS of the shipped Deployment's exporter container (as bench/scrape-at-cap.mjs runs it). */
export function shippedNodeOptions(root) {
  const deployment = parseAllDocuments(readFileSync(join(root, 'deploy/kubernetes/deployment.yaml'), 'utf8'))[0].toJS();
  const sidecar = deployment.spec.template.spec.containers.find((c) => c.name === 'quay-log-exporter');
  return sidecar.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
}

/** utime+stime of a process, ms. */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SEC;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startDaemon(cli, config, dir, nodeOptions) {
  const cfgPath = join(dir, 'config.yaml');
  writeFileSync(cfgPath, JSON.stringify(config, null, 1)); // JSON is YAML
  const env = { ...process.env };
  if (nodeOptions !== undefined) env.NODE_OPTIONS = nodeOptions;
  else delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [cli, '--config', cfgPath], { stdio: ['ignore', 'ignore', 'pipe'], env });
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
export async function measureDaemonRss(cli, corpusPath, totalLines, { nodeOptions } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-rss-'));
  const d = await startDaemon(cli, baseConfig(dir, corpusPath), dir, nodeOptions);
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
    return { steadyRssKb: rss[rss.length - 1], maxSampledRssKb: Math.max(...rss), peakRssKb: vmHwm(d.child.pid), series, registrySeries, catchUpMs, nodeOptions: nodeOptions ?? '' };
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function vmHwm(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/**
 * The daemon's CPU at steady traffic: it follows an empty file; the lines of
 * `corpusPath` are appended to it, whole lines, every 50 ms as many as are due
 * at `rate` lines/s, for `seconds` per rate, the rates one after the other
 * (after an idle window of the same length: rate 0). CPU (utime+stime from
 * /proc/<pid>/stat) is read when a window starts and once the daemon has
 * counted its last line; CPU % of one core = CPU s / window s. /metrics is
 * scraped every `scrapeEverySec` as Prometheus would (the scrapes' cost is
 * in the figure). Returns the windows and the final exposition, to be
 * checked against the corpus's true counts: the corpus has at least the
 * lines the windows append, and the last window appends the few the
 * generator wrote past its request (it finishes what it started).
 */
export async function measureDaemonCpu(cli, { corpusPath, extraConfig = {}, rates = [1000, 5000], seconds = 20, scrapeEverySec = 15, nodeOptions } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-cpu-'));
  const logPath = join(dir, 'quay.log');
  writeFileSync(logPath, '');
  const lines = readFileSync(corpusPath, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const needed = rates.reduce((n, r) => n + r * seconds, 0);
  if (lines.length < needed || lines.length > needed + 100) throw new Error(`measureDaemonCpu: the corpus has ${lines.length} lines, the windows append ${needed}`);
  const d = await startDaemon(cli, { ...baseConfig(dir, logPath), ...extraConfig }, dir, nodeOptions);
  const counted = async () => value(parsePrometheus(await scrape(d.url)), 'quay_log_exporter_lines_total', {});
  const windows = [];
  let next = 0; // index of the next corpus line to append
  let lastScrape = performance.now();
  const fd = openSync(logPath, 'a');
  try {
    await sleep(2000); // start-up settles
    const plan = [0, ...rates];
    for (let w = 0; w < plan.length; w++) {
      const rate = plan[w];
      const first = next;
      const last = w === plan.length - 1;
      const cpu0 = cpuMsOf(d.child.pid);
      const t0 = performance.now();
      for (;;) {
        const elapsed = (performance.now() - t0) / 1000;
        let due = first + Math.min(rate * seconds, Math.floor(rate * elapsed));
        if (last && elapsed >= seconds) due = lines.length;
        if (due > next) {
          writeSync(fd, lines.slice(next, due).join('\n') + '\n'); // whole lines, one write
          next = due;
        }
        if (performance.now() - lastScrape >= scrapeEverySec * 1000) {
          lastScrape = performance.now();
          await scrape(d.url);
        }
        if (elapsed >= seconds) break;
        await sleep(50);
      }
      const appendedMs = performance.now() - t0;
      // The window ends when the daemon has counted every line appended so far.
      for (;;) {
        if ((await counted()) >= next) break;
        if (performance.now() - t0 > (seconds + 60) * 1000) throw new Error(`daemon did not keep up with ${rate} lines/s`);
        await sleep(100);
      }
      const cpuMs = cpuMsOf(d.child.pid) - cpu0;
      const wallMs = performance.now() - t0;
      windows.push({ rate, lines: next - first, seconds, appendedMs, wallMs, cpuMs, cpuPct: (100 * cpuMs) / wallMs, rssKb: vmRssKbOf(d.child.pid) });
    }
    const exposition = await scrape(d.url);
    return { windows, exposition, nodeOptions: nodeOptions ?? '', scrapeEverySec, peakRssKb: vmHwm(d.child.pid) };
  } finally {
    closeSync(fd);
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function vmRssKbOf(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}

/**
 * The shipped Kubernetes limits at the series cap (issue 10 item 4): the
 * daemon follows a corpus of N distinct repositories (50 000 by default, so
 * every per-repository family sits at its 10 000-series cap and folds the
 * rest), with the shipped defaults and python-traceback multi-line as in
 * deploy/kubernetes, then takes rounds of 10 parallel scrapes of /metrics.
 * It reports each scrape's time, the peak RSS (VmHWM) against the example's
 * 384 MiB limit, VmRSS after each round (growth past the cap shows here),
 * /mirror/health's size and the state files' sizes.
 *
 *   node bench/scrape-at-cap.mjs [--repos 50000] [--lines 600000] [--rounds 10] [--parallel 10]
 *
 * Exits 1 when a scrape takes 2 s or more or the peak passes 384 MiB.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { generateCorpus } from './corpus.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli.js');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REPOS = arg('repos', 50_000);
const LINES = arg('lines', 600_000);
const ROUNDS = arg('rounds', 10);
const PARALLEL = arg('parallel', 10);
const LIMIT_MIB = 384;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const cacheDir = join(ROOT, 'bench/corpus');
mkdirSync(cacheDir, { recursive: true });
const corpus = join(cacheDir, `cap-${REPOS}-${LINES}.log`);
if (!existsSync(corpus)) {
  console.error(`generating ${LINES} lines over ${REPOS} repositories…`);
  generateCorpus({ out: corpus, seed: 42, lines: LINES, repos: REPOS });
}

const dir = mkdtempSync(join(tmpdir(), 'qle-cap-'));
const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  JSON.stringify({
    state_dir: join(dir, 'state'),
    prometheus: { listen: '127.0.0.1:0' },
    inputs: [{ name: 'quay-app', paths: [corpus], source: 'supervisord', start_at: 'beginning', multiline: { preset: 'python-traceback' } }],
  }),
);
// The sidecar's own NODE_OPTIONS (V8 heap size) from the shipped Deployment, so the figures are the example's.
const deployment = parseAllDocuments(readFileSync(join(ROOT, 'deploy/kubernetes/deployment.yaml'), 'utf8'))[0].toJS();
const sidecar = deployment.spec.template.spec.containers.find((c) => c.name === 'quay-log-exporter');
const nodeOptions = sidecar.env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: nodeOptions } });
let stderr = '';
child.stderr.on('data', (b) => (stderr += b));
const status = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024;
try {
  let port;
  for (let t = 0; !(port = /"address":"[^"]*:(\d+)"/.exec(stderr)?.[1]); t++) {
    if (t > 400) throw new Error(`no address:\n${stderr}`);
    await sleep(50);
  }
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  for (;;) {
    const text = await (await fetch(`${base}/metrics`)).text();
    // Caught up: every byte of the corpus read (the lag alone is 0 before the file is even opened).
    const read = Number(/quay_log_exporter_input_bytes_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? NaN);
    if (read === statSync(corpus).size) break;
    if (performance.now() - t0 > 300_000) throw new Error('not caught up in 300 s');
    await sleep(2000);
  }
  const catchUp = (performance.now() - t0) / 1000;
  const text = await (await fetch(`${base}/metrics`)).text();
  const series = text.split('\n').filter((l) => l && !l.startsWith('#') && !/_bucket\{|_sum[{ ]/.test(l)).length;
  const bytes = text.length;
  const times = [];
  const rss = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        const s = performance.now();
        const res = await fetch(`${base}/metrics`);
        await res.arrayBuffer(); // bytes, not a decoded string: the client should cost little next to the server
        return performance.now() - s;
      }),
    );
    times.push(...round);
    rss.push(status('VmRSS'));
    await sleep(1000);
  }
  const health = await (await fetch(`${base}/mirror/health`)).text();
  const stateFiles = Object.fromEntries(readdirSync(join(dir, 'state')).map((f) => [f, statSync(join(dir, 'state', f)).size]));
  times.sort((a, b) => a - b);
  const peak = status('VmHWM');
  const out = {
    repos: REPOS,
    lines: LINES,
    catch_up_s: +catchUp.toFixed(1),
    series,
    exposition_mb: +(bytes / 1e6).toFixed(1),
    scrapes: times.length,
    scrape_ms: { median: Math.round(times[times.length >> 1]), p90: Math.round(times[Math.floor(times.length * 0.9)]), max: Math.round(times[times.length - 1]) },
    rss_mib_after_each_round: rss.map((x) => Math.round(x)),
    peak_rss_mib: Math.round(peak),
    limit_mib: LIMIT_MIB,
    node_options: nodeOptions,
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    mirror_health_kb: Math.round(health.length / 1024),
    state_file_bytes: stateFiles,
  };
  console.log(JSON.stringify(out, null, 1));
  const ok = times[times.length - 1] < 2000 && peak < LIMIT_MIB;
  if (!ok) console.error('FAILED: a scrape took 2 s or more, or the peak passed the limit');
  process.exitCode = ok ? 0 : 1;
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}

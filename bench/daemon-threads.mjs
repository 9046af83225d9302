#!/usr/bin/env node
/**
 * `run` with pipeline.threads 1 against 2 (issue 16, the daemon half): a
 * daemon following several busy files. Interleaved A/B (1, 2, 1, 2, …),
 * medians; CPU is utime+stime of the whole process (all its threads) from
 * /proc/<pid>/stat; the load average is noted beside each run.
 *  - catch-up: the daemon follows `--files` empty files; 2 s after it
 *    started (its workers ready), `--lines` generated lines are written to
 *    each at once; from the writes to the scrape that shows every line
 *    counted: lines/s (the most it can follow) and CPU s.
 *  - steady: the daemon follows `--files` empty files; `--rate` lines/s in
 *    all are appended across them (whole lines, every 50 ms) for `--seconds`;
 *    the window ends once every line is counted: CPU s and % of one core.
 * Every run's lines_total must equal the lines written, and threads 2's
 * families the same as threads 1's.
 *
 *   npm run build && node bench/daemon-threads.mjs [--files 4] [--lines 150000] [--runs 3] [--rates 5000,25000] [--seconds 20] [--skip catchup,steady]
 * `npm run bench` runs it too (section `daemon-threads`, its --runs).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { generateCorpus } from './corpus.mjs';
import { parsePrometheus } from './lib/prom.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(ROOT, 'dist', 'cli.js');
let FILES = 4;
let LINES = 150_000;
let RUNS = 3;
let RATES = [5000, 25000];
let SECONDS = 20;
let SKIP = new Set();
const TICKS_PER_SEC = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const load = () => loadavg()[0].toFixed(1);

const rssKbOf = (pid) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SEC;
}

async function startDaemon(config, dir) {
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, JSON.stringify(config));
  const child = spawn(process.execPath, [CLI, 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let started = 0;
  const url = await new Promise((resolve, reject) => {
    let address;
    child.stderr.on('data', (b) => {
      stderr += b;
      address ??= /"msg":"serving metrics","address":"([^"]+)"/.exec(stderr)?.[1];
      if (address && stderr.includes('"msg":"started"')) {
        started = cpuMsOf(child.pid); // start-up excluded
        child.stderr.removeAllListeners('data');
        child.stderr.resume();
        resolve(`http://${address}/metrics`);
      }
    });
    child.on('exit', (code) => reject(new Error(`exporter exited (${code}):\n${stderr}`)));
  });
  const t0 = performance.now();
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return { child, url, stop, startedCpuMs: started, t0, stderr: () => stderr };
}

const scrape = async (url) => (await fetch(url)).text();
const linesTotal = (samples) => samples.filter((s) => s.name === 'quay_log_exporter_lines_total').reduce((n, s) => n + s.value, 0);
/**
 * The families compared between 1 and 2 threads: every series the lines make, sorted (with files
 * appended to at once, which file's line makes a series first depends on when each was read).
 */
const families = (text) =>
  text
    .split('\n')
    .filter((l) => /^quay_(registry|mirror|gc|http|log_exporter_lines)/.test(l))
    .sort()
    .join('\n');

const config = (dir, paths, threads, startAt) => ({
  state_dir: join(dir, 'state'),
  prometheus: { listen: '127.0.0.1:0' },
  pipeline: { threads },
  inputs: [{ type: 'file', name: 'bench', paths, source: 'supervisord', start_at: startAt }],
});

async function catchUp(corpora, total, threads) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-dt-catchup-'));
  const paths = corpora.map((_, i) => join(dir, `quay-${i}.log`));
  for (const p of paths) writeFileSync(p, '');
  const la = load();
  const d = await startDaemon(config(dir, paths, threads, 'end'), dir);
  try {
    // Start-up (the workers' module loading and pattern compiling) settles first: not in the figure.
    await sleep(2000);
    const contents = corpora.map((c) => readFileSync(c));
    const cpu0 = cpuMsOf(d.child.pid);
    const t0 = performance.now();
    contents.forEach((c, i) => writeFileSync(paths[i], c));
    for (;;) {
      const text = await scrape(d.url);
      const n = linesTotal(parsePrometheus(text));
      if (n === total) {
        const wallMs = performance.now() - t0;
        const cpuMs = cpuMsOf(d.child.pid) - cpu0;
        // A scrape is rendered in slices (the event loop runs between them), so the families before
        // lines_total in it may be older: the next scrape, started after, has everything.
        return { threads, wallMs, cpuMs, linesPerSec: total / (wallMs / 1000), load: la, rssKb: rssKbOf(d.child.pid), exposition: families(await scrape(d.url)) };
      }
      if (n > total) throw new Error(`${n} lines counted, ${total} written`);
      await sleep(100);
    }
  } finally {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function steady(lines, rate, threads) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-dt-steady-'));
  const paths = Array.from({ length: FILES }, (_, i) => join(dir, `quay-${i}.log`));
  for (const p of paths) writeFileSync(p, '');
  const d = await startDaemon(config(dir, paths, threads, 'end'), dir);
  const fds = paths.map((p) => openSync(p, 'a'));
  const la = load();
  try {
    await sleep(1000);
    const cpu0 = cpuMsOf(d.child.pid);
    const t0 = performance.now();
    const want = rate * SECONDS;
    let next = 0;
    let lastScrape = t0;
    while (next < want) {
      const due = Math.min(want, Math.floor((rate * (performance.now() - t0)) / 1000));
      // Round-robin: each file gets its share of the due lines, whole lines, one write each.
      if (due > next) {
        const per = Array.from({ length: FILES }, () => []);
        for (let i = next; i < due; i++) per[i % FILES].push(lines[i % FILES][Math.floor(i / FILES)]);
        per.forEach((ls, f) => ls.length > 0 && writeSync(fds[f], ls.join('\n') + '\n'));
        next = due;
      }
      if (performance.now() - lastScrape >= 15_000) {
        lastScrape = performance.now();
        await scrape(d.url);
      }
      await sleep(50);
    }
    let text;
    for (;;) {
      text = await scrape(d.url);
      if (linesTotal(parsePrometheus(text)) >= want) break;
      await sleep(100);
    }
    const n = linesTotal(parsePrometheus(text));
    if (n !== want) throw new Error(`${n} lines counted, ${want} written`);
    text = await scrape(d.url); // see catchUp: the next scrape has every family complete
    const cpuMs = cpuMsOf(d.child.pid) - cpu0;
    const wallMs = performance.now() - t0;
    return { threads, rate, lines: want, wallMs, cpuMs, cpuPct: (100 * cpuMs) / wallMs, load: la, rssKb: rssKbOf(d.child.pid), exposition: families(text) };
  } finally {
    for (const fd of fds) closeSync(fd);
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The whole comparison; `npm run bench` runs it as its `daemon-threads` section. */
export async function benchDaemonThreads(o = {}) {
  FILES = o.files ?? FILES;
  LINES = o.lines ?? LINES;
  RUNS = o.runs ?? RUNS;
  RATES = o.rates ?? RATES;
  SECONDS = o.seconds ?? SECONDS;
  SKIP = o.skip ?? SKIP;
  const work = mkdtempSync(join(tmpdir(), 'qle-dt-'));
  log(`generating ${FILES} corpora of ${LINES} lines…`);
  const corpora = [];
  const lines = [];
  let total = 0;
  for (let i = 0; i < FILES; i++) {
    const out = join(work, `corpus-${i}.log`);
    const truth = generateCorpus({ seed: 100 + i, lines: LINES, out });
    corpora.push(out);
    total += truth.lines;
    const ls = readFileSync(out, 'utf8').split('\n');
    ls.pop();
    lines.push(ls);
  }
  const result = { files: FILES, linesPerFile: LINES, total, runs: RUNS, catchUp: [], steady: [] };
  try {
    if (!SKIP.has('catchup')) {
      for (let r = 0; r < RUNS; r++) {
        for (const threads of [1, 2]) {
          log(`catch-up ${total} lines in ${FILES} files, threads ${threads} (${r + 1}/${RUNS}), load ${load()}…`);
          result.catchUp.push(await catchUp(corpora, total, threads));
        }
      }
    }
    if (!SKIP.has('steady')) {
      for (const rate of RATES) {
        if (rate * SECONDS > total) throw new Error(`--rates ${rate} for ${SECONDS} s needs ${rate * SECONDS} lines; the corpora have ${total}`);
        for (let r = 0; r < RUNS; r++) {
          for (const threads of [1, 2]) {
            log(`steady ${rate} lines/s over ${FILES} files for ${SECONDS} s, threads ${threads} (${r + 1}/${RUNS}), load ${load()}…`);
            result.steady.push(await steady(lines, rate, threads));
          }
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  // Exact: threads 2 counted what threads 1 counted, run for run.
  for (const group of [result.catchUp, ...RATES.map((rate) => result.steady.filter((s) => s.rate === rate))]) {
    const one = group.find((x) => x.threads === 1)?.exposition;
    for (const x of group) {
      if (x.exposition === one) continue;
      const a = join(tmpdir(), 'daemon-threads-1.txt');
      const b = join(tmpdir(), `daemon-threads-${x.threads}.txt`);
      writeFileSync(a, one);
      writeFileSync(b, x.exposition);
      throw new Error(`threads ${x.threads} counted differently from threads 1: diff ${a} ${b}`);
    }
    for (const x of group) delete x.exposition;
  }
  const rows = [];
  for (const threads of [1, 2]) {
    const c = result.catchUp.filter((x) => x.threads === threads);
    if (c.length > 0) {
      rows.push(
        `| catch-up ${total.toLocaleString('en')} lines, ${FILES} files | ${threads} | ${Math.round(median(c.map((x) => x.linesPerSec))).toLocaleString('en')} lines/s | ${(median(c.map((x) => x.cpuMs)) / 1000).toFixed(2)} CPU s | ${(median(c.map((x) => x.rssKb)) / 1024).toFixed(0)} MB | load ${c.map((x) => x.load).join(', ')} |`,
      );
    }
  }
  for (const rate of RATES) {
    for (const threads of [1, 2]) {
      const s = result.steady.filter((x) => x.threads === threads && x.rate === rate);
      if (s.length > 0) {
        rows.push(
          `| steady ${rate.toLocaleString('en')} lines/s, ${FILES} files, ${SECONDS} s | ${threads} | ${median(s.map((x) => x.cpuPct)).toFixed(1)}% of a core | ${(median(s.map((x) => x.cpuMs)) / 1000).toFixed(2)} CPU s | ${(median(s.map((x) => x.rssKb)) / 1024).toFixed(0)} MB | load ${s.map((x) => x.load).join(', ')} |`,
        );
      }
    }
  }
  const table = ['| run | threads | rate / CPU | CPU s (median) | RSS at the end (median) | load average (1 min) per run |', '| --- | ---: | ---: | ---: | ---: | --- |', ...rows].join('\n');
  return { ...result, table };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: opts } = parseArgs({
    options: {
      files: { type: 'string', default: String(FILES) },
      lines: { type: 'string', default: String(LINES) },
      runs: { type: 'string', default: String(RUNS) },
      rates: { type: 'string', default: RATES.join(',') },
      seconds: { type: 'string', default: String(SECONDS) },
      skip: { type: 'string', default: '' },
    },
  });
  const result = await benchDaemonThreads({
    files: Number(opts.files),
    lines: Number(opts.lines),
    runs: Number(opts.runs),
    rates: opts.rates.split(',').map(Number),
    seconds: Number(opts.seconds),
    skip: new Set(opts.skip.split(',').filter(Boolean)),
  });
  console.log(result.table);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `daemon-threads-${new Date().toISOString().slice(0, 16).replace(/[-:]/g, '')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 1));
  log(`written ${file}`);
}

#!/usr/bin/env node
/**
 * `npm run bench`: quay-log-exporter beside mtail and Oniguruma.
 *
 *   node bench/run.mjs [--lines 1000000] [--runs 3] [--seed 42] [--skip replay,threads,rules,mtail,grok,forward,daemon,daemon-threads] [--strict]
 *
 * Fails (exit 1) when the replay's metrics differ from the corpus's true
 * counts: a fast wrong answer is not a result. With --strict it also fails
 * when a target is missed. Prints a table; writes bench/results/latest.json
 * and a dated copy.
 */
import { existsSync, mkdirSync, mkdtempSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { generateCorpus, repositories, rng } from './corpus.mjs';
import { upstreamOf } from './corpus-workers.mjs';
import { checkAgainstTruth, compareTotals } from './lib/check.mjs';
import { measure, median, HAS_GNU_TIME } from './lib/proc.mjs';
import { parsePrometheus } from './lib/prom.mjs';
import { parse as parseYaml } from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const CLI = join(ROOT, 'dist', 'cli.js');
const MTAIL = '/usr/bin/mtail';

// ---- arguments ----
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const LINES = Number(opt('lines', 1_000_000));
const RUNS = Number(opt('runs', 3));
const SEED = Number(opt('seed', 42));
const SKIP = new Set(String(opt('skip', '')).split(',').filter(Boolean));
const STRICT = argv.includes('--strict');

const TARGETS = { linesPerSec: 1_000_000, vsMtail: 12, grokVsOnig: 30, replayRssMb: 150, daemonRssMb: 100, latencyMs: 1000 };

const log = (...a) => console.error('[bench]', ...a);
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const mb = (kb) => (kb == null ? NaN : kb / 1024);

// ---- machine ----
function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {}
  let mtailVersion = 'not installed';
  try {
    mtailVersion = execFileSync(MTAIL, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {}
  return { nproc, cpu: model, node: process.version, mtail: mtailVersion, gnuTime: HAS_GNU_TIME };
}

// ---- corpus (cached under bench/corpus/, which git ignores) ----
/** A change to the generator changes the corpus: cache by a hash of its source. */
const GENERATOR_VERSION = createHash('sha1')
  .update(readFileSync(join(HERE, 'corpus.mjs')))
  .update(readFileSync(join(HERE, 'corpus-workers.mjs')))
  .digest('hex')
  .slice(0, 8);
function corpus({ lines, seed, repos = 120 }) {
  const dir = join(HERE, 'corpus');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `quay-s${seed}-n${lines}-r${repos}-${GENERATOR_VERSION}`);
  const file = `${base}.log`;
  const truthFile = `${base}.truth.json`;
  if (!existsSync(file) || !existsSync(truthFile)) {
    log(`generating ${fmtInt(lines)} lines (seed ${seed}, ${repos} repositories) → ${file}`);
    const t0 = performance.now();
    generateCorpus({ seed, lines, repos, out: file, truthOut: truthFile });
    log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { file, truth: JSON.parse(readFileSync(truthFile, 'utf8')) };
}

/**
 * The replay config: mirror upstreams map back to their Quay repositories (the mirror job line is not in
 * the corpus). `extra` adds keys (the rules run: shipped_rules, rules), `tag` names the file.
 */
function benchConfig(seed, repoCount, extra = {}, tag = '') {
  const repos = repositories(repoCount, rng(seed ^ 0x5bd1e995));
  const map = {};
  for (const r of repos) map[upstreamOf(r)] = `${r.ns}/${r.repo}`;
  const file = join(HERE, 'corpus', `bench-config-s${seed}-r${repoCount}-${GENERATOR_VERSION}${tag}.yaml`);
  writeFileSync(file, JSON.stringify({ log_level: 'warn', mirror: { repositories: map }, ...extra }, null, 1));
  return file;
}

/** The 20 user rules of bench/rules-20.yaml. */
function userRules() {
  return parseYaml(readFileSync(join(HERE, 'rules-20.yaml'), 'utf8')).rules;
}

/**
 * The same corpus replayed without any rule, with the shipped rules (the default), and with 20 user
 * rules (no shipped ones), runs interleaved so the machine's load falls on all three alike. Every run is
 * checked against the true counts: rules must not change what the built-in parsers count.
 */
async function benchRules(c) {
  const variants = [
    { name: 'no rules', file: benchConfig(SEED, c.truth.repos, { shipped_rules: false }, '-norules') },
    { name: 'shipped rules (19, default)', file: benchConfig(SEED, c.truth.repos, {}, '-shipped') },
    { name: '20 user rules', file: benchConfig(SEED, c.truth.repos, { shipped_rules: false, rules: userRules() }, '-rules20') },
  ];
  const runs = variants.map(() => []);
  const mismatches = variants.map(() => 0);
  const ruleMatches = variants.map(() => 0);
  for (let r = 0; r < RUNS; r++) {
    for (const [i, v] of variants.entries()) {
      const res = await measure(process.execPath, [CLI, 'replay', '--config', v.file, '--format', 'prometheus', c.file]);
      if (res.code !== 0) throw new Error(`replay (${v.name}) exited ${res.code}:\n${res.stderr.slice(0, 2000)}`);
      const parsed = parsePrometheus(res.stdout);
      const ch = checkAgainstTruth(parsed, c.truth, CATALOGUE);
      mismatches[i] = Math.max(mismatches[i], ch.mismatches.length);
      ruleMatches[i] = sumFamily(res.stdout, 'quay_log_exporter_rule_matches_total');
      runs[i].push(res);
      log(`  ${v.name} run ${r + 1}: ${fmt1(res.wallMs / 1000)} s, ${fmtInt(c.truth.lines / (res.wallMs / 1000))} lines/s, ${fmtInt(ruleMatches[i])} rule matches, ${ch.mismatches.length} mismatches`);
    }
  }
  return variants.map((v, i) => ({ name: v.name, ...summarize(runs[i], c.truth), mismatches: mismatches[i], ruleMatches: ruleMatches[i] }));
}

/** Sum of every sample of one family in a Prometheus text. */
function sumFamily(text, name) {
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + '{') || line.startsWith(name + ' ')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

// ---- sections ----
/** Medians of wall and CPU time, throughput, and the largest peak RSS of a set of runs. */
function summarize(runs, truth) {
  const wall = median(runs.map((r) => r.wallMs)) / 1000;
  return {
    wallSec: wall,
    linesPerSec: truth.lines / wall,
    mbPerSec: truth.bytes / 1e6 / wall,
    cpuSec: median(runs.map((r) => r.cpuMs ?? NaN)) / 1000,
    peakRssMb: Math.max(...runs.map((r) => mb(r.maxRssKb))),
  };
}

async function benchReplay(c, configFile) {
  const runs = [];
  let check = null;
  for (let r = 0; r < RUNS; r++) {
    const res = await measure(process.execPath, [CLI, 'replay', '--config', configFile, '--format', 'prometheus', c.file]);
    if (res.code !== 0) throw new Error(`replay exited ${res.code}:\n${res.stderr.slice(0, 2000)}`);
    // Every run is checked: a run that is fast because it skipped work must not count.
    const ch = checkAgainstTruth(parsePrometheus(res.stdout), c.truth, CATALOGUE);
    if (check === null || ch.mismatches.length > check.mismatches.length) check = ch;
    runs.push(res);
    log(`  replay run ${r + 1}: ${fmt1(res.wallMs / 1000)} s, ${fmtInt(c.truth.lines / (res.wallMs / 1000))} lines/s, peak RSS ${fmt1(mb(res.maxRssKb))} MB, ${ch.mismatches.length} mismatches`);
  }
  return {
    ...summarize(runs, c.truth),
    checkedSeries: check.checked,
    mismatches: check.mismatches,
    missingCatalogueMetrics: Object.keys(CATALOGUE).filter((m) => !check.present.includes(m)),
  };
}

async function benchMtail(c) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-mtail-'));
  copyFileSync(join(HERE, 'quay.mtail'), join(dir, 'quay.mtail'));
  const runs = [];
  let rows = null;
  let seriesCheck = null;
  try {
    for (let r = 0; r < RUNS; r++) {
      const res = await measure(MTAIL, ['--one_shot', '--one_shot_format=prometheus', '--progs', dir, '--logs', c.file, '--logtostderr']);
      if (res.code !== 0) throw new Error(`mtail exited ${res.code}:\n${res.stderr.slice(-2000)}`);
      if (rows === null) {
        const samples = parsePrometheus(res.stdout);
        rows = compareTotals(samples, c.truth);
        // Series by series too, for the families mtail labels the same way.
        const same = ['quay_registry_requests_total', 'quay_registry_pulls_total', 'quay_registry_pushes_total', 'quay_registry_blob_redirects_total', 'quay_registry_transfer_bytes_total', 'quay_registry_slow_transfers_total', 'quay_log_gc_iterations_total', 'quay_log_gc_table_rows_deleted_total'];
        const sub = { metrics: Object.fromEntries(same.filter((m) => m in c.truth.metrics).map((m) => [m, c.truth.metrics[m]])), linesBySource: c.truth.linesBySource };
        seriesCheck = checkAgainstTruth(samples, sub, CATALOGUE);
      }
      runs.push(res);
      log(`  mtail run ${r + 1}: ${fmt1(res.wallMs / 1000)} s, ${fmtInt(c.truth.lines / (res.wallMs / 1000))} lines/s, peak RSS ${fmt1(mb(res.maxRssKb))} MB`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    ...summarize(runs, c.truth),
    totals: rows,
    checkedSeries: seriesCheck.checked,
    mismatches: seriesCheck.mismatches,
  };
}

/** Top-level QUAY_* names defined in a bundled pattern file (helpers excluded). */
function quayPatternsIn(file) {
  const path = join(ROOT, 'patterns', file);
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const names = [];
  for (const line of text.split('\n')) {
    const m = /^(QUAY_[A-Z0-9_]+)\s/.exec(line);
    // A name another pattern references is a piece, not a line pattern.
    if (m && !new RegExp(`%\\{${m[1]}[:}]`).test(text)) names.push(m[1]);
  }
  return names;
}

async function benchGrokSection() {
  const { PatternLibrary } = await import(pathToFileURL(join(ROOT, 'dist', 'grok', 'index.js')).href);
  const { benchGrok } = await import('./lib/grok-bench.mjs');
  const lib = PatternLibrary.bundled();
  const patterns = [
    { name: 'QUAY_SUPERVISOR_PREFIX', sources: ['*', 'nginx', 'gunicorn', 'repomirrorworker', 'gcworker'] },
    { name: 'QUAY_NGINX_ACCESS', sources: ['nginx'] },
    { name: 'QUAY_PYTHON_LOG', sources: ['gunicorn', 'repomirrorworker', 'gcworker'] },
    { name: 'QUAY_GUNICORN_ACCESS', sources: ['gunicorn'] },
    ...quayPatternsIn('quay-mirror.grok').map((name) => ({ name, sources: ['repomirrorworker'] })),
    ...quayPatternsIn('quay-gc.grok').map((name) => ({ name, sources: ['gcworker'] })),
  ];
  const sample = generateCorpus({ seed: SEED, lines: 200_000 }).corpus;
  return benchGrok(lib, sample, patterns, { runs: RUNS });
}

// ---- daemon: latency, CPU per 1,000 lines/s, steady RSS (bench/lib/daemon-bench.mjs) ----
/** Rates (lines/s) of the CPU windows, each DAEMON_CPU_SECONDS long, after an idle window. */
const DAEMON_CPU_RATES = [1000, 5000];
const DAEMON_CPU_SECONDS = 20;
/** Repositories of the steady-RSS corpora (300,000 lines each): about 1,000 and 10,000 series, and every family at its cap. */
const DAEMON_RSS_SIZES = [
  { key: 'series1k', repos: 20, what: 'about 1,000 series (20 repositories)' },
  { key: 'series10k', repos: 270, what: 'about 10,000 series (270 repositories)' },
  { key: 'repos10k', repos: 10_000, what: '10,000 repositories (every family at its cap)', once: true },
];

async function benchDaemon(result) {
  const { measureLatency, measureDaemonRss, measureDaemonCpu, shippedNodeOptions } = await import('./lib/daemon-bench.mjs');
  // What a Quay admin runs: the shipped Deployment's NODE_OPTIONS (V8 heap settings); Node's defaults beside it.
  const shipped = shippedNodeOptions(ROOT);
  const optionSets = [
    { name: 'shipped', nodeOptions: shipped },
    { name: 'node defaults', nodeOptions: undefined },
  ];
  log('daemon: append → /metrics latency…');
  result.latency = await measureLatency(CLI);

  // CPU per 1,000 lines/s followed: the number an admin multiplies by their traffic.
  const feed = corpus({ lines: DAEMON_CPU_RATES.reduce((n, r) => n + r * DAEMON_CPU_SECONDS, 0), seed: SEED });
  const { mirror } = JSON.parse(readFileSync(benchConfig(SEED, feed.truth.repos), 'utf8'));
  log(`daemon: CPU while following ${DAEMON_CPU_RATES.join(', ')} lines/s for ${DAEMON_CPU_SECONDS} s each (NODE_OPTIONS ${JSON.stringify(shipped)})…`);
  const cpu = await measureDaemonCpu(CLI, { corpusPath: feed.file, extraConfig: { mirror }, rates: DAEMON_CPU_RATES, seconds: DAEMON_CPU_SECONDS, nodeOptions: shipped });
  const cpuCheck = checkAgainstTruth(parsePrometheus(cpu.exposition), feed.truth, CATALOGUE);
  delete cpu.exposition;
  result.daemonCpu = { ...cpu, checkedSeries: cpuCheck.checked, mismatches: cpuCheck.mismatches };
  for (const w of cpu.windows) log(`  ${fmtInt(w.rate)} lines/s: ${fmt1(w.cpuPct)}% of a core${w.rate > 0 ? `, ${fmt1(w.cpuPct / (w.rate / 1000))}% per 1,000 lines/s` : ' (idle)'}`);
  log(`  ${cpuCheck.mismatches.length} mismatches against the true counts`);

  // Steady RSS: shipped NODE_OPTIONS and Node's defaults interleaved, medians of RUNS (the capped corpus once each).
  const sizes = DAEMON_RSS_SIZES.map((z) => ({ ...z, corpus: corpus({ lines: 300_000, seed: SEED, repos: z.repos }) }));
  const runs = new Map();
  for (let i = 0; i < RUNS; i++) {
    for (const z of sizes) {
      if (z.once && i > 0) continue;
      for (const o of optionSets) {
        log(`daemon: steady RSS, ${z.what}, ${o.name} (${i + 1}/${z.once ? 1 : RUNS})…`);
        const r = await measureDaemonRss(CLI, z.corpus.file, z.corpus.truth.lines, { nodeOptions: o.nodeOptions });
        r.load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
        const k = `${z.key}/${o.name}`;
        runs.set(k, [...(runs.get(k) ?? []), r]);
      }
    }
  }
  result.daemonRss = [];
  for (const z of sizes) {
    for (const o of optionSets) {
      const rs = runs.get(`${z.key}/${o.name}`) ?? [];
      result.daemonRss.push({
        key: z.key,
        what: z.what,
        options: o.name,
        nodeOptions: o.nodeOptions ?? '',
        series: rs[0]?.series,
        registrySeries: rs[0]?.registrySeries,
        steadyRssKb: median(rs.map((r) => r.steadyRssKb)),
        peakRssKb: Math.max(...rs.map((r) => r.peakRssKb)),
        catchUpMs: median(rs.map((r) => r.catchUpMs)),
        runs: rs,
      });
    }
  }
}

// ---- main ----
let CATALOGUE;
async function main() {
  const started = new Date();
  const m = machine();
  log(`machine: ${m.nproc} cores, ${m.cpu}, node ${m.node}, ${m.mtail}`);
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: run \`npm run bench\` (it builds first)`);
  ({ CATALOGUE } = await import(pathToFileURL(join(ROOT, 'dist', 'metrics', 'catalogue.js')).href));

  const c = corpus({ lines: LINES, seed: SEED });
  const configFile = benchConfig(SEED, c.truth.repos);
  const result = { date: started.toISOString(), machine: m, lines: c.truth.lines, bytes: c.truth.bytes, runs: RUNS, seed: SEED, targets: TARGETS };

  if (!SKIP.has('replay')) {
    log('replay (quay-log-exporter)…');
    result.replay = await benchReplay(c, configFile);
  }
  if (!SKIP.has('threads')) {
    // One core and all of them, interleaved (bench/lib/threads-bench.mjs).
    const { benchReplayThreads } = await import('./lib/threads-bench.mjs');
    log('replay: --threads 1 vs all cores, interleaved…');
    result.threads = await benchReplayThreads({ cli: CLI, corpus: c, configFile, runs: RUNS, catalogue: CATALOGUE, log });
  }
  if (!SKIP.has('rules')) {
    log('rules: no rules / shipped rules / 20 user rules, interleaved…');
    result.rules = await benchRules(c);
  }
  if (!SKIP.has('mtail') && existsSync(MTAIL)) {
    log('mtail --one_shot…');
    result.mtail = await benchMtail(c);
  } else if (!SKIP.has('mtail')) {
    log(`mtail: ${MTAIL} not found, no comparison (Debian: apt-get install -y mtail)`);
  }
  if (!SKIP.has('grok')) {
    log('grok engine vs Oniguruma…');
    result.grok = await benchGrokSection();
  }
  if (!SKIP.has('forward')) {
    // The same corpus as Fluent records over loopback, beside the file replay.
    const { measureForward } = await import('./lib/forward-bench.mjs');
    log('forward input: @fluent-org/logger → exporter over loopback, PackedForward with acks…');
    const f = await measureForward(CLI, { corpusFile: c.file, lines: c.truth.lines, benchConfigFile: configFile });
    const check = checkAgainstTruth(parsePrometheus(f.exposition), c.truth, CATALOGUE);
    delete f.exposition;
    result.forward = { ...f, checkedSeries: check.checked, mismatches: check.mismatches };
    log(`  ${fmtInt(f.recordsPerSec)} records/s, exporter ${fmt1(f.exporterCpuUsPerRecord)} µs CPU/record, client ${fmt1(f.clientCpuUsPerRecord)} µs/record, ${check.mismatches.length} mismatches`);
  }
  if (!SKIP.has('daemon')) await benchDaemon(result);
  if (!SKIP.has('daemon-threads')) {
    // pipeline.threads 1 against 2, a daemon following 4 busy files (throws if the two count differently).
    log('daemon: pipeline.threads 1 against 2 (bench/daemon-threads.mjs)…');
    result.daemonThreads = await (await import('./daemon-threads.mjs')).benchDaemonThreads({ runs: RUNS });
    log('\n' + result.daemonThreads.table);
  }

  if (result.threads) result.threadsTable = (await import('./lib/threads-bench.mjs')).renderReplayThreads(result.threads);
  result.verdicts = verdicts(result);
  const table = render(result);
  console.log(table);
  result.table = table;
  const outDir = join(HERE, 'results');
  mkdirSync(outDir, { recursive: true });
  const json = JSON.stringify(result, null, 1) + '\n';
  writeFileSync(join(outDir, 'latest.json'), json);
  writeFileSync(join(outDir, `${started.toISOString().slice(0, 16).replace(/:/g, '')}.json`), json);
  writeFileSync(join(outDir, 'latest.md'), table + '\n');

  for (const v of result.rules ?? []) {
    if (v.mismatches > 0) {
      console.error(`\nBENCH FAILED: with ${v.name}, the built-in metrics differ from the true counts (${v.mismatches} mismatches)`);
      process.exitCode = 1;
    }
  }
  if (result.threads && (!result.threads.sameBytes || result.threads.rows.some((t) => t.mismatches > 0))) {
    console.error('\nBENCH FAILED: replay on one core and on all cores differ, or differ from the true counts');
    process.exitCode = 1;
  }
  if (result.forward && result.forward.mismatches.length > 0) {
    console.error(`\nBENCH FAILED: the forward input's metrics differ from the corpus's true counts (${result.forward.mismatches.length} mismatches):`);
    for (const x of result.forward.mismatches.slice(0, 40)) console.error('  ' + x);
    process.exitCode = 1;
  }
  if (result.daemonCpu && result.daemonCpu.mismatches.length > 0) {
    console.error(`\nBENCH FAILED: the daemon's metrics (CPU run) differ from the corpus's true counts (${result.daemonCpu.mismatches.length} mismatches):`);
    for (const x of result.daemonCpu.mismatches.slice(0, 40)) console.error('  ' + x);
    process.exitCode = 1;
  }
  if (result.replay && result.replay.mismatches.length > 0) {
    console.error(`\nBENCH FAILED: the replay's metrics differ from the corpus's true counts (${result.replay.mismatches.length} mismatches):`);
    for (const x of result.replay.mismatches.slice(0, 40)) console.error('  ' + x);
    process.exitCode = 1;
  }
  const missed = result.verdicts.filter((v) => v.met === false);
  if (STRICT && missed.length > 0) {
    console.error(`\n--strict: ${missed.length} target(s) missed`);
    process.exitCode = 1;
  }
}

function verdicts(r) {
  const v = [];
  const add = (target, measured, met) => v.push({ target, measured, met });
  if (r.replay) {
    add('end to end ≥ 1,000,000 lines/s', `${fmtInt(r.replay.linesPerSec)} lines/s`, r.replay.linesPerSec >= TARGETS.linesPerSec);
    add('replay peak RSS ≤ 150 MB', `${fmt1(r.replay.peakRssMb)} MB`, r.replay.peakRssMb <= TARGETS.replayRssMb);
    add('replay output = true counts', `${r.replay.checkedSeries - r.replay.mismatches.length}/${r.replay.checkedSeries} series`, r.replay.mismatches.length === 0);
  }
  if (r.replay && r.mtail) add('≥ 12× mtail (same run)', `${fmt1(r.replay.linesPerSec / r.mtail.linesPerSec)}×`, r.replay.linesPerSec / r.mtail.linesPerSec >= TARGETS.vsMtail);
  if (r.grok) {
    for (const g of r.grok) {
      if (g.lines === 0 && !g.error?.startsWith('compile')) continue; // not in the corpus: listed under the grok table
      if (g.error) add(`grok ${g.pattern} ≥ 30× Oniguruma`, g.error, false);
      else add(`grok ${g.pattern} ≥ 30× Oniguruma`, `${fmt1(g.ratio)}×${g.agree ? '' : ' (engines disagree!)'}`, g.ratio >= TARGETS.grokVsOnig && g.agree);
    }
  }
  for (const d of r.daemonRss ?? []) {
    if (d.key === 'series1k') continue;
    add(`daemon steady RSS ≤ 100 MB (${fmtInt(d.series)} series, ${d.key === 'repos10k' ? '10,000 repositories, ' : ''}${d.options} NODE_OPTIONS)`, `${fmt1(mb(d.steadyRssKb))} MB`, mb(d.steadyRssKb) <= TARGETS.daemonRssMb);
  }
  if (r.daemonCpu) add('daemon output = true counts (CPU run)', `${r.daemonCpu.checkedSeries - r.daemonCpu.mismatches.length}/${r.daemonCpu.checkedSeries} series`, r.daemonCpu.mismatches.length === 0);
  if (r.latency) add('append → /metrics ≤ 1 s (median)', `${fmtInt(r.latency.medianMs)} ms`, r.latency.medianMs <= TARGETS.latencyMs);
  return v;
}

function render(r) {
  const out = [];
  out.push(`Corpus: ${fmtInt(r.lines)} lines, ${fmt1(r.bytes / 1e6)} MB (seed ${r.seed}); medians of ${r.runs} runs; ${r.machine.nproc} cores, ${r.machine.cpu}, node ${r.machine.node}`);
  out.push('');
  out.push('| Replay of the corpus | quay-log-exporter | mtail 3.0 | ratio |');
  out.push('|---|---:|---:|---:|');
  const a = r.replay ?? {};
  const b = r.mtail ?? {};
  const ratio = (x, y) => (Number.isFinite(x) && Number.isFinite(y) ? `${fmt1(x / y)}×` : 'n/a');
  out.push(`| lines/s | ${fmtInt(a.linesPerSec)} | ${fmtInt(b.linesPerSec)} | ${ratio(a.linesPerSec, b.linesPerSec)} |`);
  out.push(`| MB/s | ${fmt1(a.mbPerSec)} | ${fmt1(b.mbPerSec)} | ${ratio(a.mbPerSec, b.mbPerSec)} |`);
  out.push(`| wall s | ${fmt1(a.wallSec)} | ${fmt1(b.wallSec)} | |`);
  out.push(`| CPU s (user+sys) | ${fmt1(a.cpuSec)} | ${fmt1(b.cpuSec)} | |`);
  out.push(`| peak RSS MB | ${fmt1(a.peakRssMb)} | ${fmt1(b.peakRssMb)} | |`);
  const mtOk = b.totals ? `${b.checkedSeries - b.mismatches.length}/${b.checkedSeries} series of the ${b.totals.filter((t) => t.ok !== null).length} families it counts` : 'n/a';
  out.push(`| matches true counts | ${a.checkedSeries !== undefined ? `${a.checkedSeries - a.mismatches.length}/${a.checkedSeries} series` : 'n/a'} | ${mtOk} | |`);
  if (r.threads) out.push('', r.threadsTable);
  if (r.rules) {
    const base = r.rules[0];
    out.push('');
    out.push('| Replay with rules (same corpus, runs interleaved) | lines/s | wall s | CPU s | peak RSS MB | rule matches | vs no rules | true counts |');
    out.push('|---|---:|---:|---:|---:|---:|---:|:---:|');
    for (const v of r.rules) {
      out.push(`| ${v.name} | ${fmtInt(v.linesPerSec)} | ${fmt1(v.wallSec)} | ${fmt1(v.cpuSec)} | ${fmt1(v.peakRssMb)} | ${fmtInt(v.ruleMatches)} | ${fmt1((100 * v.linesPerSec) / base.linesPerSec)}% | ${v.mismatches === 0 ? 'yes' : `**${v.mismatches} mismatches**`} |`);
    }
  }
  if (r.forward) {
    const f = r.forward;
    out.push('');
    out.push(`| Forward input (${f.mode}, acks, @fluent-org/logger over loopback) | value |`);
    out.push('|---|---:|');
    out.push(`| records/s (first emit → last ack) | ${fmtInt(f.recordsPerSec)} |`);
    out.push(`| replay lines/s, same corpus (above) | ${fmtInt(a.linesPerSec)} |`);
    out.push(`| exporter CPU per record | ${fmt1(f.exporterCpuUsPerRecord)} µs |`);
    out.push(`| replay CPU per line | ${fmt1((a.cpuSec * 1e6) / r.lines)} µs |`);
    out.push(`| client CPU per record (the sender, same machine) | ${fmt1(f.clientCpuUsPerRecord)} µs |`);
    out.push(`| exporter peak RSS | ${fmt1(f.peakRssMb)} MB |`);
    out.push(`| matches true counts | ${f.checkedSeries - f.mismatches.length}/${f.checkedSeries} series |`);
  }
  if (r.grok) {
    out.push('');
    out.push('| Grok pattern (one line at a time) | lines | V8 lines/s | Oniguruma search lines/s | Oniguruma test lines/s | ratio (search) | engines agree |');
    out.push('|---|---:|---:|---:|---:|---:|:---:|');
    const absent = r.grok.filter((g) => g.lines === 0 && g.error === 'no line of the corpus matches').map((g) => g.pattern);
    for (const g of r.grok) {
      if (absent.includes(g.pattern)) continue;
      if (g.error) out.push(`| ${g.pattern} | ${g.lines} | ${g.error} | | | | |`);
      else out.push(`| ${g.pattern} (${g.offset}; ${Math.round(g.share * 100)}% of its source's lines) | ${fmtInt(g.lines)} | ${fmtInt(g.v8)} | ${fmtInt(g.onig)} | ${fmtInt(g.onigTest)} | ${fmt1(g.ratio)}× | ${g.agree ? 'yes' : 'NO'} |`);
    }
    if (absent.length > 0) out.push('', `Not timed (no corpus line is of their kind): ${absent.join(', ')}.`);
  }
  if (r.latency || r.daemonRss || r.daemonCpu) {
    out.push('');
    out.push('| Daemon | value |');
    out.push('|---|---:|');
    if (r.latency) out.push(`| append → visible on /metrics, median (max) of ${r.latency.samples} | ${fmtInt(r.latency.medianMs)} ms (${fmtInt(r.latency.maxMs)} ms) |`);
  }
  if (r.daemonCpu) {
    const c = r.daemonCpu;
    const idle = c.windows.find((w) => w.rate === 0);
    out.push('');
    out.push(`| Daemon CPU while following (NODE_OPTIONS \`${c.nodeOptions}\`, scraped every ${c.scrapeEverySec} s) | lines | CPU s | CPU % of one core | % per 1,000 lines/s | RSS MB at the end |`);
    out.push('|---|---:|---:|---:|---:|---:|');
    for (const w of c.windows) {
      out.push(`| ${w.rate === 0 ? 'idle' : `${fmtInt(w.rate)} lines/s`}, ${fmt1(w.wallMs / 1000)} s | ${fmtInt(w.lines)} | ${(w.cpuMs / 1000).toFixed(2)} | ${fmt1(w.cpuPct)}% | ${w.rate === 0 ? '' : `${fmt1(w.cpuPct / (w.rate / 1000))}% (${fmt1((w.cpuPct - idle.cpuPct) / (w.rate / 1000))}% above idle)`} | ${fmt1(mb(w.rssKb))} |`);
    }
    out.push(`| matches true counts | ${c.checkedSeries - c.mismatches.length}/${c.checkedSeries} series | | | | |`);
  }
  if (r.daemonRss) {
    out.push('');
    out.push(`| Daemon steady RSS (follow 300,000 lines, then scrape every 2 s for 12 s; medians of ${r.runs}, interleaved) | series | NODE_OPTIONS | steady RSS MB | peak RSS MB | catch-up s |`);
    out.push('|---|---:|---|---:|---:|---:|');
    for (const d of r.daemonRss) {
      out.push(`| ${d.what}${d.runs.length === 1 ? ' (one run)' : ''} | ${fmtInt(d.series)} | ${d.options}${d.nodeOptions ? ` (\`${d.nodeOptions}\`)` : ''} | ${fmt1(mb(d.steadyRssKb))} | ${fmt1(mb(d.peakRssKb))} | ${fmt1(d.catchUpMs / 1000)} |`);
    }
  }
  out.push('');
  out.push('| Target | measured | met |');
  out.push('|---|---:|:---:|');
  for (const v of r.verdicts) out.push(`| ${v.target} | ${v.measured} | ${v.met ? 'yes' : '**no**'} |`);
  return out.join('\n');
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exitCode = 1;
});

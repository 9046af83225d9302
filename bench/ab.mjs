#!/usr/bin/env node
/**
 * Interleaved A/B of builds: the same replay (or start-up command) run by two or more copies of
 * the exporter, A, B, A, B, … so the shared machine's load falls on all alike. Every replay of the
 * corpus is checked against its true counts (exit 1 on a difference).
 *
 *   node bench/ab.mjs [--lines 1000000] [--runs 5] [--seed 42] [--what replay|tiny|version|check-config] NAME=DIR[::ARGS] …
 *
 * `::ARGS` adds words (space-separated) to that build's command, e.g. `t1=.::--threads 1 t2=.::--threads 2`.
 *
 * DIR is a copy of the project with its `dist/` built (`bench/ab.mjs --snapshot DIR` copies this
 * worktree's dist/ there and links patterns/, rules/, node_modules/ and package.json beside it).
 * Prints medians of CPU s (user+sys), wall s and the largest peak RSS per build, with the load
 * average before and after.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measure, median } from './lib/proc.mjs';
import { parsePrometheus } from './lib/prom.mjs';
import { checkAgainstTruth } from './lib/check.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);

if (argv[0] === '--snapshot') {
  const dir = resolve(argv[1]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  for (const f of ['patterns', 'rules', 'node_modules', 'package.json']) symlinkSync(join(ROOT, f), join(dir, f));
  console.log(dir);
  process.exit(0);
}

const LINES = Number(opt('lines', 1_000_000));
const RUNS = Number(opt('runs', 5));
const SEED = Number(opt('seed', 42));
const WHAT = opt('what', 'replay');
const builds = argv.filter((a) => /^[^-][^=]*=/.test(a)).map((a) => {
  const [name, spec] = a.split(/=(.*)/s);
  const [dir, extra = ''] = spec.split('::');
  const cli = join(resolve(dir), 'dist', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} missing`);
  return { name, cli, extra: extra.split(' ').filter(Boolean) };
});
if (builds.length < 1) throw new Error('name builds as NAME=DIR');

const corpusDir = join(HERE, 'corpus');
const base = (existsSync(corpusDir) ? (await import('node:fs')).readdirSync(corpusDir) : []).find((f) => f.startsWith(`quay-s${SEED}-n${LINES}-r120-`) && f.endsWith('.log'));
const { CATALOGUE } = await import(pathToFileURL(join(ROOT, 'dist', 'metrics', 'catalogue.js')).href);

let args;
let truth = null;
const tmp = mkdtempSync(join(tmpdir(), 'qle-ab-'));
if (WHAT === 'replay') {
  if (!base) throw new Error(`no ${LINES}-line corpus in bench/corpus: run node bench/run.mjs --lines ${LINES} once`);
  const file = join(corpusDir, base);
  truth = JSON.parse(readFileSync(file.replace(/\.log$/, '.truth.json'), 'utf8'));
  const config = join(corpusDir, base.replace(/^quay-s(\d+)-n\d+-r(\d+)-(\w+)\.log$/, 'bench-config-s$1-r$2-$3.yaml'));
  if (!existsSync(config)) throw new Error(`${config} missing: run node bench/run.mjs once`);
  args = ['replay', '--config', config, '--format', 'prometheus', file];
} else if (WHAT === 'tiny') {
  // Start-up dominated: ten lines.
  const file = join(tmp, 'tiny.log');
  writeFileSync(file, 'nginx stdout | 10.0.0.1 () - - [30/Nov/2026:10:00:00 +0000] "GET /v2/ HTTP/1.1" 200 4 "-" "docker/24" (0.001 23 0.001)\n'.repeat(10));
  const config = join(tmp, 'c.yaml');
  writeFileSync(config, 'log_level: warn\n');
  args = ['replay', '--config', config, '--format', 'prometheus', file];
} else if (WHAT === 'version') {
  args = ['--version'];
} else if (WHAT === 'check-config') {
  args = ['check-config', '--config', join(ROOT, 'config.example.yaml')];
} else throw new Error(`--what ${WHAT}?`);

const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
const runs = builds.map(() => []);
let failed = false;
for (let r = 0; r < RUNS; r++) {
  for (const [i, b] of builds.entries()) {
    const res = await measure(process.execPath, [b.cli, ...args.slice(0, 1), ...b.extra, ...args.slice(1)]);
    if (res.code !== 0) {
      console.error(`${b.name}: exit ${res.code}\n${res.stderr.slice(-2000)}`);
      failed = true;
    }
    if (truth) {
      const { checked, mismatches } = checkAgainstTruth(parsePrometheus(res.stdout), truth, CATALOGUE);
      if (mismatches.length) {
        console.error(`${b.name} run ${r + 1}: ${mismatches.length} of ${checked} series differ from the true counts:\n  ${mismatches.slice(0, 10).join('\n  ')}`);
        failed = true;
      }
    }
    runs[i].push(res);
    console.error(`[ab] ${b.name} run ${r + 1}: wall ${(res.wallMs / 1000).toFixed(3)} s, CPU ${((res.cpuMs ?? NaN) / 1000).toFixed(2)} s, peak RSS ${((res.maxRssKb ?? NaN) / 1024).toFixed(1)} MB`);
  }
}
const load1 = loadavg().map((x) => x.toFixed(2)).join(' ');
rmSync(tmp, { recursive: true, force: true });

const digits = WHAT === 'replay' ? 2 : 3;
console.log(`${WHAT}${truth ? ` of ${truth.lines.toLocaleString('en-US')} lines` : ''}: ${RUNS} interleaved runs each, medians; load average ${load0} → ${load1}`);
console.log('| build | CPU s (user+sys) | wall s | peak RSS MB (max) | CPU vs first | wall vs first |');
console.log('|---|---:|---:|---:|---:|---:|');
const first = { cpu: median(runs[0].map((x) => x.cpuMs)), wall: median(runs[0].map((x) => x.wallMs)) };
for (const [i, b] of builds.entries()) {
  const cpu = median(runs[i].map((x) => x.cpuMs));
  const wall = median(runs[i].map((x) => x.wallMs));
  const rss = Math.max(...runs[i].map((x) => x.maxRssKb ?? NaN)) / 1024;
  console.log(`| ${b.name} | ${(cpu / 1000).toFixed(digits)} | ${(wall / 1000).toFixed(digits)} | ${rss.toFixed(1)} | ${(cpu / first.cpu).toFixed(2)}× | ${(wall / first.wall).toFixed(2)}× |`);
}
if (truth && !failed) console.log(`every run equal to the true counts`);
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
/**
 * Profiles a replay of the bench corpus and prints the top self-time functions.
 *
 *   node bench/profile.mjs [--lines 1000000] [--seed 42] [--top 25] [--cpuprofile FILE.cpuprofile]
 *
 * Runs `node --cpu-prof dist/cli.js replay …` (or summarises a given
 * .cpuprofile) and sums each function's self time over the profile's samples.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const argv = process.argv.slice(2);
const opt = (n, d) => (argv.includes(`--${n}`) ? argv[argv.indexOf(`--${n}`) + 1] : d);
const TOP = Number(opt('top', 25));

/** Self time per function (ms), from a V8 .cpuprofile. */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) hits.set(profile.samples[i], (hits.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
  const agg = new Map();
  let total = 0;
  for (const [id, us] of hits) {
    const cf = byId.get(id).callFrame;
    const file = cf.url.startsWith('file:') ? relative(ROOT, fileURLToPath(cf.url)) : cf.url;
    const key = `${cf.functionName || '(anonymous)'} ${file}${file ? `:${cf.lineNumber + 1}` : ''}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
    total += us;
  }
  return { total: total / 1000, rows: [...agg].map(([fn, us]) => ({ fn, ms: us / 1000 })).sort((a, b) => b.ms - a.ms) };
}

function main() {
  let file = opt('cpuprofile');
  let dir;
  if (!file) {
    const lines = Number(opt('lines', 1_000_000));
    const seed = Number(opt('seed', 42));
    // The newest cached corpus of that size (names end in the generator's version).
    const cdir = join(HERE, 'corpus');
    const newest = (re) =>
      (existsSync(cdir) ? readdirSync(cdir) : [])
        .filter((f) => re.test(f))
        .map((f) => join(cdir, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    const corpus = newest(new RegExp(`^quay-s${seed}-n${lines}-r120-\\w+\\.log$`));
    const config = newest(new RegExp(`^bench-config-s${seed}-r120-\\w+\\.yaml$`));
    if (!corpus || !config) throw new Error(`no cached ${lines}-line corpus: run \`node bench/run.mjs --lines ${lines}\` first`);
    dir = mkdtempSync(join(tmpdir(), 'qle-prof-'));
    execFileSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, join(ROOT, 'dist', 'cli.js'), 'replay', '--config', config, corpus], { stdio: ['ignore', 'ignore', 'inherit'] });
    file = join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')));
  }
  const { total, rows } = selfTimes(JSON.parse(readFileSync(file, 'utf8')));
  console.log(`| self ms | % | function |\n|---:|---:|---|`);
  // A RegExp's "name" is its whole source: keep its start.
  const short = (fn) => (fn.length > 90 ? fn.slice(0, 87) + '…' : fn);
  for (const r of rows.slice(0, TOP)) console.log(`| ${r.ms.toFixed(0)} | ${((r.ms / total) * 100).toFixed(1)} | ${short(r.fn).replace(/\|/g, '\\|')} |`);
  console.log(`\ntotal sampled: ${total.toFixed(0)} ms`);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) main();

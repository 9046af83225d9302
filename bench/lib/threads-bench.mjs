/**
 * The replay on one core and on all of them (`--threads 1` / `--threads N`,
 * src/threads), runs interleaved (1, N, 1, N, …) so a drift of the shared
 * machine hits both alike. Every run is checked against the corpus's true
 * counts, and the two outputs must be the same bytes. The load average is
 * noted before and after: on a machine whose other users keep both cores
 * busy, a second thread cannot give wall time back, only CPU overhead.
 */
import { availableParallelism, loadavg } from 'node:os';
import { checkAgainstTruth } from './check.mjs';
import { measure, median } from './proc.mjs';
import { parsePrometheus } from './prom.mjs';

const fmt1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const fmt2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export async function benchReplayThreads({ cli, corpus, configFile, runs, catalogue, log }) {
  const all = availableParallelism();
  const variants = [1, Math.max(2, all)].map((threads) => ({ threads, runs: [], mismatches: 0, output: undefined }));
  const loadBefore = load();
  let sameBytes = true;
  for (let r = 0; r < runs; r++) {
    for (const v of variants) {
      const res = await measure(process.execPath, [cli, 'replay', '--threads', String(v.threads), '--config', configFile, '--format', 'prometheus', corpus.file]);
      if (res.code !== 0) throw new Error(`replay --threads ${v.threads} exited ${res.code}:\n${res.stderr.slice(0, 2000)}`);
      const ch = checkAgainstTruth(parsePrometheus(res.stdout), corpus.truth, catalogue);
      v.mismatches = Math.max(v.mismatches, ch.mismatches.length);
      if (v.output === undefined) v.output = res.stdout;
      else if (v.output !== res.stdout) sameBytes = false;
      v.runs.push(res);
      log(`  --threads ${v.threads} run ${r + 1}: ${fmt1(res.wallMs / 1000)} s wall, ${fmt1((res.cpuMs ?? NaN) / 1000)} s CPU, peak RSS ${fmt1((res.maxRssKb ?? NaN) / 1024)} MB, ${ch.mismatches.length} mismatches, load ${load()}`);
    }
  }
  if (variants[0].output !== variants[1].output) sameBytes = false;
  const rows = variants.map((v) => {
    const wallSec = median(v.runs.map((x) => x.wallMs)) / 1000;
    return {
      threads: v.threads,
      wallSec,
      cpuSec: median(v.runs.map((x) => x.cpuMs ?? NaN)) / 1000,
      linesPerSec: corpus.truth.lines / wallSec,
      peakRssMb: Math.max(...v.runs.map((x) => (x.maxRssKb ?? NaN) / 1024)),
      mismatches: v.mismatches,
    };
  });
  return { cores: all, loadBefore, loadAfter: load(), sameBytes, rows };
}

export function renderReplayThreads(t) {
  const [one, many] = t.rows;
  const out = [];
  out.push(`| Replay, one core vs all ${t.cores} (interleaved; load average ${t.loadBefore} → ${t.loadAfter}) | --threads 1 | --threads ${many.threads} | ratio |`);
  out.push('|---|---:|---:|---:|');
  out.push(`| lines/s | ${fmtInt(one.linesPerSec)} | ${fmtInt(many.linesPerSec)} | ${fmt2(many.linesPerSec / one.linesPerSec)}× |`);
  out.push(`| wall s | ${fmt2(one.wallSec)} | ${fmt2(many.wallSec)} | ${fmt2(many.wallSec / one.wallSec)} |`);
  out.push(`| CPU s (user+sys) | ${fmt2(one.cpuSec)} | ${fmt2(many.cpuSec)} | ${fmt2(many.cpuSec / one.cpuSec)} |`);
  out.push(`| peak RSS MB | ${fmt1(one.peakRssMb)} | ${fmt1(many.peakRssMb)} | |`);
  out.push(`| true counts / same bytes | ${one.mismatches === 0 ? 'yes' : `**${one.mismatches} mismatches**`} | ${many.mismatches === 0 ? 'yes' : `**${many.mismatches} mismatches**`} | ${t.sameBytes ? 'same bytes' : '**outputs differ**'} |`);
  return out.join('\n');
}

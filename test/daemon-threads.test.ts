/**
 * `run` with pipeline.threads 2 (src/threads/daemon.ts), through the real
 * CLI daemon: the same appended lines give the very /metrics one thread gives
 * and the hand counts; scrapes taken while lines flow never show a count go
 * down or a line counted twice; SIGTERM and SIGKILL restarts never skip or
 * double a line (the offsets file); a worker thread that dies stops the
 * daemon with an error and leaves the lines it did not answer unsaved.
 * Correctness only: no timing (bench/ measures speed).
 */
import { appendFileSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM JavaScript, no declarations
import { generateCorpus, repositories, rng } from '../bench/corpus.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { upstreamOf } from '../bench/corpus-workers.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { checkAgainstTruth } from '../bench/lib/check.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { parsePrometheus } from '../bench/lib/prom.mjs';
import { CATALOGUE } from '../src/metrics/catalogue.js';
import { CLI } from './helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';
import { family, parseExposition, sum, type Sample } from './helpers/exposition.js';
import { FIXTURE_LINES, LINES_BY_SOURCE_RESULT, PULLS, PUSHES, REGISTRY_REQUESTS } from './fixtures/quay-supervisord.counts.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const THREADED = '"msg":"pipeline.threads: order-free lines of file inputs parsed in worker threads","threads":2,"workers":1';
const LINES = 'quay_log_exporter_lines_total';

let dir: string;
const running: RunningDaemon[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qle-daemon-threads-'));
});
afterAll(async () => {
  for (const d of running) if (d.proc.exitCode === null && d.proc.signalCode === null) await d.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(config: Record<string, unknown>, sub: string): Promise<RunningDaemon> {
  const d = await startDaemon(config, mkdtempSync(join(dir, `${sub}-`)));
  running.push(d);
  return d;
}

/** Lines (newlines) in the first `bytes` bytes of a file. */
function linesBefore(file: string, bytes: number): number {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    readSync(fd, buf, 0, bytes, 0);
    let n = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
    return n;
  } finally {
    closeSync(fd);
  }
}

function savedOffset(stateDir: string, path: string): number | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(stateDir, 'offsets-file-0.json'), 'utf8')) as { files: Array<{ path: string; offset: number }> };
    return doc.files.find((f) => f.path === path)?.offset;
  } catch {
    return undefined; // not written yet
  }
}

/** The exposition without process metrics (none today: kept so that adding them does not break the comparison). */
function withoutProcess(text: string): string {
  return text
    .split('\n')
    .filter((l) => !/^(# (HELP|TYPE) )?(process_|nodejs_)/.test(l))
    .join('\n');
}

/** Counters and histogram series of a scrape, by name and labels. */
function monotonic(samples: Sample[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (!/(_total|_bucket|_count|_sum)$/.test(s.name)) continue;
    out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

describe('pipeline.threads 2 gives the /metrics of one thread', () => {
  it('one file appended to: the fixture\'s hand counts', async () => {
    const log = join(dir, 'one.log');
    writeFileSync(log, '');
    const d = await start({ pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'end' }] }, 'one');
    expect(d.stderr()).toContain(THREADED);
    await waitFor('following', () => d.stderr().includes('"msg":"following file"'));
    appendFileSync(log, readFileSync(join(FIXTURES, 'quay-supervisord.log')));
    // 35 lines in the fixture (test/fixtures/quay-supervisord.counts.ts has every count by hand).
    await waitFor('35 lines', async () => sum(await d.samples(), LINES) === FIXTURE_LINES);
    const s = await d.samples();
    expect(family(s, LINES)).toEqual(LINES_BY_SOURCE_RESULT);
    expect(family(s, 'quay_registry_requests_total')).toEqual(REGISTRY_REQUESTS);
    expect(family(s, 'quay_registry_pulls_total')).toEqual(PULLS);
    expect(family(s, 'quay_registry_pushes_total')).toEqual(PUSHES);
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('three files followed at once, appended to: byte for byte the one-thread /metrics', async () => {
    const names = ['quay-supervisord.log', 'mirror-interleaved.log', 'gc-workers.log'];
    const setups = [1, 2].map((threads) => {
      const files = names.map((n) => join(dir, `t${threads}-${n}`));
      for (const f of files) writeFileSync(f, '');
      return { threads, files };
    });
    const daemons = await Promise.all(
      setups.map((s) => start({ pipeline: { threads: s.threads }, inputs: [{ paths: s.files, start_at: 'end' }] }, `three-${s.threads}`)),
    );
    expect(daemons[1]!.stderr()).toContain(THREADED);
    expect(daemons[0]!.stderr()).not.toContain('pipeline.threads');
    for (const d of daemons) await waitFor('3 files followed', () => d.stderr().split('"msg":"following file"').length === 4);
    for (const s of setups) for (const [i, f] of s.files.entries()) appendFileSync(f, readFileSync(join(FIXTURES, names[i]!)));
    // wc -l: 35 + 29 + 41 lines.
    for (const d of daemons) await waitFor('105 lines', async () => sum(await d.samples(), LINES) === 105);
    const [one, two] = await Promise.all(daemons.map(async (d) => (await d.get('/metrics')).body));
    // The file paths differ (t1-… / t2-…) in the lag series only.
    expect(withoutProcess(two!).replaceAll('/t2-', '/tN-')).toBe(withoutProcess(one!).replaceAll('/t1-', '/tN-'));
    expect(two!.length).toBeGreaterThan(5000);
    for (const d of daemons) expect(await d.stop('SIGTERM')).toBe(0);
  });
});

describe('a generated corpus (60,003 lines) appended in 12 pieces while /metrics is scraped', () => {
  it('no count ever goes down, no line is counted twice, the end equals one thread and the generator\'s truth', async () => {
    const seed = 7;
    const corpus = join(dir, 'corpus.log');
    const truth = generateCorpus({ seed, lines: 60_000, out: corpus });
    const repos = repositories(truth.repos, rng(seed ^ 0x5bd1e995)) as Array<{ ns: string; repo: string }>;
    const map: Record<string, string> = {};
    for (const r of repos) map[upstreamOf(r)] = `${r.ns}/${r.repo}`;
    const text = readFileSync(corpus);
    const files = [1, 2].map((t) => join(dir, `flow-${t}.log`));
    for (const f of files) writeFileSync(f, '');
    const daemons = await Promise.all(
      files.map((f, i) => start({ pipeline: { threads: i + 1 }, mirror: { repositories: map }, inputs: [{ paths: [f], start_at: 'end' }] }, `flow-${i + 1}`)),
    );
    expect(daemons[1]!.stderr()).toContain(THREADED);
    for (const d of daemons) await waitFor('following', () => d.stderr().includes('"msg":"following file"'));
    // Cut at newlines into 12 parts of about the same size.
    const cuts = [0];
    for (let k = 1; k < 12; k++) cuts.push(text.indexOf(10, Math.floor((text.length * k) / 12)) + 1);
    cuts.push(text.length);
    let previous = new Map<string, number>();
    let scrapes = 0;
    for (let k = 0; k < 12; k++) {
      for (const f of files) appendFileSync(f, text.subarray(cuts[k]!, cuts[k + 1]!));
      const written = linesBefore(corpus, cuts[k + 1]!);
      // A few scrapes while the part is being read.
      for (let j = 0; j < 3; j++) {
        const s = parseExposition((await daemons[1]!.get('/metrics')).body);
        scrapes++;
        expect(sum(s, LINES)).toBeLessThanOrEqual(written);
        const now = monotonic(s);
        for (const [key, v] of previous) {
          const n = now.get(key);
          if (n === undefined || n < v) throw new Error(`${key} went from ${v} to ${n} at scrape ${scrapes}`);
        }
        previous = now;
      }
    }
    expect(scrapes).toBe(36);
    // The generator asked for 60,000 lines wrote 60,003 (it finishes what it started), `wc -l` agrees.
    expect(truth.lines).toBe(60_003);
    for (const d of daemons) await waitFor('every line', async () => sum(await d.samples(), LINES) === truth.lines, 60_000);
    const [one, two] = await Promise.all(daemons.map(async (d) => (await d.get('/metrics')).body));
    expect(withoutProcess(two!).replaceAll('/flow-2.log', '/flow-N.log')).toBe(withoutProcess(one!).replaceAll('/flow-1.log', '/flow-N.log'));
    const check = checkAgainstTruth(parsePrometheus(two!), truth, CATALOGUE);
    expect(check.mismatches).toEqual([]);
    expect(check.checked).toBeGreaterThan(100);
    for (const d of daemons) expect(await d.stop('SIGTERM')).toBe(0);
  }, 120_000);
});

describe('with the series cap reached', () => {
  it('threads 2 admits the series one thread admits, with the same values; only series_overflow_total counts differently', async () => {
    const corpus = join(dir, 'cap-corpus.log');
    generateCorpus({ seed: 5, lines: 20_000, out: corpus });
    const text = readFileSync(corpus);
    const lines = linesBefore(corpus, text.length);
    const files = [1, 2].map((t) => join(dir, `cap-${t}.log`));
    for (const f of files) writeFileSync(f, '');
    const daemons = await Promise.all(
      files.map((f, i) => start({ pipeline: { threads: i + 1 }, limits: { max_series_per_metric: 7 }, inputs: [{ paths: [f], start_at: 'end' }] }, `cap-${i + 1}`)),
    );
    for (const d of daemons) await waitFor('following', () => d.stderr().includes('"msg":"following file"'));
    for (const f of files) appendFileSync(f, text);
    for (const d of daemons) await waitFor('every line', async () => sum(await d.samples(), LINES) === lines, 60_000);
    const [one, two] = await Promise.all(daemons.map(async (d) => (await d.get('/metrics')).body));
    const strip = (t: string, n: number) =>
      withoutProcess(t)
        .replaceAll(`/cap-${n}.log`, '/cap-N.log')
        .split('\n')
        .filter((l) => !l.startsWith('quay_log_exporter_series_overflow_total{'))
        .join('\n');
    expect(strip(two!, 2)).toBe(strip(one!, 1));
    // namespace and repository both fold: 7 series admitted, then one __overflow__ series.
    const pulls = family(parseExposition(two!), 'quay_registry_pulls_total');
    expect(Object.keys(pulls)).toHaveLength(8);
    expect(pulls['namespace=__overflow__,repository=__overflow__']).toBeGreaterThan(0);
    for (const d of daemons) expect(await d.stop('SIGTERM')).toBe(0);
  }, 120_000);
});

describe('restarts with threads 2: the offsets file never skips or doubles a line', () => {
  let corpus: Buffer;
  /** Line starts cutting the corpus in three. */
  let thirds: number[];
  beforeAll(() => {
    const file = join(dir, 'restart-corpus.log');
    generateCorpus({ seed: 11, lines: 30_000, out: file });
    corpus = readFileSync(file);
    thirds = [corpus.indexOf(10, Math.floor(corpus.length / 3)) + 1, corpus.indexOf(10, Math.floor((corpus.length * 2) / 3)) + 1];
  });
  const linesIn = (a: number, b: number) => {
    let n = 0;
    for (let i = corpus.indexOf(10, a); i >= 0 && i < b; i = corpus.indexOf(10, i + 1)) n++;
    return n;
  };

  it('SIGTERM while a third is being read: all of it read and saved; the restart reads exactly the last third', async () => {
    const sub = mkdtempSync(join(dir, 'term-'));
    const log = join(sub, 'quay.log');
    writeFileSync(log, corpus.subarray(0, thirds[0]));
    const config = { pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] };
    const first = await startDaemon(config, sub);
    running.push(first);
    await waitFor('the first third', async () => sum(await first.samples(), LINES) === linesIn(0, thirds[0]!));
    appendFileSync(log, corpus.subarray(thirds[0], thirds[1]));
    expect(await first.stop('SIGTERM')).toBe(0);
    // The drain reads what was written before it: the offset is the end of the second third, no line held back.
    expect(savedOffset(join(sub, 'state'), log)).toBe(thirds[1]);
    appendFileSync(log, corpus.subarray(thirds[1]));
    const second = await startDaemon(config, sub);
    running.push(second);
    await waitFor('offset at the end', () => savedOffset(join(sub, 'state'), log) === corpus.length);
    const s = await second.samples();
    // Exactly the last third's lines: none of the first two again, none skipped.
    expect(sum(s, LINES)).toBe(linesIn(thirds[1]!, corpus.length));
    // Asked for 30,000 lines, the generator wrote 30,008 (`wc -l`).
    expect(linesIn(0, corpus.length)).toBe(30_008);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('SIGTERM just after a rename rotation, pieces of the renamed file in flight: both files saved at their end, the restart reads nothing again', async () => {
    const sub = mkdtempSync(join(dir, 'term-rotate-'));
    const log = join(sub, 'quay.log');
    const state = join(sub, 'state');
    writeFileSync(log, corpus.subarray(0, thirds[0]));
    const config = { pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] };
    const first = await startDaemon(config, sub);
    running.push(first);
    await waitFor('the first third', async () => sum(await first.samples(), LINES) === linesIn(0, thirds[0]!));
    // The second third into the file, renamed (outside the glob), the last third in a new file at the path; stop at once.
    appendFileSync(log, corpus.subarray(thirds[0], thirds[1]));
    renameSync(log, `${log}.1`);
    writeFileSync(log, corpus.subarray(thirds[1]));
    expect(await first.stop('SIGTERM')).toBe(0);
    const startedAt = Date.now();
    const second = await startDaemon(config, sub);
    running.push(second);
    // Started (the renamed file's rest, if its saved offset were short, is read before that), then a save of the new file.
    await waitFor('a save after the restart', () => {
      const doc = JSON.parse(readFileSync(join(state, 'offsets-file-0.json'), 'utf8')) as { files: Array<{ path: string; updated: number }> };
      return second.stderr().includes('"msg":"started"') && doc.files.some((f) => f.path === log && f.updated >= startedAt);
    });
    // Every line was counted by the first process: the second counts none of them again.
    expect(sum(await second.samples(), LINES)).toBe(0);
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('SIGKILL while lines flow: a saved offset never passes a line not yet counted, and the restart counts exactly the lines after it', async () => {
    const sub = mkdtempSync(join(dir, 'kill-'));
    const log = join(sub, 'quay.log');
    writeFileSync(log, '');
    const state = join(sub, 'state');
    const config = { pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning', checkpoint_interval: '50ms' }] };
    const first = await startDaemon(config, sub);
    running.push(first);
    // Two thirds appended in 20 steps; between steps the saved offset is read, then /metrics.
    const steps = 20;
    let checks = 0;
    for (let k = 1; k <= steps; k++) {
      const end = k === steps ? thirds[1]! : corpus.indexOf(10, Math.floor((thirds[1]! * k) / steps)) + 1;
      appendFileSync(log, corpus.subarray(statSync(log).size, end));
      // Wait for a save that has moved (not for all of it: lines are still flowing on the next step).
      const before = savedOffset(state, log);
      await waitFor('a save', () => savedOffset(state, log) !== before || savedOffset(state, log) === end);
      const offset = savedOffset(state, log);
      const counted = sum(await first.samples(), LINES);
      if (offset !== undefined) {
        // Saved before the scrape: every line before it was counted by then.
        expect(linesIn(0, offset)).toBeLessThanOrEqual(counted);
        checks++;
      }
    }
    expect(checks).toBeGreaterThan(0);
    await first.stop('SIGKILL');
    const offset = savedOffset(state, log) ?? 0;
    // A line start: the byte before it is a newline.
    expect(offset === 0 || corpus[offset - 1] === 10).toBe(true);
    appendFileSync(log, corpus.subarray(thirds[1]));
    const second = await startDaemon(config, sub);
    running.push(second);
    await waitFor('offset at the end', () => savedOffset(state, log) === corpus.length);
    // Everything after the saved offset, once: not a line skipped, not one before it again.
    expect(sum(await second.samples(), LINES)).toBe(linesIn(offset, corpus.length));
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('SIGKILL once everything is counted and saved: the restart reads only what comes after', async () => {
    const sub = mkdtempSync(join(dir, 'kill-idle-'));
    const log = join(sub, 'quay.log');
    writeFileSync(log, corpus.subarray(0, thirds[1]));
    const state = join(sub, 'state');
    const config = { pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] };
    const first = await startDaemon(config, sub);
    running.push(first);
    await waitFor('saved at the end', () => savedOffset(state, log) === thirds[1]);
    expect(sum(await first.samples(), LINES)).toBe(linesIn(0, thirds[1]!));
    await first.stop('SIGKILL');
    appendFileSync(log, corpus.subarray(thirds[1]));
    const second = await startDaemon(config, sub);
    running.push(second);
    await waitFor('offset at the end', () => savedOffset(state, log) === corpus.length);
    expect(sum(await second.samples(), LINES)).toBe(linesIn(thirds[1]!, corpus.length));
    expect(await second.stop('SIGTERM')).toBe(0);
  }, 120_000);
});

describe('rotation and truncation with threads 2: each line counted once', () => {
  it('rename (logrotate create) then copytruncate, lines flowing: lines_total is every line written, and the mirror attempt across the rename stays one', async () => {
    const sub = mkdtempSync(join(dir, 'rotate-'));
    const log = join(sub, 'quay.log');
    const fixture = readFileSync(join(FIXTURES, 'quay-supervisord.log'));
    const mirror = readFileSync(join(FIXTURES, 'mirror-interleaved.log'));
    writeFileSync(log, '');
    const d = await start({ pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] }, 'rotate');
    await waitFor('following', () => d.stderr().includes('"msg":"following file"'));
    // 35 lines, then the mirror fixture's first half in the file that is renamed, its second half in the new one.
    const half = mirror.indexOf(10, Math.floor(mirror.length / 2)) + 1;
    appendFileSync(log, fixture);
    appendFileSync(log, mirror.subarray(0, half));
    renameSync(log, `${log}.1`);
    writeFileSync(log, mirror.subarray(half));
    // 35 + 29 lines (wc -l of the two fixtures).
    await waitFor('64 lines', async () => sum(await d.samples(), LINES) === 64);
    await waitFor('the renamed file released', () => d.stderr().includes('"msg":"file rotated"'));
    // copytruncate: the file is emptied and written again from byte 0: 35 more lines.
    truncateSync(log, 0);
    await waitFor('the truncation seen', () => d.stderr().includes('"msg":"file truncated"'));
    appendFileSync(log, fixture);
    await waitFor('99 lines', async () => sum(await d.samples(), LINES) === 99);
    const s = await d.samples();
    // The supervisord fixture twice: twice its hand counts.
    expect(family(s, 'quay_registry_pulls_total')).toEqual(Object.fromEntries(Object.entries(PULLS).map(([k, v]) => [k, 2 * v])));
    expect(sum(s, 'quay_log_exporter_rotations_total')).toBe(2);
    // The same mirror lines in one file give the same attempts: one thread, one file, no rotation.
    const plain = join(dir, 'rotate-plain.log');
    writeFileSync(plain, mirror);
    const one = await start({ inputs: [{ paths: [plain], start_at: 'beginning' }] }, 'rotate-plain');
    await waitFor('29 lines', async () => sum(await one.samples(), LINES) === 29);
    const attempts = (x: Sample[]) => family(x, 'quay_log_repository_mirror_sync_attempts_total');
    expect(Object.keys(attempts(s)).length).toBeGreaterThan(0);
    expect(attempts(s)).toEqual(attempts(await one.samples()));
    expect(await one.stop('SIGTERM')).toBe(0);
    expect(await d.stop('SIGTERM')).toBe(0);
  }, 60_000);
});

describe('when threads would change a result: one thread, said once at start-up', () => {
  it('pod labels: every input on one thread; a mirror-only input: that input on one thread', async () => {
    const log = join(dir, 'said.log');
    writeFileSync(log, '');
    const pods = await start({ pipeline: { threads: 2 }, limits: { pod_label: true }, inputs: [{ paths: [log] }] }, 'said-pods');
    await waitFor('started', () => pods.stderr().includes('"msg":"started"'));
    expect(pods.stderr()).toContain('"msg":"pipeline.threads: input parsed on one thread (limits.pod_label)","input":"file-0","threads":2');
    expect(pods.stderr()).not.toContain(THREADED);
    expect(await pods.stop('SIGTERM')).toBe(0);
    const mixed = await start(
      { pipeline: { threads: 2 }, inputs: [{ paths: [log] }, { name: 'mirror', paths: [join(dir, 'mirror.log')], source: 'repomirrorworker' }] },
      'said-mixed',
    );
    await waitFor('started', () => mixed.stderr().includes('"msg":"started"'));
    const said = mixed.stderr().split('\n').filter((l) => l.includes('pipeline.threads'));
    expect(said).toHaveLength(2);
    expect(said[0]).toContain('"msg":"pipeline.threads: input parsed on one thread (source repomirrorworker is order-dependent throughout)","input":"mirror"');
    expect(said[1]).toContain(THREADED);
    expect(await mixed.stop('SIGTERM')).toBe(0);
  });
});

describe('a worker thread that dies', () => {
  it('fails the daemon with a clear error; what it did not answer is neither counted nor saved, and the restart reads it', async () => {
    // In this process (the built dist/, real files, a real worker thread), so the test can end the worker.
    const { Daemon } = await import('../dist/daemon.js');
    const { parseConfig } = await import('../dist/config/load.js');
    const { createLogger } = await import('../dist/log.js');
    const sub = mkdtempSync(join(dir, 'dies-'));
    const log = join(sub, 'quay.log');
    const fixture = readFileSync(join(FIXTURES, 'quay-supervisord.log'));
    writeFileSync(log, fixture);
    const state = join(sub, 'state');
    const raw = { state_dir: state, prometheus: { listen: '127.0.0.1:0' }, pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] };
    const logged: string[] = [];
    const daemon = await Daemon.start(parseConfig(raw), createLogger('info', (l) => logged.push(l)));
    let stopped = false;
    try {
      const scrape = async () => parseExposition(await (await fetch(`http://127.0.0.1:${daemon.address!.port}/metrics`)).text());
      // 35 lines (the fixture's hand count), saved.
      await waitFor('35 lines saved', async () => sum(await scrape(), LINES) === FIXTURE_LINES && savedOffset(state, log) === fixture.length);
      const worker = (daemon as unknown as { threads: { workers: Array<{ worker: { terminate(): Promise<number> } }> } }).threads.workers[0]!.worker;
      await worker.terminate();
      expect((await daemon.failed).message).toBe('worker thread 1 exited (code 1)');
      // Written after the worker died: read (input bytes) but not counted, and never saved.
      appendFileSync(log, fixture);
      await waitFor('the second copy read', async () => sum(await scrape(), 'quay_log_exporter_input_bytes_total') === 2 * fixture.length);
      expect(sum(await scrape(), LINES)).toBe(FIXTURE_LINES);
      await daemon.stop();
      stopped = true;
      expect(savedOffset(state, log)).toBe(fixture.length);
      expect(logged.join('')).toMatch(/"level":"error","msg":"worker thread died: the lines it had not answered were not counted and their offsets not saved; they are read again at the next start","error":"worker thread 1 exited \(code 1\)","held":1\}/);
    } finally {
      if (!stopped) await daemon.stop();
    }
    // The restart (one thread) counts the second copy: its 35 lines, once.
    const again = await startDaemon({ inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] }, sub);
    running.push(again);
    await waitFor('saved at the end', () => savedOffset(state, log) === 2 * fixture.length);
    expect(sum(await again.samples(), LINES)).toBe(FIXTURE_LINES);
    expect(await again.stop('SIGTERM')).toBe(0);
  }, 60_000);
  it('through the CLI: a worker that cannot start (its script missing from the install) stops run with exit 1 and says why; nothing is saved past what was counted', async () => {
    // The bundled CLI (dist/cli.js and its chunks) on its own in a copy of the install without dist/threads/ (patterns and rules beside it, as the package has them).
    const root = mkdtempSync(join(dir, 'broken-install-'));
    mkdirSync(join(root, 'dist'));
    copyFileSync(CLI, join(root, 'dist', 'cli.js'));
    for (const f of readdirSync(dirname(CLI)).filter((n) => n.startsWith('cli-chunk-'))) copyFileSync(join(dirname(CLI), f), join(root, 'dist', f));
    for (const d of ['patterns', 'rules']) symlinkSync(fileURLToPath(new URL(`../${d}`, import.meta.url)), join(root, d));
    const sub = mkdtempSync(join(dir, 'broken-run-'));
    const log = join(sub, 'quay.log');
    writeFileSync(log, readFileSync(join(FIXTURES, 'quay-supervisord.log')));
    const cfg = join(sub, 'config.yaml');
    writeFileSync(cfg, JSON.stringify({ state_dir: join(sub, 'state'), prometheus: { listen: '127.0.0.1:0' }, pipeline: { threads: 2 }, inputs: [{ paths: [log], start_at: 'saved-or-beginning' }] }));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'dist', 'cli.js'), 'run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"level":"error","msg":"stopping: a worker thread died","error":"worker thread 1 failed: Cannot find module '[^']*\/dist\/threads\/daemon-worker\.js'/);
    expect(r.stderr).toContain('"msg":"stopped"');
    // Not one line was counted (the worker never answered): no offset past 0 was saved.
    expect(savedOffset(join(sub, 'state'), log) ?? 0).toBe(0);
  }, 60_000);
});

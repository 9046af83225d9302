/**
 * Process-level fault tests: the real CLI (`node dist/cli.js --config …`,
 * built by `npm test`'s tsc step) as a child process, real signals, totals
 * read from its /metrics. Counters restart at 0 in each process, so "nothing
 * lost, nothing repeated" is run 1 total + run 2 total == lines written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../helpers/wait.js';

const CLI = resolve('dist/cli.js');
const root = mkdtempSync(join(tmpdir(), 'qle-proc-'));
const children = new Set<ChildProcess>();

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first (npx tsc -p .)`);
});
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Exporter {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

async function startExporter(configPath: string, port: number): Promise<Exporter> {
  const child = spawn(process.execPath, [CLI, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => {
    children.delete(child);
    r(code);
  }));
  const e = { child, port, exited };
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  await waitFor(`/metrics of ${configPath}`, async () => {
    if (code !== undefined) throw new Error(`exited with ${code}: ${stderr.slice(-500)}`);
    // Ready = the inputs have started (their start offsets are taken): only then may a test append.
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined;
  });
  return e;
}

/** Sum of every series of a metric on /metrics. */
async function scrape(e: Exporter): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${e.port}/metrics`);
  if (!res.ok) throw new Error(`status ${res.status}`);
  const sums = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (m) sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return sums;
}

async function total(e: Exporter, metric: string): Promise<number> {
  return (await scrape(e)).get(metric) ?? 0;
}

/** Wait until the exporter has read `bytes` bytes in total (so every line up to there was counted). */
async function readUpTo(e: Exporter, bytes: number): Promise<void> {
  await waitFor(`${bytes} bytes read`, async () => ((await total(e, 'quay_log_exporter_input_bytes_total')) === bytes ? true : undefined));
}

function setup(name: string, port: number, extra: string[] = []) {
  const dir = join(root, name);
  const log = join(dir, 'logs', 'quay.log');
  const state = join(dir, 'state');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(log, '');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `state_dir: ${JSON.stringify(state)}`,
      'log_level: warn',
      'prometheus:',
      `  listen: "127.0.0.1:${port}"`,
      'inputs:',
      '  - name: quay',
      `    paths: [${JSON.stringify(join(dir, 'logs', '*.log'))}]`,
      '    source: nginx',
      ...(extra.some((l) => l.startsWith('start_at:')) ? [] : ['    start_at: saved-or-beginning']),
      ...extra.map((l) => `    ${l}`),
      '',
    ].join('\n'),
  );
  return { dir, log, state, config };
}

let seq = 0;
/** `n` nginx-ish lines with unique numbers; returns how many bytes were appended. */
function append(file: string, n: number): number {
  let s = '';
  for (let i = 0; i < n; i++, seq++) s += `10.0.0.1 - - [22/Nov/2026:10:15:32 +0000] "GET /v2/ns/repo/manifests/t${seq} HTTP/1.1" 200 ${seq} "-" "docker/24.0"\n`;
  appendFileSync(file, s);
  return Buffer.byteLength(s);
}

const LINES = 'quay_log_exporter_lines_total';

describe('exporter process: restarts', () => {
  it('SIGTERM then restart: run 1 + run 2 == lines written, each byte read once', async () => {
    const port = await freePort();
    const { log, config } = setup('sigterm', port);
    let written = 0;
    let bytes = append(log, 3000);
    written += 3000;
    const run1 = await startExporter(config, port);
    bytes += append(log, 2000); // while running
    written += 2000;
    await readUpTo(run1, bytes);
    const t1 = await total(run1, LINES);
    const b1 = await total(run1, 'quay_log_exporter_input_bytes_total');
    run1.child.kill('SIGTERM');
    expect(await run1.exited).toBe(0);

    const down = append(log, 1500); // written while nothing runs
    written += 1500;
    const run2 = await startExporter(config, port);
    const more = append(log, 500);
    written += 500;
    // Run 2 reads exactly the bytes run 1 did not: it resumes at the saved offset.
    await readUpTo(run2, down + more);
    const t2 = await total(run2, LINES);
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
    // 3000 + 2000 + 1500 + 500 = 7000 lines written
    expect(written).toBe(7000);
    expect(t1).toBe(5000);
    expect(b1 + down + more).toBe(statSync(log).size);
    expect(t1 + t2).toBe(written);
  });

  it('SIGKILL then restart: repeats only the lines after the last checkpoint (at most one interval)', async () => {
    const port = await freePort();
    const { log, config, state } = setup('sigkill', port);
    const stateFile = join(state, 'offsets-quay.json');
    const savedOffset = () => {
      try {
        return (JSON.parse(readFileSync(stateFile, 'utf8')) as { files: { offset: number }[] }).files[0]?.offset;
      } catch {
        return undefined;
      }
    };
    let bytes = append(log, 3000);
    const run1 = await startExporter(config, port);
    // A checkpoint (default every 1 s) covers the first 3000 lines.
    await waitFor('checkpoint of 3000 lines', async () => (savedOffset() === bytes ? true : undefined));
    bytes += append(log, 1000); // after that checkpoint
    await readUpTo(run1, bytes);
    const t1 = await total(run1, LINES);
    run1.child.kill('SIGKILL');
    await run1.exited;
    const saved = savedOffset()!;

    const run2 = await startExporter(config, port);
    await readUpTo(run2, bytes - saved);
    const t2 = await total(run2, LINES);
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
    const written = 4000;
    expect(t1).toBe(written);
    // Repeated = exactly the lines between the last saved offset and the end.
    const repeated = t1 + t2 - written;
    const after = readFileSync(log).subarray(saved);
    expect(repeated).toBe(after.filter((b) => b === 10).length);
    // Bound: no more than the 1000 lines written after the checkpoint we saw.
    expect(repeated).toBeGreaterThanOrEqual(0);
    expect(repeated).toBeLessThanOrEqual(1000);
  });

  it('a line appended to a followed file is counted once, as it arrives', async () => {
    // How fast it shows is the benchmark's business (bench/); here only that it arrives, once.
    const port = await freePort();
    const { log, config } = setup('append', port);
    const bytes = append(log, 10);
    const run = await startExporter(config, port);
    await readUpTo(run, bytes);
    expect(await total(run, LINES)).toBe(10);
    const one = append(log, 1);
    await readUpTo(run, bytes + one);
    // 10 + the 1 appended, and no line counted twice.
    expect(await total(run, LINES)).toBe(11);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  /** The saved offset of the file at `path` in the input's state file, if any. */
  const savedOffsetOf = (state: string, path?: string) => {
    try {
      const files = (JSON.parse(readFileSync(join(state, 'offsets-quay.json'), 'utf8')) as { files: { path: string; offset: number }[] }).files;
      return (path ? files.find((f) => f.path === path) : files[0])?.offset;
    } catch {
      return undefined;
    }
  };

  it('rotation by rename while down, the old file still matched by the glob: its rest, then the new file from byte 0', async () => {
    const port = await freePort();
    // start_at saved-or-end, the default: a new file at a path followed before is a rotation's successor.
    const { dir, log, config } = setup('rotate-down', port, ['start_at: saved-or-end']);
    const run1 = await startExporter(config, port);
    const b1 = append(log, 3000); // written while run 1 follows from the (empty) end
    await readUpTo(run1, b1);
    run1.child.kill('SIGTERM');
    expect(await run1.exited).toBe(0);

    // While down: 500 more lines, then logrotate renames quay.log to quay-1.log (still *.log) and
    // the writer starts a new quay.log with 200 lines.
    const rest = append(log, 500);
    renameSync(log, join(dir, 'logs', 'quay-1.log'));
    writeFileSync(log, '');
    const fresh = append(log, 200);
    const run2 = await startExporter(config, port);
    await readUpTo(run2, rest + fresh);
    // 500 from the saved offset of the renamed file + 200 from byte 0 of the new one: 700, none twice.
    expect(await total(run2, LINES)).toBe(700);
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
  });

  // The renamed file (quay.log.1) is no longer matched by the glob: before the fix its unread rest was never read.
  it('rotation by rename while down, the old name outside the glob (logrotate quay.log.1): its rest is read too', async () => {
    const port = await freePort();
    const { dir, log, config } = setup('rotate-down-outside', port, ['start_at: saved-or-end']);
    const run1 = await startExporter(config, port);
    const b1 = append(log, 2000);
    await readUpTo(run1, b1);
    run1.child.kill('SIGTERM');
    expect(await run1.exited).toBe(0);

    const rest = append(log, 500);
    renameSync(log, join(dir, 'logs', 'quay.log.1')); // *.log does not match it
    writeFileSync(log, '');
    const fresh = append(log, 200);
    const run2 = await startExporter(config, port);
    // Hand count: 500 left in the renamed file + 200 in the new one = 700.
    await readUpTo(run2, rest + fresh);
    expect(await total(run2, LINES)).toBe(700);
  });

  it('copytruncate while down, new content different: the file is read again from byte 0', async () => {
    const port = await freePort();
    const { log, config } = setup('truncate-down', port, ['start_at: saved-or-end']);
    const run1 = await startExporter(config, port);
    const b1 = append(log, 3000);
    await readUpTo(run1, b1);
    run1.child.kill('SIGTERM');
    expect(await run1.exited).toBe(0);
    // While down: copied away and truncated; the writer goes on from byte 0 (100 lines, < the saved offset).
    truncateSync(log, 0);
    const fresh = append(log, 100);
    expect(fresh).toBeLessThan(b1);
    const run2 = await startExporter(config, port);
    await readUpTo(run2, fresh);
    expect(await total(run2, LINES)).toBe(100);
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
  });

  it('copytruncate while down, new content starting with the same 256 bytes: still read from byte 0, counted as a truncation', async () => {
    const port = await freePort();
    const { log, config } = setup('truncate-down-same-start', port, ['start_at: saved-or-end']);
    // The same banner (> 256 bytes, the fingerprint's length) heads the file before and after the truncation,
    // so the saved identity still matches; only the size (below the saved offset) tells.
    const banner = Array.from({ length: 4 }, (_, i) => `10.0.0.9 - - [22/Nov/2026:10:00:00 +0000] "GET /v2/ HTTP/1.1" 401 87 "-" "banner-${i}"`).join('\n') + '\n';
    expect(Buffer.byteLength(banner)).toBeGreaterThan(256);
    const run1 = await startExporter(config, port);
    appendFileSync(log, banner);
    const b1 = Buffer.byteLength(banner) + append(log, 2000);
    await readUpTo(run1, b1);
    run1.child.kill('SIGTERM');
    expect(await run1.exited).toBe(0);

    truncateSync(log, 0);
    appendFileSync(log, banner);
    const fresh = Buffer.byteLength(banner) + append(log, 50);
    const run2 = await startExporter(config, port);
    await readUpTo(run2, fresh);
    // 4 banner lines + 50 = 54, all of the new content.
    expect(await total(run2, LINES)).toBe(54);
    expect(await total(run2, 'quay_log_exporter_rotations_total')).toBe(1);
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
  });

  it('SIGKILL while a traceback is held past a checkpoint: the restart reads the whole event, once', async () => {
    const port = await freePort();
    const { dir, config, state } = setup('sigkill-held', port, ['multiline: {preset: python-traceback, timeout: 1h}', 'checkpoint_interval: 100ms']);
    // A supervisord stream: reconfigure the input's source in the same file.
    writeFileSync(config, readFileSync(config, 'utf8').replace('source: nginx', 'source: supervisord'));
    const log = join(dir, 'logs', 'quay.log');
    const gc = (text: string) => `gcworker stdout | ${text}\n`;
    const info = (i: number) => gc(`2026-11-22 10:00:${String(i % 60).padStart(2, '0')},000 [63] [INFO] [workers.gc] pass ${i}`);
    let head = '';
    for (let i = 0; i < 100; i++) head += info(i);
    const event = [
      gc('2026-11-22 10:01:00,000 [63] [ERROR] [workers.gc] gc failed'),
      gc('Traceback (most recent call last):'),
      gc('  File "gc.py", line 1, in run'),
      gc("KeyError: 'x'"),
    ].join('');
    const run1 = await startExporter(config, port);
    appendFileSync(log, head + event);
    const eventAt = Buffer.byteLength(head);
    await readUpTo(run1, eventAt + Buffer.byteLength(event));
    // The 100 INFO lines are handed over (the ERROR line closed the last one); the event is open.
    expect(await total(run1, LINES)).toBe(100);
    // A checkpoint after the event was read saves the offset where the held event starts, not past it.
    await waitFor('a checkpoint at or past the held event', () => ((savedOffsetOf(state) ?? 0) >= eventAt ? true : undefined));
    expect(savedOffsetOf(state)).toBe(eventAt);
    run1.child.kill('SIGKILL');
    await run1.exited;

    const run2 = await startExporter(config, port);
    const tail = gc('2026-11-22 10:02:00,000 [63] [INFO] [workers.gc] pass 100') + gc('2026-11-22 10:02:01,000 [63] [INFO] [workers.gc] pass 101');
    appendFileSync(log, tail);
    await readUpTo(run2, Buffer.byteLength(event + tail));
    // Run 2: the whole 4-line event (1) + "pass 100" (1); "pass 101" is held. 100 + 2: no line lost, none twice.
    expect(await total(run2, LINES)).toBe(2);
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
  });
});

describe('exporter process: rotation while it is down', () => {
  it('reads the unread rest of a file renamed while stopped (glob matches only the current name), then the new file', async () => {
    const port = await freePort();
    const { dir, log, config } = setup('rotated-while-down', port);
    const bytes1 = append(log, 1500);
    const run1 = await startExporter(config, port);
    await readUpTo(run1, bytes1);
    const t1 = await total(run1, LINES);
    run1.child.kill('SIGTERM');
    expect(await run1.exited).toBe(0);

    // While down: 500 more lines, then logrotate renames quay.log → quay.log.1 (not matched by
    // *.log) and the writer starts a new quay.log with 300 lines.
    const unread = append(log, 500);
    renameSync(log, join(dir, 'logs', 'quay.log.1'));
    const fresh = append(log, 300);

    const run2 = await startExporter(config, port);
    await readUpTo(run2, unread + fresh);
    const t2 = await total(run2, LINES);
    const rotations = await total(run2, 'quay_log_exporter_rotations_total');
    run2.child.kill('SIGTERM');
    expect(await run2.exited).toBe(0);
    // 1500 + 500 + 300 = 2,300 lines written; run 1 read 1,500, run 2 the 500 left in the renamed file and the 300 new ones
    expect(t1).toBe(1500);
    expect(t2).toBe(800);
    // the one rename, seen at start-up
    expect(rotations).toBe(1);

    // A third run reads nothing again: the renamed file is at its end, the new one too.
    const run3 = await startExporter(config, port);
    const more = append(log, 7);
    await readUpTo(run3, more);
    expect(await total(run3, LINES)).toBe(7);
    run3.child.kill('SIGTERM');
    expect(await run3.exited).toBe(0);
  });
});

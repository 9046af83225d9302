/**
 * Process-level fault tests: the real CLI (`node dist/cli.js --config …`,
 * built by `npm test`'s tsc step) as a child process, real signals, totals
 * read from its /metrics. Counters restart at 0 in each process, so "nothing
 * lost, nothing repeated" is run 1 total + run 2 total == lines written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
  await waitFor(`/metrics of ${configPath} (stderr: ${stderr.slice(-500)})`, async () => ((await scrape(e)) ? true : undefined));
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

function setup(name: string, port: number) {
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
      '    start_at: saved-or-beginning',
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
});

/**
 * State robustness through the real CLI: corrupt offsets fall back to the
 * safe side with a warning, an offsets path that is a directory is a clear
 * error, a read-only state_dir makes /readyz not ready and counts failed
 * saves (logged once, not every second), and the temporary state file never
 * follows a symlink planted at its name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CLI, runCli } from '../helpers/cli.js';
import { parseExposition, sum, value } from '../helpers/exposition.js';
import { waitFor } from '../helpers/wait.js';

const root = mkdtempSync(join(tmpdir(), 'qle-state-'));
chmodSync(root, 0o755);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});

// As root, file modes do not stop writes: run the exporter as "nobody" so a read-only state_dir is read-only.
const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

let seq = 0;
function append(file: string, n: number): void {
  let s = '';
  for (let i = 0; i < n; i++, seq++) s += `10.0.0.1 - - [22/Nov/2026:10:15:32 +0000] "GET /v2/ns/repo/manifests/t${seq} HTTP/1.1" 200 ${seq} "-" "docker/24.0"\n`;
  appendFileSync(file, s);
}

function setup(name: string) {
  const dir = join(root, name);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  for (const d of [dir, join(dir, 'logs'), join(dir, 'state')]) chmodSync(d, 0o777);
  const log = join(dir, 'logs', 'quay.log');
  writeFileSync(log, '');
  chmodSync(log, 0o644);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    stringify({
      state_dir: join(dir, 'state'),
      prometheus: { listen: '127.0.0.1:0' },
      inputs: [{ name: 'quay', paths: [log], source: 'nginx', start_at: 'saved-or-end', checkpoint_interval: '100ms', poll_interval: '50ms' }],
    }),
  );
  return { dir, log, config, state: join(dir, 'state'), offsets: join(dir, 'state', 'offsets-quay.json') };
}

async function start(config: string) {
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], ...asUser });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const port = await waitFor(`listening (${err})`, () => Number(/"serving metrics","address":"[^"]*:(\d+)"/.exec(err)?.[1]) || undefined);
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };
  // every line read, whatever its result
  const lines = async () => sum(parseExposition((await get('/metrics')).body), 'quay_log_exporter_lines_total');
  // Inputs start after the server listens: with saved-or-end, lines written before that are not ours to read.
  await waitFor('ready', async () => (await get('/readyz')).status === 200);
  return {
    get,
    lines,
    stderr: () => err,
    metric: async (name: string) => value(parseExposition((await get('/metrics')).body), name),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('corrupt offsets: warned, and files changed since are read again from their start', () => {
  const corruptions: [string, (text: string) => string][] = [
    ['truncated JSON', (t) => t.slice(0, Math.floor(t.length / 2))],
    ['an empty file', () => ''],
    ['another layout', () => '{"version":1,"files":{}}'],
    ['a JSON array', () => '[]'],
    ['an entry with a string offset', (t) => t.replace(/"offset":(\d+)/, '"offset":"$1"')],
  ];
  it.each(corruptions)('%s', async (name, corrupt) => {
    const s = setup(`corrupt-${name.replace(/\W+/g, '-')}`);
    const run1 = await start(s.config);
    append(s.log, 100);
    await waitFor('100 lines', async () => (await run1.lines()) === 100);
    expect(await run1.stop()).toBe(0);
    writeFileSync(s.offsets, corrupt(readFileSync(s.offsets, 'utf8')));
    const past = new Date(Date.now() - 60_000);
    utimesSync(s.offsets, past, past); // the state was written (and broke) before the log changed
    append(s.log, 50); // written while down

    const run2 = await start(s.config);
    // The whole file again (150 lines, within the 64 MiB bound): the 50 written while down are not lost
    // (the 100 before are counted twice: the safe side of not knowing).
    await waitFor('150 lines', async () => (await run2.lines()) === 150);
    expect(run2.stderr()).toContain('offset state unreadable');
    expect(await run2.stop()).toBe(0);
  });
});

describe('state_dir problems', () => {
  it('an offsets path that is a directory: a clear error naming it, exit 1, no stack trace', async () => {
    const s = setup('offsets-dir');
    mkdirSync(s.offsets);
    const r = await runCli(['run', '--config', s.config]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the offsets file ${s.offsets} is a directory`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a read-only state_dir: /readyz 503, failed saves counted, the error logged once; ready again once writable', async () => {
    const s = setup('read-only');
    const run = await start(s.config);
    append(s.log, 10);
    await waitFor('10 lines', async () => (await run.lines()) === 10);
    expect((await run.get('/readyz')).status).toBe(200);
    chmodSync(s.state, 0o555);
    try {
      append(s.log, 5); // a change to save
      await waitFor('3 failed saves', async () => ((await run.metric('quay_log_exporter_state_save_failures_total')) ?? 0) >= 3);
      const ready = await run.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toContain(`cannot save state: ${s.offsets}`);
      // at least 3 failures of the offsets file, one log line for it (the mirror status file, if it saves, has its own)
      expect(run.stderr().split('\n').filter((l) => l.includes('cannot save state') && l.includes(s.offsets)).length).toBe(1);
    } finally {
      chmodSync(s.state, 0o777);
    }
    await waitFor('ready again', async () => (await run.get('/readyz')).status === 200);
    expect(run.stderr()).toContain('state saved again');
    expect(await run.stop()).toBe(0);
  });

  it('the temporary state file never follows a symlink planted at its name', async () => {
    const s = setup('symlink');
    const victim = join(s.dir, 'victim.txt');
    writeFileSync(victim, 'do not overwrite\n');
    chmodSync(victim, 0o666);
    symlinkSync(victim, `${s.offsets}.tmp`);
    const run = await start(s.config);
    append(s.log, 3);
    await waitFor('3 lines', async () => (await run.lines()) === 3);
    expect(await run.stop()).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('do not overwrite\n');
    expect(lstatSync(s.offsets).isFile()).toBe(true);
    // 3 lines read and saved: the offset is the file's size
    const saved = JSON.parse(readFileSync(s.offsets, 'utf8')) as { files: { offset: number }[] };
    expect(saved.files[0]!.offset).toBe(readFileSync(s.log).length);
  });
});

/**
 * The exporter as a real child process (`node dist/cli.js run --config …`),
 * on an ephemeral loopback port that it reports in its "serving metrics" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI } from './cli.js';
import { parseExposition, type Sample } from './exposition.js';

export interface RunningDaemon {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly dir: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  get(path: string): Promise<{ status: number; body: string }>;
  samples(): Promise<Sample[]>;
  /** Send a signal and resolve with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startDaemon(
  config: Record<string, unknown>,
  dir = mkdtempSync(join(tmpdir(), 'qle-daemon-')),
  env?: NodeJS.ProcessEnv,
): Promise<RunningDaemon> {
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({ state_dir: join(dir, 'state'), ...config, prometheus: { listen: '127.0.0.1:0', ...(config.prometheus as object) } }));
  const proc = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in 15 s:\n${err}`)), 15_000);
    proc.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /"msg":"serving (?:metrics|http)","address":"[^"]*:(\d+)"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code}:\n${err}`));
    });
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, body: await res.text() };
  };
  return {
    proc,
    port,
    dir,
    stderr: () => err,
    get,
    samples: async () => parseExposition((await get('/metrics')).body),
    stop: (signal = 'SIGTERM') => {
      proc.kill(signal);
      return exited;
    },
  };
}

export { waitFor } from './wait.js';

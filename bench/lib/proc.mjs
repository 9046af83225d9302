/**
 * Runs a command once and measures it: wall time from spawn to exit, peak
 * RSS and CPU time (from GNU time, `apt-get install -y time`; without it
 * they are reported as n/a), and its stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAS_GNU_TIME = existsSync('/usr/bin/time');

/**
 * @returns {Promise<{ code: number, wallMs: number, maxRssKb: number|null, cpuMs: number|null, stdout: string, stderr: string }>}
 */
export function measure(cmd, args, { cwd, env } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'qle-bench-'));
  const timeOut = join(dir, 'time');
  const [file, argv] = HAS_GNU_TIME ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', timeOut, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, argv, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      let maxRssKb = null;
      let cpuMs = null;
      if (HAS_GNU_TIME && existsSync(timeOut)) {
        const last = readFileSync(timeOut, 'utf8').trim().split('\n').pop() ?? '';
        const [rss, user, sys] = last.split(' ').map(Number);
        if (Number.isFinite(rss)) maxRssKb = rss;
        if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user + sys) * 1000;
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? -1, wallMs, maxRssKb, cpuMs, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

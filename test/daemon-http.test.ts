/**
 * The daemon's HTTP surface through the real CLI (`node dist/cli.js run`):
 * /readyz before and after the inputs start, /mirror/health answering 503 and
 * then 200 from lines the daemon follows, its filters, and the methods refused.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';

const root = mkdtempSync(join(tmpdir(), 'qle-http-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const daemons: RunningDaemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.proc.exitCode === null && d.proc.signalCode === null) await d.stop('SIGKILL');
});
let n = 0;
const freshDir = () => {
  const d = join(root, `t${n++}`);
  mkdirSync(d);
  return d;
};

/** A raw request with any method (fetch refuses some, and adds a body to none). */
function send(port: number, method: string, path: string): Promise<{ status: number; allow: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, allow: res.headers['allow'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PREFIX = 'repomirrorworker stdout | ';
const py = (time: string, level: string, logger: string, msg: string) => `${PREFIX}2026-11-22 ${time} [40] [${level}] [${logger}] ${msg}\n`;
const job = (time: string, repo: string, tag: string) =>
  py(time, 'DEBUG', 'util.repomirror.skopeomirror', `Creating mirroring job: upstream image docker://quay.io/upstream/${repo}:${tag}, local repository docker://quay.example.com/mirrors/${repo}:${tag}`);
const synced = (time: string, repo: string, tag: string, ok: boolean) =>
  py(time, 'INFO', 'workers.repomirrorworker', `Source 'docker://quay.io/upstream/${repo}:${tag}' ${ok ? 'successful sync' : 'failed to sync'}.`);
const runEnd = (time: string) =>
  py(time, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:59:59 UTC)" executed successfully');

interface Health {
  healthy: boolean;
  repositories: { namespace: string; repository: string; status: string; consecutive_failures: number }[];
  problems: string[];
}

describe('daemon HTTP surface', () => {
  it('/readyz answers 503 until the inputs have started, then 200; /healthz 200 throughout', async () => {
    const dir = freshDir();
    const state = join(dir, 'state');
    mkdirSync(state);
    // The file input's start() reads its offset state first. A FIFO there holds start() until a
    // writer opens it: a window, as long as the test wants, in which the server is up and the inputs are not.
    const fifo = join(state, 'offsets-quay.json');
    execFileSync('mkfifo', [fifo]);
    const log = join(dir, 'quay.log');
    writeFileSync(log, '');
    const d = await startDaemon({ state_dir: state, inputs: [{ name: 'quay', paths: [log], source: 'supervisord' }] }, dir);
    daemons.push(d);
    expect(await d.get('/readyz')).toEqual({ status: 503, body: 'starting\n' });
    expect(await d.get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    // Open the FIFO for writing and close it: the state reads as empty, start() goes on.
    writeFileSync(fifo, '{"files":[]}');
    await waitFor('/readyz 200', async () => ((await d.get('/readyz')).status === 200 ? true : undefined));
    expect(await d.get('/readyz')).toEqual({ status: 200, body: 'ready\n' });
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('/mirror/health: 200 with no mirror known, 503 on a failed repository, 200 filtered to a healthy one, 200 once it recovers', async () => {
    const dir = freshDir();
    const log = join(dir, 'quay.log');
    writeFileSync(log, '');
    const d = await startDaemon({ inputs: [{ paths: [log], source: 'supervisord', poll_interval: '50ms' }] }, dir);
    daemons.push(d);
    const health = async (q = '') => {
      const r = await d.get(`/mirror/health${q}`);
      return { status: r.status, body: JSON.parse(r.body) as Health };
    };
    // The file is followed from its end (start_at saved-or-end): append only once the input has started.
    await waitFor('/readyz 200', async () => ((await d.get('/readyz')).status === 200 ? true : undefined));
    // Nothing read yet: no repository, nothing wrong.
    expect(await health()).toMatchObject({ status: 200, body: { healthy: true, repositories: [], problems: [] } });

    // Run 1: alpine v1 fails, redis v1 syncs; the run ends, which closes both attempts.
    appendFileSync(log, job('10:00:00,000', 'alpine', 'v1') + synced('10:00:05,000', 'alpine', 'v1', false) + job('10:00:06,000', 'redis', 'v1') + synced('10:00:09,000', 'redis', 'v1', true) + runEnd('10:00:10,000'));
    await waitFor('alpine failed', async () => ((await health()).status === 503 ? true : undefined));
    const bad = await health();
    // unhealthy_after_failures defaults to 1: alpine's one failed attempt is enough.
    expect(bad.body.healthy).toBe(false);
    expect(bad.body.repositories.map((r) => [r.repository, r.status, r.consecutive_failures])).toEqual([
      ['alpine', 'failed', 1],
      ['redis', 'success', 0],
    ]);
    expect(bad.body.problems).toHaveLength(1);
    expect(bad.body.problems[0]).toContain('mirrors/alpine failed its last 1 sync attempt(s)');
    // Filters: the healthy repository alone is 200; the failing one, or its namespace, is 503.
    const redis = await health('?namespace=mirrors&repository=redis');
    expect(redis.status).toBe(200);
    expect(redis.body.repositories.map((r) => r.repository)).toEqual(['redis']);
    expect((await health('?repository=alpine')).status).toBe(503);
    expect((await health('?namespace=mirrors')).status).toBe(503);
    // A namespace with no mirror selects nothing: healthy, empty.
    expect(await health('?namespace=elsewhere')).toMatchObject({ status: 200, body: { healthy: true, repositories: [] } });

    // Run 2: alpine syncs. Healthy again, unfiltered.
    appendFileSync(log, job('10:00:40,000', 'alpine', 'v1') + synced('10:00:45,000', 'alpine', 'v1', true) + runEnd('10:00:46,000'));
    await waitFor('alpine recovered', async () => ((await health()).status === 200 ? true : undefined));
    const good = await health();
    expect(good.body.repositories.map((r) => [r.repository, r.status, r.consecutive_failures])).toEqual([
      ['alpine', 'success', 0],
      ['redis', 'success', 0],
    ]);
    expect(good.body.problems).toEqual([]);
    expect(await d.stop('SIGTERM')).toBe(0);
  });

  it('refuses POST, PUT and DELETE with 405 and Allow: GET, HEAD; HEAD gets the status without a body', async () => {
    const dir = freshDir();
    const d = await startDaemon({ inputs: [] }, dir);
    daemons.push(d);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      for (const path of ['/metrics', '/mirror/health', '/readyz']) {
        const r = await send(d.port, method, path);
        expect([method, path, r.status, r.allow]).toEqual([method, path, 405, 'GET, HEAD']);
      }
    }
    // No inputs: ready as soon as started. HEAD: same status, empty body.
    expect(await send(d.port, 'HEAD', '/readyz')).toEqual({ status: 200, allow: undefined, body: '' });
    expect(await send(d.port, 'HEAD', '/mirror/health')).toEqual({ status: 200, allow: undefined, body: '' });
    expect((await send(d.port, 'GET', '/nope')).status).toBe(404);
    expect(await d.stop('SIGTERM')).toBe(0);
  });
});

/**
 * Real servers for integration tests: influxd 1.x and prometheus, each in a
 * temp dir on free loopback ports, stopped by the caller (afterAll).
 *
 * A missing binary skips the suite with a printed reason, unless CI is set:
 * then it fails, so CI can never pass by silently testing nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type InfluxConfig } from '../../src/config/schema.js';
import { freePort, waitFor } from '../helpers/wait.js';

export { freePort, waitFor };

export const INFLUXD = '/usr/bin/influxd';
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** True when `binary` exists; false with a printed reason; throws when CI is set. */
export function haveBinary(binary: string): boolean {
  if (existsSync(binary)) return true;
  const reason = `${binary} not found`;
  if (process.env['CI']) throw new Error(`${reason}: real-server tests are required when CI is set`);
  console.warn(`SKIPPED: ${reason} (set CI=true to make this a failure)`);
  return false;
}



function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface Influxd {
  readonly url: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Milliseconds from spawn to the first answered /ping, per start. */
  readonly startupMs: number[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stop and delete the temp dir. */
  destroy(): Promise<void>;
  /** Run InfluxQL as the admin; returns the `results` array. */
  query(q: string, db?: string): Promise<InfluxResult[]>;
  /** Rows of the first series of the first result as objects, or [] . */
  rows(q: string, db?: string): Promise<Record<string, unknown>[]>;
  /** stderr of the current process (for failure messages). */
  output(): string;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}
export interface InfluxResult {
  statement_id: number;
  series?: InfluxSeries[];
  error?: string;
}

/**
 * influxd 1.x with auth enabled (an admin user is created on first start),
 * every directory under a temp dir, HTTP and the RPC listener (8088 by
 * default) on free loopback ports, usage reporting and the self-monitor off.
 */
export async function startInfluxd(): Promise<Influxd> {
  const dir = mkdtempSync(join(tmpdir(), 'qle-influxd-'));
  const port = await freePort();
  const rpcPort = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${port}"
  auth-enabled = true
  log-enabled = false
  flux-enabled = false
`,
  );
  const url = `http://127.0.0.1:${port}`;
  const username = 'admin';
  const password = 'test-admin-pw';
  const auth = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  let child: ChildProcess | undefined;
  let stderr = '';
  const startupMs: number[] = [];
  let created = false;

  const post = async (q: string, db?: string, withAuth = true) => {
    const body = new URLSearchParams({ q, ...(db ? { db } : {}) });
    const res = await fetch(`${url}/query`, { method: 'POST', body, headers: withAuth ? { Authorization: auth } : {} });
    const json = (await res.json()) as { results?: InfluxResult[]; error?: string };
    if (json.error) throw new Error(`InfluxQL ${q}: ${json.error}`);
    return json.results ?? [];
  };

  const server: Influxd = {
    url,
    port,
    username,
    password,
    startupMs,
    async start() {
      const t0 = Date.now();
      stderr = '';
      child = spawn(INFLUXD, ['run', '-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-20_000);
      });
      const proc = child;
      await waitFor(`influxd on ${url} (${stderr.slice(-500)})`, async () => {
        if (proc.exitCode !== null) throw new Error(`influxd exited ${proc.exitCode}: ${stderr.slice(-1000)}`);
        const res = await fetch(`${url}/ping`);
        return res.status === 204 ? true : undefined;
      });
      startupMs.push(Date.now() - t0);
      if (!created) {
        // With no user yet, influxd lets this one statement through without auth.
        await post(`CREATE USER "${username}" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`, undefined, false);
        created = true;
      }
    },
    stop: () => stopChild(child),
    async destroy() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
    query: (q, db) => post(q, db),
    async rows(q, db) {
      const [r] = await post(q, db);
      if (r?.error) throw new Error(`InfluxQL ${q}: ${r.error}`);
      const s = r?.series?.[0];
      if (!s) return [];
      return s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    },
    output: () => stderr,
  };
  try {
    await server.start();
  } catch (err) {
    await server.destroy();
    throw err;
  }
  return server;
}

export interface Prometheus {
  readonly url: string;
  readonly startupMs: number;
  /** Instant query; returns `data.result`. */
  query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  destroy(): Promise<void>;
}

/** prometheus with its TSDB in a temp dir, listening on a free loopback port, using `configYaml`. */
export async function startPrometheus(configYaml: string): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'qle-prom-'));
  const port = await freePort();
  const conf = join(dir, 'prometheus.yml');
  writeFileSync(conf, configYaml);
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  let stderr = '';
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${conf}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const destroy = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`prometheus on ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}: ${stderr.slice(-1000)}`);
      const res = await fetch(`${url}/-/ready`);
      return res.status === 200 ? true : undefined;
    });
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    url,
    startupMs: Date.now() - t0,
    async query(q) {
      const res = await fetch(`${url}/api/v1/query?` + new URLSearchParams({ query: q }));
      const json = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (json.status !== 'success') throw new Error(`PromQL ${q}: ${json.error}`);
      return json.data.result;
    },
    destroy,
  };
}

/** Run promtool; returns exit status and output. */
export function promtool(args: string[], input?: string, cwd?: string): { status: number; output: string } {
  const r = spawnSync(PROMTOOL, args, { input, cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** A full InfluxConfig through the real schema (defaults applied, durations parsed). */
export function influxConfig(raw: Record<string, unknown>): InfluxConfig {
  return configSchema.parse({ outputs: { influxdb: raw } }).outputs.influxdb!;
}

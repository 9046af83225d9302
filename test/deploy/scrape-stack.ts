/**
 * The Prometheus deployment in miniature: the real exporter
 * (`node dist/cli.js run`) following a copy of the supervisord fixture from
 * the beginning, and a real prometheus scraping it every 500 ms with
 * deploy/prometheus/quay-log-exporter.rules.yml loaded. destroy() stops both
 * and removes the temp dir, whatever state they are in.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { startPrometheus, type Prometheus } from '../outputs/servers.js';

export const FIXTURE = fileURLToPath(new URL('../fixtures/quay-supervisord.log', import.meta.url));
export const RULES = fileURLToPath(new URL('../../deploy/prometheus/quay-log-exporter.rules.yml', import.meta.url));
export const JOB = 'quay-log-exporter';
/** Scrape and rule evaluation period: short, so rates have several samples within seconds. */
export const SCRAPE_MS = 500;

export interface ScrapeStack {
  readonly dir: string;
  /** The followed copy of the fixture (append to it to add lines). */
  readonly log: string;
  readonly daemon: RunningDaemon;
  readonly prom: Prometheus;
  destroy(): Promise<void>;
}

export async function startScrapeStack(): Promise<ScrapeStack> {
  const dir = mkdtempSync(join(tmpdir(), 'qle-scrape-'));
  const log = join(dir, 'quay.log');
  copyFileSync(FIXTURE, log);
  let daemon: RunningDaemon | undefined;
  let prom: Prometheus | undefined;
  const destroy = async () => {
    await prom?.destroy();
    if (daemon && daemon.proc.exitCode === null && daemon.proc.signalCode === null) {
      // SIGTERM drains; SIGKILL only if the drain hangs, so afterAll always ends.
      const killer = setTimeout(() => daemon?.proc.kill('SIGKILL'), 10_000);
      await daemon.stop('SIGTERM');
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    daemon = await startDaemon({ inputs: [{ paths: [log], start_at: 'beginning', source: 'supervisord', poll_interval: '50ms' }] }, dir);
    prom = await startPrometheus(`global:
  scrape_interval: ${SCRAPE_MS}ms
  scrape_timeout: ${SCRAPE_MS}ms
  evaluation_interval: ${SCRAPE_MS}ms
rule_files:
  - ${RULES}
scrape_configs:
  - job_name: ${JOB}
    static_configs:
      - targets: ['127.0.0.1:${daemon.port}']
`);
  } catch (err) {
    await destroy();
    throw err;
  }
  return { dir, log, daemon, prom, destroy };
}

/** Prometheus's /api/v1/<path> as JSON `data`; throws with the server's error otherwise. */
export async function promApi<T>(prom: Prometheus, path: string, params: Record<string, string> | URLSearchParams = {}): Promise<T> {
  const res = await fetch(`${prom.url}/api/v1/${path}?` + new URLSearchParams(params));
  const json = (await res.json()) as { status: string; error?: string; data: T };
  if (json.status !== 'success') throw new Error(`${path} ${String(new URLSearchParams(params))}: ${json.error}`);
  return json.data;
}

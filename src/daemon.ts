/**
 * `run`: follow the configured inputs, serve HTTP, push to InfluxDB,
 * until stop(). stop() drains in the order that loses nothing: inputs read
 * what was written and save offsets, mirror state is saved, push outputs
 * export a last time, and the HTTP server closes last so scrapes keep
 * working during the drain. The HTTP server is the process's (src/http):
 * the daemon serves /healthz and /readyz on it and each component adds its
 * routes, so `prometheus.enabled: false` removes /metrics only.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { createInput } from './inputs/index.js';
import type { Input } from './inputs/types.js';
import type { Logger } from './log.js';
import { loadWebConfig, WebSecurity } from './http/security/index.js';
import { HttpServer, text } from './http/server.js';
import { Pipeline } from './pipeline.js';
import { mirrorRoutes } from './quay/mirror/routes.js';
import { stateSaves } from './state/saves.js';
import type { DaemonThreads } from './threads/daemon.js';

const MIRROR_TICK_MS = 1000;
const MIRROR_SAVE_MS = 5000;

export class Daemon {
  private ready = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | undefined;
  address: AddressInfo | undefined;

  private constructor(
    readonly pipeline: Pipeline,
    private readonly inputs: Input[],
    private readonly server: HttpServer,
    private readonly log: Logger,
    private readonly threads: DaemonThreads | undefined,
  ) {}

  /** Resolves with the error if a worker thread dies (pipeline.threads): the caller stops the daemon and exits 1. */
  get failed(): Promise<Error> {
    return this.threads?.failed ?? new Promise(() => {});
  }

  /** `pipeline`: one built already with `{ log }` (preflight's, in `run`); else it is built here. */
  static async start(config: Config, log: Logger, built?: Pipeline): Promise<Daemon> {
    mkdirSync(config.state_dir, { recursive: true });
    const pipeline = built ?? (await Pipeline.create(config, { log }));
    const pause = pipeline.influx || pipeline.records ? () => pipeline.backpressure() : undefined;
    const origin = pipeline.records?.origin;
    // pipeline.threads: the order-free lines of file inputs in worker threads (src/threads/daemon.ts).
    const threads = config.pipeline.threads > 1 ? (await import('./threads/daemon.js')).DaemonThreads.start(pipeline, log) : undefined;
    const inputs = config.inputs.map((input) =>
      createInput(input, {
        open: (info) => pipeline.openStream(input.source, info),
        openSource: (source, info) => pipeline.openStream(source, info),
        registry: pipeline.registry,
        stateDir: config.state_dir,
        log,
        pause,
        origin,
        linePath: threads?.linePathFor(input),
      }),
    );
    const listen = config.http.listen ?? config.prometheus.listen;
    const webConfig = config.http.web_config_file;
    const security =
      webConfig === undefined
        ? undefined
        : new WebSecurity({ config: loadWebConfig(webConfig), log, openPaths: config.http.open_probes ? ['/healthz', '/readyz'] : [] });
    const server = new HttpServer({
      ...(security ? { security } : {}),
      host: listen.host,
      port: listen.port,
      maxConnections: config.http.max_connections,
      headersTimeoutMs: config.http.header_timeout,
      requestTimeoutMs: config.http.request_timeout,
      log,
    });
    const daemon = new Daemon(pipeline, inputs, server, log, threads);
    server.route('/healthz', () => text(200, 'ok\n'));
    const saves = stateSaves(pipeline.registry, log);
    server.route('/readyz', () => {
      if (!daemon.ready) return text(503, 'starting\n');
      const failing = saves.problems;
      return failing.length === 0 ? text(200, 'ready\n') : text(503, `cannot save state: ${failing.join(', ')}\n`);
    });
    const routes = { ...(config.prometheus.enabled ? pipeline.prometheus.routes() : {}), ...mirrorRoutes(pipeline.mirror) };
    for (const [path, route] of Object.entries(routes)) server.route(path, route);
    daemon.address = await server.listen();
    log.info(config.prometheus.enabled ? 'serving metrics' : 'serving http', {
      address: `${daemon.address.address}:${daemon.address.port}`,
      paths: server.paths,
      ...(security ? { tls: security.tls, basic_auth: security.users } : {}),
    });
    await Promise.all(inputs.map((i) => i.start()));
    daemon.ready = true;
    const tick = setInterval(() => pipeline.mirror.tick(Date.now()), MIRROR_TICK_MS);
    const save = setInterval(() => pipeline.mirror.save(), MIRROR_SAVE_MS);
    tick.unref();
    save.unref();
    daemon.timers.push(tick, save);
    const ttl = config.limits.series_ttl;
    if (ttl > 0) {
      // Judged a few times per ttl: a series goes at most ttl/4 (or a minute) late.
      const sweep = setInterval(() => pipeline.registry.expire(Date.now(), ttl), Math.max(1000, Math.min(ttl / 4, 60_000)));
      sweep.unref();
      daemon.timers.push(sweep);
    }
    log.info('started', { inputs: inputs.map((i) => i.name), traffic_source: pipeline.trafficSource });
    return daemon;
  }

  /**
   * Resolves when every input has ended by itself (stdin closed), as with
   * `kubectl logs -f … | quay-log-exporter run`; never while any input
   * follows files.
   */
  get finished(): Promise<void> {
    const ends = this.inputs.map((i) => i.finished);
    if (ends.length === 0 || ends.some((e) => e === undefined)) return new Promise(() => {});
    return Promise.all(ends).then(() => undefined);
  }

  /** Idempotent: a second signal waits for the same drain. */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.ready = false;
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.inputs.map((i) => i.stop()));
    if (this.threads?.failure !== undefined) {
      this.log.error('worker thread died: the lines it had not answered were not counted and their offsets not saved; they are read again at the next start', {
        error: this.threads.failure.message,
        held: this.threads.held,
      });
    }
    await this.threads?.close();
    this.pipeline.mirror.save();
    await this.pipeline.shutdown();
    await this.server.close();
    this.log.info('stopped');
  }
}

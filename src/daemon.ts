/**
 * `run`: follow the configured inputs, serve /metrics, push to InfluxDB,
 * until stop(). stop() drains in the order that loses nothing: inputs read
 * what was written and save offsets, mirror state is saved, push outputs
 * export a last time, and the HTTP server closes last so scrapes keep
 * working during the drain.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { createInput } from './inputs/index.js';
import type { Input } from './inputs/types.js';
import type { Logger } from './log.js';
import { MetricsServer } from './outputs/prometheus/server.js';
import { Pipeline } from './pipeline.js';

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
    private readonly server: MetricsServer | undefined,
    private readonly log: Logger,
  ) {}

  static async start(config: Config, log: Logger): Promise<Daemon> {
    mkdirSync(config.state_dir, { recursive: true });
    const pipeline = new Pipeline(config, { log });
    const inputs = config.inputs.map((input) =>
      createInput(input, { open: (info) => pipeline.openStream(input.source, info), registry: pipeline.registry, stateDir: config.state_dir, log }),
    );
    let daemon: Daemon | undefined;
    const server = config.prometheus.enabled
      ? new MetricsServer({
          host: config.prometheus.listen.host,
          port: config.prometheus.listen.port,
          exporter: pipeline.prometheus.reader,
          ready: () => daemon?.ready ?? false,
          jsonRoutes: { '/mirror/health': (q) => pipeline.mirror.health(q, Date.now()) },
        })
      : undefined;
    daemon = new Daemon(pipeline, inputs, server, log);
    if (server) {
      daemon.address = await server.listen();
      log.info('serving metrics', { address: `${daemon.address.address}:${daemon.address.port}` });
    }
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
    this.pipeline.mirror.save();
    await this.pipeline.shutdown();
    await this.server?.close();
    this.log.info('stopped');
  }
}

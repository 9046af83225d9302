/**
 * createInfluxOutput's own logic against a loopback server answering as InfluxDB 1.x: events on or
 * off, events with nothing to write, replay's backpressure (wait past half the queue, go on at a
 * quarter, give up after replay_max_wait without progress), lost points, start-up warnings. The real
 * influxd runs the same output in test/outputs/influxdb.test.ts.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { createLogger } from '../../log.js';
import { SlotProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { createInfluxOutput } from './index.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A server that writes (204) only while `up()` says so, else answers 503; counts written lines. */
async function influx(up: () => boolean) {
  const written: string[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url!.includes('/query')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
      if (!up()) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
      written.push(...body.split('\n'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as { port: number }).port}`, written };
}

function output(influxdb: Record<string, unknown>) {
  const registry = new MetricRegistry();
  const logged: string[] = [];
  const log = createLogger('debug', (l) => void logged.push((JSON.parse(l) as { msg: string }).msg));
  const config = configSchema.parse({ outputs: { influxdb: { database: 'q', interval: '1h', ...influxdb } } }).outputs.influxdb!;
  const out = createInfluxOutput(config, { registry, producer: new SlotProducer(registry), log });
  const stat = (name: 'quay_log_exporter_output_points_written_total' | 'quay_log_exporter_output_dropped_points_total') => registry.counter(name).at('influxdb').value;
  return { out, stat, logged };
}

const event = (i: number) => ({ measurement: 'quay_gc_run', time: 1_700_000_000_000 + i, tags: {}, fields: { n: i } });

describe('createInfluxOutput', () => {
  it('events off: nothing queued or written from events', async () => {
    const { url, written } = await influx(() => true);
    const { out, stat } = output({ url, events: { enabled: false } });
    out.events.emit(event(1));
    await out.shutdown();
    // the final metrics export only: no quay_gc_run line
    expect(written.filter((l) => l.startsWith('quay_gc_run'))).toEqual([]);
    expect(stat('quay_log_exporter_output_dropped_points_total')).toBe(0);
  });

  it('an event with no field InfluxDB can store, or a malformed one, is dropped and counted; never thrown', async () => {
    const { url, written } = await influx(() => true);
    const { out, stat, logged } = output({ url });
    out.events.emit({ ...event(1), fields: { bad: NaN } });
    out.events.emit(null as never);
    out.events.emit(event(2));
    await out.shutdown();
    expect(stat('quay_log_exporter_output_dropped_points_total')).toBe(2);
    expect(out.lost()).toBe(2);
    expect(written.filter((l) => l.startsWith('quay_gc_run'))).toEqual(['quay_gc_run n=2 1700000000002']);
    expect(logged).toContain('influxdb output: event not converted');
  });

  it('backpressure: none up to half the queue; past it a wait that ends once the queue is down to a quarter', async () => {
    let up = false;
    const { url } = await influx(() => up);
    const { out } = output({ url, queue_size: 8, batch_size: 8, flush_interval: '10ms', max_retry_delay: '20ms' });
    try {
      for (let i = 0; i < 4; i++) out.events.emit(event(i));
      // 4 of 8 = half: no wait
      expect(out.backpressure()).toBeUndefined();
      out.events.emit(event(4));
      const wait = out.backpressure();
      expect(wait).toBeInstanceOf(Promise);
      let done = false;
      void wait!.then(() => (done = true));
      await new Promise((r) => setTimeout(r, 100));
      expect(done).toBe(false);
      up = true;
      await wait;
      expect(done).toBe(true);
    } finally {
      await out.shutdown();
    }
  });

  it('replay gives up waiting after replay_max_wait without a point written; from then on it never waits', async () => {
    const { url } = await influx(() => false);
    const { out, logged } = output({ url, queue_size: 4, batch_size: 4, flush_interval: '10ms', max_retry_delay: '20ms', replay_max_wait: '100ms', shutdown_timeout: '50ms' });
    for (let i = 0; i < 3; i++) out.events.emit(event(i));
    await out.backpressure();
    expect(logged).toContain('replay gives up waiting for influxdb; points that do not fit the queue are dropped');
    out.events.emit(event(3));
    expect(out.backpressure()).toBeUndefined();
    // a 5th does not fit the queue of 4: dropped
    out.events.emit(event(4));
    await out.shutdown();
    // 1 event dropped while full + the 4 queued left at shutdown (server down); no metrics export (the
    // reader is on no MeterProvider here)
    expect(out.lost()).toBe(5);
  });

  it('start-up warnings: insecure_skip_verify, tls without https', () => {
    const { out, logged } = output({ url: 'http://127.0.0.1:1', tls: { insecure_skip_verify: true } });
    expect(logged).toContain("outputs.influxdb.tls.insecure_skip_verify: InfluxDB's certificate is not checked");
    expect(logged).toContain('outputs.influxdb.tls is set but the url is not https://: it is not used');
    expect(logged).toContain('influxdb output started');
    void out.shutdown();
  });

  it('shutdown twice is one shutdown', async () => {
    const { url } = await influx(() => true);
    const { out, logged } = output({ url });
    await Promise.all([out.shutdown(), out.shutdown()]);
    expect(logged.filter((m) => m === 'influxdb output stopped')).toHaveLength(1);
  });
});

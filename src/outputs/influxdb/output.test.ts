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
import { createMeterProvider, SlotProducer } from '../../metrics/provider.js';
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

describe('createInfluxOutput: metrics, start-up and what it logs', () => {
  /** A server answering /query with `query` and writing (204) `accept` write requests, then 503; records everything. */
  async function scripted(query: [number, string], accept = Infinity) {
    const written: string[] = [];
    const queries: { method: string; q: string | null }[] = [];
    let writes = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/query') {
          queries.push({ method: req.method!, q: url.searchParams.get('q') });
          return void res.writeHead(query[0], { 'content-type': 'application/json' }).end(query[1]);
        }
        if (writes++ >= accept) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
        written.push(...body.split('\n'));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server!.address() as { port: number }).port}`, written, queries };
  }

  function recordingOutput(influxdb: Record<string, unknown>) {
    const registry = new MetricRegistry();
    const logged: { msg: string; level: string; [k: string]: unknown }[] = [];
    const log = createLogger('debug', (l) => void logged.push(JSON.parse(l) as { msg: string; level: string }));
    const config = configSchema.parse({ outputs: { influxdb: { database: 'q', interval: '1h', ...influxdb } } }).outputs.influxdb!;
    const out = createInfluxOutput(config, { registry, producer: new SlotProducer(registry), log });
    return { out, registry, logged, find: (msg: string) => logged.filter((l) => l.msg === msg) };
  }

  const until = async (cond: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not met');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('metrics: one export at shutdown (interval 1h), the counter as a point; the stop log counts it', async () => {
    const { url, written } = await scripted([200, '{"results":[{"statement_id":0}]}']);
    const { out, registry, find } = recordingOutput({ url });
    const provider = createMeterProvider(registry, [out.reader]);
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 4;
    await new Promise((r) => setTimeout(r, 50)); // an interval of 1 ms instead of 1 h would export meanwhile
    await out.shutdown();
    await provider.shutdown().catch(() => undefined);
    const pulls = written.filter((l) => l.startsWith('quay_registry_pulls_total,'));
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatch(/^quay_registry_pulls_total,namespace=acme,repository=web counter=4 \d+$/);
    expect(find('influxdb output stopped').map((l) => [l['written'], l['dropped'], l['lost_at_shutdown']])).toEqual([[written.length, 0, 0]]);
  });

  it('start-up: CREATE DATABASE with a POST, then "ready" with what was done', async () => {
    const { url, queries } = await scripted([200, '{"results":[{"statement_id":0}]}']);
    const { out, find } = recordingOutput({ url });
    await until(() => find('influxdb database ready').length === 1);
    expect(queries).toEqual([{ method: 'POST', q: 'CREATE DATABASE "q"' }]);
    expect(find('influxdb database ready')[0]).toMatchObject({ level: 'info', database: 'q', created_if_missing: true });
    expect(find('influxdb output started')[0]).toMatchObject({ url, database: 'q', interval_ms: 3_600_000, queue_size: 100_000 });
    // plain http, no tls: no warning
    expect(find("outputs.influxdb.tls.insecure_skip_verify: InfluxDB's certificate is not checked")).toEqual([]);
    expect(find('outputs.influxdb.tls is set but the url is not https://: it is not used')).toEqual([]);
    await out.shutdown();
  });

  it('start-up with skip_database_creation: SHOW DATABASES with a GET; missing, a warning saying to check it exists', async () => {
    const { url, queries } = await scripted([200, '{"results":[{"statement_id":0}]}']);
    const { out, find } = recordingOutput({ url, skip_database_creation: true });
    const warning = 'influxdb output: database not ready at start-up; points are queued and retried';
    await until(() => find(warning).length === 1);
    expect(queries).toEqual([{ method: 'GET', q: 'SHOW DATABASES' }]);
    expect(find(warning)[0]).toMatchObject({ level: 'warn', database: 'q', action: 'check it exists', error: 'database "q" does not exist' });
    expect(find('influxdb database ready')).toEqual([]);
    await out.shutdown();
  });

  it('start-up: a CREATE DATABASE that fails is a warning saying to create it', async () => {
    const { url } = await scripted([200, '{"results":[{"statement_id":0,"error":"not authorized"}]}']);
    const { out, find } = recordingOutput({ url });
    const warning = 'influxdb output: database not ready at start-up; points are queued and retried';
    await until(() => find(warning).length === 1);
    expect(find(warning)[0]).toMatchObject({ action: 'create it', error: 'not authorized' });
    await out.shutdown();
  });

  it('https with tls: no warning that tls is unused', () => {
    const { out, find } = recordingOutput({ url: 'https://127.0.0.1:1', tls: { insecure_skip_verify: false } });
    expect(find('outputs.influxdb.tls is set but the url is not https://: it is not used')).toEqual([]);
    expect(find("outputs.influxdb.tls.insecure_skip_verify: InfluxDB's certificate is not checked")).toEqual([]);
    void out.shutdown();
  });

  it('an event not converted is logged with its measurement and the error', async () => {
    const { url } = await scripted([200, '{"results":[{"statement_id":0}]}']);
    const { out, find } = recordingOutput({ url });
    out.events.emit({ measurement: 'quay_gc_run', time: 1, tags: { t: 'x' }, fields: null as never });
    await out.shutdown();
    const [e] = find('influxdb output: event not converted');
    expect(e!['measurement']).toBe('quay_gc_run');
    expect(typeof e!['error']).toBe('string');
    expect(String(e!['error']).length).toBeGreaterThan(0);
  });

  it('backpressure ends once the queue is down to exactly a quarter (2 of 8), with no giving up', async () => {
    // 5 events > half of 8: replay waits. The server writes 3 single-point batches, then answers 503: 2 stay queued,
    // which is the quarter: the wait is over. (Waiting for fewer than 2 would last until replay_max_wait gives up.)
    const { url, written } = await scripted([200, '{"results":[{"statement_id":0}]}'], 3);
    const { out, find } = recordingOutput({ url, queue_size: 8, batch_size: 1, flush_interval: '10ms', max_retry_delay: '20ms', replay_max_wait: '1s', shutdown_timeout: '10ms' });
    for (let i = 0; i < 5; i++) out.events.emit(event(i));
    await out.backpressure();
    expect(written).toEqual(['quay_gc_run n=0 1700000000000', 'quay_gc_run n=1 1700000000001', 'quay_gc_run n=2 1700000000002']);
    expect(find('replay gives up waiting for influxdb; points that do not fit the queue are dropped')).toEqual([]);
    await out.shutdown();
  });

  it('giving up is logged with the points still queued and how long it waited without progress', async () => {
    const { url } = await scripted([200, '{"results":[{"statement_id":0}]}'], 0);
    const { out, find } = recordingOutput({ url, queue_size: 4, batch_size: 4, flush_interval: '10ms', max_retry_delay: '20ms', replay_max_wait: '100ms', shutdown_timeout: '10ms' });
    for (let i = 0; i < 3; i++) out.events.emit(event(i));
    await out.backpressure();
    const [gaveUp] = find('replay gives up waiting for influxdb; points that do not fit the queue are dropped');
    // 3 queued, none written; it gives up only once replay_max_wait (100 ms) passed without progress
    expect(gaveUp!['queued']).toBe(3);
    expect(gaveUp!['waited_ms']).toBeGreaterThanOrEqual(100);
    expect(gaveUp!['waited_ms']).toBeLessThan(60_000);
    await out.shutdown();
  });
});

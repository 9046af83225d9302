/**
 * What goes over the wire, seen by a loopback HTTP server that records each
 * request and answers as scripted (429 and 503 cannot be provoked from a real
 * influxd on demand; see test/outputs for the real-server tests).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../config/schema.js';
import { silentLogger } from '../../log.js';
import { HistogramProducer } from '../../metrics/provider.js';
import { MetricRegistry } from '../../metrics/series.js';
import { createInfluxOutput } from './index.js';

interface Seen {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function scripted(statuses: number[]): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      // The start-up CREATE DATABASE (/query) is answered 200 and not recorded: these tests are about writes.
      if (req.url!.includes('/query')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
        return;
      }
      seen.push({ url: req.url!, headers: req.headers, body });
      const status = statuses[seen.length - 1] ?? 204;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status === 204 ? '' : '{"error":"scripted"}');
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server!.address() as { port: number }).port}/prefix`, seen };
}

const until = async (cond: () => boolean) => {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('InfluxDB write requests', () => {
  it('sends the token as "Authorization: Token", the path prefix, db, rp and precision', async () => {
    const { url, seen } = await scripted([204]);
    const config = configSchema.parse({ outputs: { influxdb: { url, database: 'quay', retention_policy: 'week', precision: 's', token: 'tok-123' } } }).outputs.influxdb!;
    const registry = new MetricRegistry();
    const out = createInfluxOutput(config, { registry, producer: new HistogramProducer(registry), log: silentLogger });
    out.events.emit({ measurement: 'quay_gc_run', time: 1_700_000_000_999, tags: { result: 'success' }, fields: { Tag: 1 } });
    await out.shutdown();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['authorization']).toBe('Token tok-123');
    const u = new URL(seen[0]!.url, 'http://x');
    expect(u.pathname).toBe('/prefix/write');
    expect(Object.fromEntries(u.searchParams)).toEqual({ db: 'quay', rp: 'week', precision: 's' });
    expect(seen[0]!.body).toBe('quay_gc_run,result=success Tag=1 1700000000');
  });

  it('retries 429 and 503 with the same batch, then counts it written once', async () => {
    const { url, seen } = await scripted([429, 503, 204]);
    const config = configSchema.parse({ outputs: { influxdb: { url, database: 'quay', username: 'u', password: 'p', flush_interval: '10ms', max_retry_delay: '300ms' } } }).outputs.influxdb!;
    const registry = new MetricRegistry();
    const out = createInfluxOutput(config, { registry, producer: new HistogramProducer(registry), log: silentLogger });
    out.events.emit({ measurement: 'quay_gc_run', time: 1, tags: {}, fields: { a: 1 } });
    out.events.emit({ measurement: 'quay_gc_run', time: 2, tags: {}, fields: { a: 2 } });
    const written = registry.counter('quay_log_exporter_output_points_written_total').at('influxdb');
    await until(() => written.value === 2);
    await out.shutdown();
    // Three attempts of the same two-point batch: 429, 503, 204.
    expect(seen.map((s) => s.body)).toEqual(Array(3).fill('quay_gc_run a=1 1\nquay_gc_run a=2 2'));
    expect(seen[0]!.headers['authorization']).toBe('Basic ' + Buffer.from('u:p').toString('base64'));
    expect(registry.counter('quay_log_exporter_output_write_errors_total').at('influxdb').value).toBe(2);
    expect(registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb').value).toBe(0);
  });
});

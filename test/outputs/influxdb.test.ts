/**
 * The InfluxDB output against a real influxd 1.x (auth enabled): exact values
 * and tags of exported metrics, event points, the final export at shutdown,
 * an outage with a full queue, refused points, and credentials kept out of logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';
import { createMeterProvider, HistogramProducer } from '../../src/metrics/provider.js';
import { MetricRegistry } from '../../src/metrics/series.js';
import { createInfluxOutput } from '../../src/outputs/influxdb/index.js';
import type { QuayEvent } from '../../src/events.js';
import { haveBinary, INFLUXD, influxConfig, startInfluxd, waitFor, type Influxd } from './servers.js';

const ok = haveBinary(INFLUXD);

function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('debug', (l) => lines.push(l)), lines };
}

describe.skipIf(!ok)('InfluxDB output against influxd', () => {
  let influx: Influxd;
  let dbSeq = 0;
  const newDb = async () => {
    const db = `qle_${process.pid}_${dbSeq++}`;
    await influx.query(`CREATE DATABASE "${db}"`);
    return db;
  };
  const auth = () => ({ url: influx.url, username: influx.username, password: influx.password });

  beforeAll(async () => {
    influx = await startInfluxd();
    console.log(`influxd 1.6 ready in ${influx.startupMs[0]} ms`);
  });
  afterAll(async () => {
    await influx?.destroy();
  });

  it('writes counters, gauges and histograms in Telegraf v1 layout with exact values and tags', async () => {
    const db = await newDb();
    const registry = new MetricRegistry();
    registry.counter('quay_registry_pulls_total').at('acme', 'web').value = 42;
    registry.counter('quay_registry_pulls_total').at('acme', 'api').value = 7;
    registry.gauge('quay_log_exporter_files_watched').at().value = 3;
    // Empty label value (namespace ""): the tag is left out of the point.
    registry.counter('quay_registry_requests_total').at('manifest_get', '', 'lib', '200').value = 5;
    const h = registry.histogram('quay_registry_transfer_duration_seconds');
    const pull = h.at('pull');
    for (const v of [0.003, 0.02, 0.02, 7, 400]) h.observe(pull, v);

    const out = createInfluxOutput(influxConfig({ ...auth(), database: db, tags: { pod: 'quay-0', namespace: 'global-ns' } }), {
      registry,
      producer: new HistogramProducer(registry),
      log: silentLogger,
    });
    const provider = createMeterProvider(registry, [out.reader]);
    try {
      await provider.forceFlush();

      const pulls = await influx.rows(`SELECT "counter", "namespace", "repository", "pod" FROM "quay_registry_pulls_total" ORDER BY time`, db);
      // The metric's own namespace label wins over the global tag of the same name (as in Telegraf).
      expect(pulls.map((r) => [r['repository'], r['namespace'], r['pod'], r['counter']]).sort()).toEqual([
        ['api', 'acme', 'quay-0', 7],
        ['web', 'acme', 'quay-0', 42],
      ]);

      const watched = await influx.rows(`SELECT "gauge", "pod", "namespace" FROM "quay_log_exporter_files_watched"`, db);
      // No label of its own: the global tags apply, namespace included.
      expect(watched).toHaveLength(1);
      expect(watched[0]).toMatchObject({ gauge: 3, pod: 'quay-0', namespace: 'global-ns' });

      const req = await influx.rows(`SELECT * FROM "quay_registry_requests_total"`, db);
      // An empty label is still the metric's own: it wins over the global tag, and empty tags are left out.
      expect(req[0]).toMatchObject({ counter: 5, operation: 'manifest_get', repository: 'lib', status: '200', pod: 'quay-0' });
      expect(req[0]).not.toHaveProperty('namespace');

      const hist = await influx.rows(`SELECT * FROM "quay_registry_transfer_duration_seconds"`, db);
      // By hand: 0.003 → le 0.005; 0.02, 0.02 → le 0.025; 7 → le 10; 400 → +Inf only. Cumulative per bound.
      expect(hist[0]).toMatchObject({
        direction: 'pull',
        '0.005': 1,
        '0.01': 1,
        '0.025': 3,
        '0.05': 3,
        '0.1': 3,
        '0.25': 3,
        '0.5': 3,
        '1': 3,
        '2.5': 3,
        '5': 3,
        '10': 4,
        '30': 4,
        '60': 4,
        '120': 4,
        '300': 4,
        '+Inf': 5,
        count: 5,
        sum: 407.043, // 0.003 + 0.02 + 0.02 + 7 + 400
      });

      // Labelless counters exist from the start and are written as 0.
      const gc = await influx.rows(`SELECT "counter" FROM "quay_log_gc_iterations_total"`, db);
      expect(gc.map((r) => r['counter'])).toEqual([0]);

      // One export = one point per series; the output counted each one it wrote.
      const [series] = await influx.query('SHOW SERIES', db);
      const nSeries = series!.series![0]!.values.length;
      const written = registry.counter('quay_log_exporter_output_points_written_total').at('influxdb').value;
      expect(written).toBe(nSeries);
      expect(registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb').value).toBe(0);
    } finally {
      await out.shutdown();
      await provider.shutdown();
    }
  });

  it('writes events as one point each, stamped with the log time, error cut to error_max_bytes', async () => {
    const db = await newDb();
    const registry = new MetricRegistry();
    const out = createInfluxOutput(
      influxConfig({ ...auth(), database: db, tags: { pod: 'quay-1', empty: '' }, events: { error_max_bytes: 64 } }),
      { registry, producer: new HistogramProducer(registry), log: silentLogger },
    );
    const slow: QuayEvent = {
      measurement: 'quay_slow_transfer',
      time: 1_700_000_000_123,
      tags: { direction: 'pull', namespace: 'acme', repository: 'web app' },
      fields: {
        bytes: 52_428_800,
        seconds: 100,
        bytes_per_second: 524_288,
        client: '10.0.0.7',
        digest: 'sha256:abc',
        user_agent: 'docker/24.0 "go"\\x',
        status: 200,
      },
    };
    // 40 × "é" (2 bytes each) + a newline: 64 bytes keep exactly 32 characters.
    const error = 'é'.repeat(40) + '\nTraceback';
    const mirror: QuayEvent = {
      measurement: 'quay_mirror_sync',
      time: 1_700_000_060_000,
      tags: { namespace: 'acme', repository: 'mirror', result: 'failed', reason: 'rate_limited' },
      fields: { upstream: 'docker.io/library/nginx', tag: 'latest', error },
    };
    const gcRun: QuayEvent = {
      measurement: 'quay_gc_run',
      time: 1_700_000_120_000,
      tags: { job: 'GarbageCollectionWorker._garbage_collection_repos', result: 'success' },
      fields: { Tag: 12, Manifest: 4, UploadedBlob: 0 },
    };
    for (const e of [slow, mirror, gcRun]) out.events.emit(e);
    await out.shutdown();

    const rows = await influx.rows(`SELECT * FROM "quay_slow_transfer"`, db);
    expect(rows).toEqual([
      {
        time: '2023-11-14T22:13:20.123Z',
        bytes: 52_428_800,
        bytes_per_second: 524_288,
        client: '10.0.0.7',
        digest: 'sha256:abc',
        direction: 'pull',
        namespace: 'acme',
        pod: 'quay-1',
        repository: 'web app',
        seconds: 100,
        status: 200,
        user_agent: 'docker/24.0 "go"\\x',
      },
    ]);
    // High-cardinality values are fields; only these are tags (the empty global tag is left out).
    const [keys] = await influx.query('SHOW TAG KEYS FROM "quay_slow_transfer"', db);
    expect(keys!.series![0]!.values.flat().sort()).toEqual(['direction', 'namespace', 'pod', 'repository']);

    const m = await influx.rows(`SELECT * FROM "quay_mirror_sync"`, db);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ time: '2023-11-14T22:14:20Z', reason: 'rate_limited', result: 'failed', tag: 'latest', upstream: 'docker.io/library/nginx' });
    expect(m[0]!['error']).toBe('é'.repeat(32));

    const g = await influx.rows(`SELECT * FROM "quay_gc_run"`, db);
    expect(g).toEqual([
      { time: '2023-11-14T22:15:20Z', Manifest: 4, Tag: 12, UploadedBlob: 0, job: 'GarbageCollectionWorker._garbage_collection_repos', pod: 'quay-1', result: 'success' },
    ]);
    expect(registry.counter('quay_log_exporter_output_points_written_total').at('influxdb').value).toBe(3);
  });

  it('shutdown() does the final metrics export (replay) and the MeterProvider shutdown after it adds nothing', async () => {
    const db = await newDb();
    const registry = new MetricRegistry();
    const out = createInfluxOutput(influxConfig({ ...auth(), database: db, interval: '1h' }), {
      registry,
      producer: new HistogramProducer(registry),
      log: silentLogger,
    });
    const provider = createMeterProvider(registry, [out.reader]);
    registry.counter('quay_registry_pushes_total').at('acme', 'web').value = 9;
    await out.shutdown();
    await provider.shutdown();
    const rows = await influx.rows(`SELECT "counter" FROM "quay_registry_pushes_total"`, db);
    expect(rows.map((r) => r['counter'])).toEqual([9]);
    expect(registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb').value).toBe(0);
  });

  it('creates a missing database at start-up (as Telegraf does) and writes into it', async () => {
    const db = `qle_created_${process.pid}`;
    const registry = new MetricRegistry();
    const { log, lines } = memoryLogger();
    const out = createInfluxOutput(influxConfig({ ...auth(), database: db, flush_interval: '20ms' }), { registry, producer: new HistogramProducer(registry), log });
    for (let i = 0; i < 3; i++) out.events.emit({ measurement: 'quay_gc_run', time: 1_700_000_000_000 + i, tags: {}, fields: { Tag: i } });
    await out.shutdown();
    // 3 points emitted, 3 rows, nothing dropped (a batch sent before CREATE DATABASE landed is retried)
    expect((await influx.rows(`SELECT count("Tag") FROM "quay_gc_run"`, db))[0]!['count']).toBe(3);
    expect(registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb').value).toBe(0);
    expect(lines.some((l) => l.includes('influxdb database ready'))).toBe(true);
  });

  it('database not found is retried, not dropped: a database created 1 s later gets every point', async () => {
    const db = `qle_late_${process.pid}`;
    const registry = new MetricRegistry();
    const { log, lines } = memoryLogger();
    const out = createInfluxOutput(
      influxConfig({ ...auth(), database: db, skip_database_creation: true, flush_interval: '20ms', max_retry_delay: '100ms' }),
      { registry, producer: new HistogramProducer(registry), log },
    );
    for (let i = 0; i < 3; i++) out.events.emit({ measurement: 'quay_gc_run', time: 1_700_000_000_000 + i, tags: {}, fields: { Tag: i } });
    const errors = registry.counter('quay_log_exporter_output_write_errors_total').at('influxdb');
    await waitFor('a 404 retried', () => (errors.value > 0 ? true : undefined));
    // The start-up check said so, naming the database.
    await waitFor('start-up warning', () => lines.some((l) => l.includes('database not ready at start-up') && l.includes(`database \\"${db}\\" does not exist`)));
    await influx.query(`CREATE DATABASE "${db}"`);
    await out.shutdown();
    // all 3 points written once the database exists; none dropped
    expect((await influx.rows(`SELECT count("Tag") FROM "quay_gc_run"`, db))[0]!['count']).toBe(3);
    expect(registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb').value).toBe(0);
    expect(lines.some((l) => l.includes('server refused points'))).toBe(false);
  });

  it('warns at start-up when InfluxDB cannot be reached', async () => {
    const { log, lines } = memoryLogger();
    const registry = new MetricRegistry();
    // Nothing listens on port 9.
    const out = createInfluxOutput(influxConfig({ url: 'http://127.0.0.1:9', database: 'x', shutdown_timeout: '100ms' }), { registry, producer: new HistogramProducer(registry), log });
    await waitFor('start-up warning', () => lines.some((l) => l.includes('database not ready at start-up') && l.includes('ECONNREFUSED')));
    await out.shutdown();
    expect(lines.filter((l) => l.includes('database not ready at start-up'))).toHaveLength(1);
  });

  it('a partial write drops only the refused point', async () => {
    const db = await newDb();
    const reg2 = new MetricRegistry();
    const out = createInfluxOutput(influxConfig({ ...auth(), database: db, flush_interval: '20ms' }), { registry: reg2, producer: new HistogramProducer(reg2), log: silentLogger });
    const written = reg2.counter('quay_log_exporter_output_points_written_total').at('influxdb');
    const emit = (i: number, v: number | string) => out.events.emit({ measurement: 'quay_gc_run', time: 1_700_000_000_000 + i, tags: {}, fields: { Tag: v } });
    // The first batch makes `Tag` a float field.
    emit(0, 1);
    await waitFor('first point written', () => (written.value === 1 ? true : undefined));
    // The next batch has a string `Tag` in one point: InfluxDB answers 400 "partial write: field type conflict … dropped=1"
    // and keeps the other 2.
    emit(1, 2);
    emit(2, 'three');
    emit(3, 4);
    await out.shutdown();
    const rows = await influx.rows(`SELECT count("Tag") FROM "quay_gc_run"`, db);
    expect(rows[0]!['count']).toBe(3);
    expect(reg2.counter('quay_log_exporter_output_dropped_points_total').at('influxdb').value).toBe(1);
    expect(written.value).toBe(3);
  });

  it('never logs credentials: wrong password, URL userinfo, token, server down', async () => {
    const secrets = ['Wrong-Secret-pw-123', 'Userinfo-Secret-456', 'Token-Secret-789'];
    const b64 = Buffer.from(`admin:${secrets[0]}`).toString('base64');
    const { log, lines } = memoryLogger();
    const registry = new MetricRegistry();
    const configs = [
      { url: influx.url, username: 'admin', password: secrets[0], database: 'x' },
      { url: influx.url.replace('//', `//admin:${secrets[1]}@`), database: 'x' },
      { url: influx.url, token: secrets[2], database: 'x' },
      // Nothing listens on port 9: connection refused, retried.
      { url: `http://admin:${secrets[1]}@127.0.0.1:9`, password: secrets[0], database: 'x', max_retry_delay: '50ms' },
    ];
    const outs = configs.map((c) => createInfluxOutput(influxConfig({ flush_interval: '20ms', shutdown_timeout: '300ms', ...c }), { registry, producer: new HistogramProducer(registry), log }));
    outs.forEach((o, i) => o.events.emit({ measurement: 'quay_gc_run', time: 1_700_000_000_000, tags: {}, fields: { i } }));
    const dropped = registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb');
    // The first three are refused with 401 (influxd 1.6 knows no Token scheme): 3 drops.
    await waitFor('3 refused points', () => (dropped.value >= 3 ? true : undefined));
    await Promise.all(outs.map((o) => o.shutdown()));
    const text = lines.join('');
    expect(text).toContain('"status":401');
    expect(text).toContain('ECONNREFUSED');
    // The fourth point was never written: lost at shutdown, counted.
    expect(dropped.value).toBe(4);
    for (const s of [...secrets, b64]) expect(text).not.toContain(s);
  });

  it('survives an outage: points queued before the queue filled are all written, drops counted exactly', async () => {
    const db = await newDb();
    const registry = new MetricRegistry();
    const { log, lines } = memoryLogger();
    const out = createInfluxOutput(
      influxConfig({ ...auth(), database: db, queue_size: 1000, batch_size: 100, flush_interval: '50ms', max_retry_delay: '200ms', timeout: '2s' }),
      { registry, producer: new HistogramProducer(registry), log },
    );
    const written = registry.counter('quay_log_exporter_output_points_written_total').at('influxdb');
    const dropped = registry.counter('quay_log_exporter_output_dropped_points_total').at('influxdb');
    const queued = registry.gauge('quay_log_exporter_output_queue_points').at('influxdb');
    const emit = (seq: number) => out.events.emit({ measurement: 'quay_gc_run', time: 1_700_000_000_000 + seq, tags: { job: 'outage' }, fields: { seq } });
    try {
      let seq = 0;
      while (seq < 300) emit(seq++);
      await waitFor('300 written before the outage', () => (written.value === 300 ? true : undefined));

      await influx.stop();
      // 1000 fit in the queue, the next 250 are dropped (newest dropped when full).
      while (seq < 1550) emit(seq++);
      expect(queued.value).toBe(1000);
      expect(dropped.value).toBe(250);
      await waitFor('a failed write attempt', () => (registry.counter('quay_log_exporter_output_write_errors_total').at('influxdb').value > 0 ? true : undefined));

      const t0 = Date.now();
      await influx.start();
      const tUp = Date.now();
      await waitFor('queue drained', () => (queued.value === 0 && written.value === 1300 ? true : undefined), 60_000, 10);
      const drainMs = Date.now() - tUp;
      console.log(`influxd restart ${tUp - t0} ms; 1000 queued points written ${drainMs} ms after it answered (${Math.round(1000 / Math.max(drainMs, 1) * 1000)} points/s incl. backoff wait)`);

      const rows = await influx.rows(`SELECT count("seq"), min("seq"), max("seq") FROM "quay_gc_run"`, db);
      // Points 0..1299 are all there; 1300..1549 were the dropped ones.
      expect(rows[0]).toMatchObject({ count: 1300, min: 0, max: 1299 });
      expect(dropped.value).toBe(250);
      expect(lines.filter((l) => l.includes('queue full')).length).toBe(1);
      expect(lines.some((l) => l.includes('writing again') && l.includes('"dropped_while_full":250'))).toBe(true);
    } finally {
      await out.shutdown();
    }
  });
});

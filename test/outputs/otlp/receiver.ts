/**
 * A collector-like OTLP receiver inside the test: http/protobuf and http/json
 * on POST /v1/metrics (plain or TLS, optionally asking for a client
 * certificate), gRPC MetricsService/Export through @grpc/grpc-js. Every
 * payload is decoded (JSON; protobuf with metrics.proto) into one shape.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const root = protobuf.loadSync(fileURLToPath(new URL('./metrics.proto', import.meta.url)));
const Request = root.lookupType('otlp.test.ExportMetricsServiceRequest');
const Response = root.lookupType('otlp.test.ExportMetricsServiceResponse');

export interface ReceivedPoint {
  labels: Record<string, string>;
  value?: number;
  count?: number;
  sum?: number;
  /** Cumulative counts keyed by upper bound, as `replay --format json` prints them ("0.005", …, "+Inf"). */
  buckets?: Record<string, number>;
}
export interface ReceivedMetric {
  name: string;
  kind: 'sum' | 'gauge' | 'histogram';
  temporality?: 'delta' | 'cumulative';
  monotonic?: boolean;
  points: ReceivedPoint[];
}
export interface ReceivedExport {
  resource: Record<string, string>;
  scope: string;
  metrics: ReceivedMetric[];
  /** Request headers (http) or metadata (grpc), lower-case names. */
  headers: Record<string, string>;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function attributes(list: Obj[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = String(v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? '');
  }
  return out;
}

const TEMPORALITY: Record<number, 'delta' | 'cumulative'> = { 1: 'delta', 2: 'cumulative' };

/** The OTLP request (camelCase, as JSON has it and protobufjs's toObject gives it) in one shape. */
export function normalize(req: Obj, headers: Record<string, string>): ReceivedExport[] {
  return (req.resourceMetrics ?? []).map((rm: Obj) => {
    const metrics: ReceivedMetric[] = [];
    let scope = '';
    for (const sm of rm.scopeMetrics ?? []) {
      scope = sm.scope?.name ?? '';
      for (const m of sm.metrics ?? []) {
        if (m.sum) {
          metrics.push({
            name: m.name,
            kind: 'sum',
            temporality: TEMPORALITY[Number(m.sum.aggregationTemporality)],
            monotonic: Boolean(m.sum.isMonotonic),
            points: (m.sum.dataPoints ?? []).map((p: Obj) => ({ labels: attributes(p.attributes), value: Number(p.asDouble ?? p.asInt ?? 0) })),
          });
        } else if (m.gauge) {
          metrics.push({
            name: m.name,
            kind: 'gauge',
            points: (m.gauge.dataPoints ?? []).map((p: Obj) => ({ labels: attributes(p.attributes), value: Number(p.asDouble ?? p.asInt ?? 0) })),
          });
        } else if (m.histogram) {
          metrics.push({
            name: m.name,
            kind: 'histogram',
            temporality: TEMPORALITY[Number(m.histogram.aggregationTemporality)],
            points: (m.histogram.dataPoints ?? []).map((p: Obj) => {
              const bounds: number[] = (p.explicitBounds ?? []).map(Number);
              const counts: number[] = (p.bucketCounts ?? []).map(Number);
              const buckets: Record<string, number> = {};
              let running = 0;
              counts.forEach((c, i) => {
                running += c;
                buckets[i < bounds.length ? String(bounds[i]) : '+Inf'] = running;
              });
              return { labels: attributes(p.attributes), count: Number(p.count ?? 0), sum: Number(p.sum ?? 0), buckets };
            }),
          });
        }
      }
    }
    return { resource: attributes(rm.resource?.attributes), scope, metrics, headers };
  });
}

export interface Receiver {
  /** http: the base URL (no path); grpc: http(s)://127.0.0.1:port. */
  readonly url: string;
  readonly exports: ReceivedExport[];
  /** Content types of the http requests, in order. */
  readonly contentTypes: string[];
  close(): Promise<void>;
}

export interface ReceiverTls {
  key: string;
  cert: string;
  /** Ask for and check a client certificate signed by this CA. */
  clientCa?: string;
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

/** `port`: 0 for a free one, or a given one (a collector that comes up where exports failed before). */
export async function startHttpReceiver(tls?: ReceiverTls, port = 0): Promise<Receiver> {
  const exports: ReceivedExport[] = [];
  const contentTypes: string[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') {
        res.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const type = String(req.headers['content-type'] ?? '');
      contentTypes.push(type);
      const headers = lowerHeaders(req);
      if (type.startsWith('application/json')) {
        exports.push(...normalize(JSON.parse(body.toString('utf8')), headers));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        const decoded = Request.toObject(Request.decode(body), { longs: Number, enums: Number });
        exports.push(...normalize(decoded, headers));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(Response.encode(Response.create({})).finish()));
      }
    });
  };
  const server = tls
    ? createHttpsServer(
        { key: readFileSync(tls.key), cert: readFileSync(tls.cert), ...(tls.clientCa ? { ca: readFileSync(tls.clientCa), requestCert: true, rejectUnauthorized: true } : {}) },
        handler,
      )
    : createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as { port: number }).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${bound}`,
    exports,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startGrpcReceiver(tls?: ReceiverTls): Promise<Receiver> {
  const exports: ReceivedExport[] = [];
  const server = new grpc.Server();
  const service: grpc.ServiceDefinition = {
    Export: {
      path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: Buffer) => v,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: () => Buffer.from(Response.encode(Response.create({})).finish()),
      responseDeserialize: (b: Buffer) => b,
    },
  };
  server.addService(service, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(call.metadata.getMap())) headers[k] = String(v);
      const decoded = Request.toObject(Request.decode(call.request), { longs: Number, enums: Number });
      exports.push(...normalize(decoded, headers));
      callback(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      tls
        ? grpc.ServerCredentials.createSsl(tls.clientCa ? readFileSync(tls.clientCa) : null, [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }], tls.clientCa !== undefined)
        : grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    exports,
    contentTypes: [],
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

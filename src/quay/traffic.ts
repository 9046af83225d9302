/**
 * Registry traffic semantics shared by the nginx and gunicorn parsers: one
 * access-log request in, the quay_http_* and quay_registry_* series out.
 * Only one of the two parsers feeds it (see TrafficSource): a request is
 * never counted from both logs.
 */
import type { Config, InputSource } from '../config/schema.js';
import type { EventBus } from '../events.js';
import type { PatternLibrary } from '../grok/index.js';
import type { CounterFamily, HistogramFamily, HistogramSlot, MetricRegistry } from '../metrics/series.js';
import { classifyRegistryRequest, newRoute, type RegistryRoute } from './registry-route.js';
import { parseHttpDate } from './time.js';

export type TrafficSource = 'nginx' | 'gunicorn';

/** `auto` resolves to nginx when any input carries nginx lines, else gunicorn. */
export function resolveTrafficSource(config: Config, extraSources: readonly InputSource[] = []): TrafficSource {
  if (config.traffic.source !== 'auto') return config.traffic.source;
  const sources = [...config.inputs.map((i) => i.source), ...extraSources];
  return sources.some((s) => s === 'supervisord' || s === 'nginx') ? 'nginx' : 'gunicorn';
}

/** An empty record, reused by one parser for every line. */
function newAccessRecord(): AccessRecord {
  return { method: undefined, path: undefined, status: '', bytesSent: 0, requestBytes: Number.NaN, seconds: Number.NaN, timestamp: '', client: '', agent: '' };
}

/**
 * An access-log grok pattern (QUAY_NGINX_ACCESS, QUAY_GUNICORN_ACCESS) read
 * by capture index into one reused AccessRecord. A field the pattern lacks
 * (gunicorn logs no duration) reads as absent: NaN.
 */
export class AccessPattern {
  readonly record: AccessRecord = newAccessRecord();
  private readonly re: RegExp;
  private readonly g: Record<
    'client' | 'timestamp' | 'method' | 'request' | 'status' | 'bytes_sent' | 'agent' | 'request_time' | 'request_length',
    number
  >;

  constructor(grok: PatternLibrary, name: string) {
    const p = grok.compile(`%{${name}}`, { mode: 'sticky' });
    this.re = p.regex;
    this.g = {
      client: p.group('client'),
      timestamp: p.group('timestamp'),
      method: p.group('method'),
      request: p.group('request'),
      status: p.group('status'),
      bytes_sent: p.group('bytes_sent'),
      agent: p.group('agent'),
      request_time: p.group('request_time'),
      request_length: p.group('request_length'),
    };
  }

  /** Match `text` from `start` and fill `record`; false when it is no access line. */
  read(text: string, start: number): boolean {
    this.re.lastIndex = start;
    const m = this.re.exec(text);
    if (m === null) return false;
    const g = this.g;
    const r = this.record;
    r.method = m[g.method];
    r.path = m[g.request];
    r.status = m[g.status]!;
    const bytes = m[g.bytes_sent];
    r.bytesSent = bytes === undefined ? 0 : +bytes; // gunicorn logs "-" for no body
    r.requestBytes = g.request_length < 0 ? Number.NaN : +m[g.request_length]!;
    r.seconds = g.request_time < 0 ? Number.NaN : +m[g.request_time]!;
    r.timestamp = m[g.timestamp]!;
    r.client = m[g.client]!;
    r.agent = m[g.agent] ?? '';
    return true;
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);

/** Methods are a bounded label: anything else a client sends becomes OTHER. */
export function normalizeMethod(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : 'OTHER';
}

export type Component = 'registry' | 'api' | 'web';

export function componentOf(path: string): Component {
  if (path.startsWith('/v2') && (path.length === 3 || path.charCodeAt(3) === 47 || path.charCodeAt(3) === 63)) return 'registry';
  if (path.startsWith('/api/')) return 'api';
  return 'web';
}

/** One request, as both access logs can describe it. */
export interface AccessRecord {
  method: string | undefined;
  path: string | undefined;
  status: string;
  /** Response body bytes. */
  bytesSent: number;
  /** Request bytes (line, headers, body); NaN when the log has none. */
  requestBytes: number;
  /** Seconds; NaN when the log has none. */
  seconds: number;
  /** `$time_local` / `%(t)s`, e.g. `22/Nov/2026:10:15:32 +0000`; parsed only for events. */
  timestamp: string;
  client: string;
  agent: string;
}

export class TrafficRecorder {
  private readonly http: CounterFamily;
  private readonly durationByComponent: Record<Component, HistogramSlot>;
  private readonly duration: HistogramFamily;
  private readonly requests: CounterFamily;
  private readonly pulls: CounterFamily;
  private readonly pushes: CounterFamily;
  private readonly bytes: CounterFamily;
  private readonly redirects: CounterFamily;
  private readonly slow: CounterFamily;
  private readonly transferDuration: HistogramFamily;
  private readonly throughput: HistogramFamily;
  private readonly transferSlots: { pull: [HistogramSlot, HistogramSlot]; push: [HistogramSlot, HistogramSlot] };
  private readonly route: RegistryRoute = newRoute();
  private readonly minBytes: number;
  private readonly maxRate: number;

  constructor(
    registry: MetricRegistry,
    config: Config,
    private readonly events: EventBus,
  ) {
    this.http = registry.counter('quay_http_requests_total');
    this.duration = registry.histogram('quay_http_request_duration_seconds');
    this.durationByComponent = {} as Record<Component, HistogramSlot>;
    this.requests = registry.counter('quay_registry_requests_total');
    this.pulls = registry.counter('quay_registry_pulls_total');
    this.pushes = registry.counter('quay_registry_pushes_total');
    this.bytes = registry.counter('quay_registry_transfer_bytes_total');
    this.redirects = registry.counter('quay_registry_blob_redirects_total');
    this.slow = registry.counter('quay_registry_slow_transfers_total');
    this.transferDuration = registry.histogram('quay_registry_transfer_duration_seconds');
    this.throughput = registry.histogram('quay_registry_transfer_throughput_bytes_per_second');
    this.transferSlots = {
      pull: [this.transferDuration.at('pull'), this.throughput.at('pull')],
      push: [this.transferDuration.at('push'), this.throughput.at('push')],
    };
    this.minBytes = config.slow_transfer.min_bytes;
    this.maxRate = config.slow_transfer.max_bytes_per_second;
  }

  private durationSlot(component: Component): HistogramSlot {
    return (this.durationByComponent[component] ??= this.duration.at(component));
  }

  record(r: AccessRecord): void {
    const path = r.path ?? '';
    const component = r.path === undefined ? 'web' : componentOf(path);
    const method = normalizeMethod(r.method);
    this.http.at(component, method, r.status).value++;
    if (!Number.isNaN(r.seconds)) this.duration.observe(this.durationSlot(component), r.seconds);
    if (component === 'registry') this.recordRegistry(r, method, path);
  }

  private recordRegistry(r: AccessRecord, method: string, path: string): void {
    const route = this.route;
    classifyRegistryRequest(method, path, route);
    const { operation: op, namespace: ns, repository: repo } = route;
    this.requests.at(op, ns, repo, r.status).value++;
    const status = r.status;
    const ok = status.length === 3 && status.charCodeAt(0) === 50; /* 2xx */
    switch (op) {
      case 'pull_manifest':
        if (ok && method === 'GET') this.pulls.at(ns, repo).value++;
        return;
      case 'push_manifest':
        if (ok) this.pushes.at(ns, repo).value++;
        return;
      case 'pull_blob':
        if (method !== 'GET') return;
        if (status === '200' || status === '206') this.transfer('pull', r.bytesSent, r, ns, repo);
        else if (status === '302' || status === '307') this.redirects.at(ns, repo).value++;
        return;
      case 'push_blob_chunk':
      case 'push_blob_commit':
        if (ok && !Number.isNaN(r.requestBytes)) this.transfer('push', r.requestBytes, r, ns, repo);
        return;
      default:
        return;
    }
  }

  private transfer(direction: 'pull' | 'push', bytes: number, r: AccessRecord, ns: string, repo: string): void {
    this.bytes.at(direction, ns, repo).value += bytes;
    const seconds = r.seconds;
    if (Number.isNaN(seconds)) return; // gunicorn's access log has no duration
    const [durationSlot, throughputSlot] = this.transferSlots[direction];
    this.transferDuration.observe(durationSlot, seconds);
    // nginx rounds $request_time to milliseconds: 0.000 means "too fast to measure", not infinitely fast.
    if (seconds <= 0) return;
    const rate = bytes / seconds;
    this.throughput.observe(throughputSlot, rate);
    if (bytes >= this.minBytes && rate < this.maxRate) {
      this.slow.at(direction, ns, repo).value++;
      if (this.events.active) {
        this.events.emit({
          measurement: 'quay_slow_transfer',
          time: parseHttpDate(r.timestamp),
          tags: { direction, namespace: ns, repository: repo },
          fields: {
            bytes,
            seconds,
            bytes_per_second: rate,
            client: r.client,
            digest: digestOf(r.path ?? ''),
            user_agent: r.agent,
            status: Number(r.status),
          },
        });
      }
    }
  }
}

/** The digest of a blob GET (`/blobs/<digest>`) or of an upload (`?digest=`, URL-encoded); "" when none. */
function digestOf(path: string): string {
  const query = /[?&]digest=([^&#]+)/.exec(path);
  if (query) {
    try {
      return decodeURIComponent(query[1]!);
    } catch {
      return query[1]!;
    }
  }
  const at = path.lastIndexOf('/blobs/');
  if (at === -1 || path.startsWith('uploads', at + 7)) return '';
  const end = path.indexOf('?', at);
  return path.slice(at + 7, end === -1 ? undefined : end);
}

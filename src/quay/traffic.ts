/**
 * Registry traffic semantics shared by the nginx and gunicorn parsers: one
 * access-log request in, the quay_http_* and quay_registry_* series out.
 * Only one of the two parsers feeds it (see TrafficSource): a request is
 * never counted from both logs.
 */
import type { Config, InputSource } from '../config/schema.js';
import type { EventBus } from '../events.js';
import { LineFields } from '../records/fields.js';
import type { PatternLibrary } from '../grok/index.js';
import { own, type CounterFamily, type HistogramFamily, type HistogramSlot, type MetricRegistry, type ValueSlot } from '../metrics/series.js';
import { classifyRegistryRequest, NAME_START, newRoute, splitRepositoryName, type Operation, type RegistryRoute } from './registry-route.js';
import { parseHttpDate } from './time.js';
import { eventStream, type ParserStream } from './types.js';

export type TrafficSource = 'nginx' | 'gunicorn';

/** `auto` resolves to nginx when any input carries nginx lines, else gunicorn. */
export function resolveTrafficSource(config: Config, extraSources: readonly InputSource[] = []): TrafficSource {
  if (config.traffic.source !== 'auto') return config.traffic.source;
  // A Fluent input's tags can select other sources than its own (tag_sources).
  const sources = [...config.inputs.flatMap((i) => [i.source, ...Object.values(i.tag_sources)]), ...extraSources];
  return sources.some((s) => s === 'supervisord' || s === 'nginx') ? 'nginx' : 'gunicorn';
}

/** An empty record, reused by one parser for every line. */
function newAccessRecord(): AccessRecord {
  return { method: undefined, path: undefined, status: '', bytesSent: 0, requestBytes: Number.NaN, seconds: Number.NaN, details: () => NO_DETAILS };
}

/** What the hot path reads of an access line; the rest is read only for a slow-transfer event. */
const HOT_FIELDS = ['method', 'request', 'status', 'bytes_sent', 'request_time', 'request_length'] as const;
const EVENT_FIELDS = ['client', 'timestamp', 'agent', 'referrer'] as const;

/**
 * An access-log grok pattern (QUAY_NGINX_ACCESS, QUAY_GUNICORN_ACCESS) read
 * by capture index into one reused AccessRecord. Every line is matched with a
 * compilation that captures only the fields every line needs (fewer strings
 * allocated per line); the rare line that becomes an event is matched again
 * for client, time and user agent. A field the pattern lacks (gunicorn logs
 * no duration) reads as absent: NaN.
 */
export class AccessPattern {
  readonly record: AccessRecord = newAccessRecord();
  private readonly hot: RegExp;
  private readonly full: RegExp;
  private readonly g: Record<(typeof HOT_FIELDS)[number], number>;
  private readonly e: Record<(typeof EVENT_FIELDS)[number], number>;
  private text = '';
  private start = 0;

  constructor(grok: PatternLibrary, name: string) {
    const hot = grok.compile(`%{${name}}`, { mode: 'sticky', capture: HOT_FIELDS });
    const full = grok.compile(`%{${name}}`, { mode: 'sticky' });
    this.hot = hot.regex;
    this.full = full.regex;
    this.g = Object.fromEntries(HOT_FIELDS.map((f) => [f, hot.group(f)])) as AccessPattern['g'];
    this.e = Object.fromEntries(EVENT_FIELDS.map((f) => [f, full.group(f)])) as AccessPattern['e'];
  }

  /** Match `text` from `start` and fill `record`; false when it is no access line. */
  read(text: string, start: number): boolean {
    this.hot.lastIndex = start;
    const m = this.hot.exec(text);
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
    this.text = text;
    this.start = start;
    r.details = this.details;
    return true;
  }

  /** Client, time, user agent and referrer of the line last read (a second match: events and storage-proxy lines only). */
  private readonly details = (): AccessDetails => {
    this.full.lastIndex = this.start;
    const m = this.full.exec(this.text)!;
    const e = this.e;
    return { client: m[e.client] ?? '', timestamp: m[e.timestamp] ?? '', agent: m[e.agent] ?? '', referrer: e.referrer < 0 ? '' : (m[e.referrer] ?? '') };
  };
}

/** Methods are a bounded label: anything else a client sends becomes OTHER. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHODS.map((m, i) => [m, i]));
const OTHER_METHOD = METHODS.length - 1;

function methodIndex(method: string | undefined): number {
  const i = method === undefined ? undefined : METHOD_INDEX.get(method);
  return i === undefined ? OTHER_METHOD : i;
}

type Component = 'registry' | 'api' | 'web';
const COMPONENTS: readonly Component[] = ['registry', 'api', 'web'];

/** Quay's storage proxy (`FEATURE_PROXY_STORAGE`, conf/nginx/server-base.conf.jnj): blob bytes proxied by nginx. */
const STORAGE_PROXY = '/_storage_proxy/';

/**
 * Index into COMPONENTS: `/v2` (and `/v2/…`, `/v2?…`) and the storage proxy's
 * blob downloads are the registry, `/api/` the API, the rest the web UI.
 */
function componentIndex(path: string): number {
  if (path.startsWith('/v2') && (path.length === 3 || path.charCodeAt(3) === 47 || path.charCodeAt(3) === 63)) return 0;
  if (path.startsWith('/api/')) return 1;
  if (path.startsWith(STORAGE_PROXY)) return 0;
  return 2;
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
  /** The line's client, `$time_local` (e.g. `22/Nov/2026:10:15:32 +0000`), user agent and referrer: read only when needed. */
  details: () => AccessDetails;
}

export interface AccessDetails {
  readonly client: string;
  readonly timestamp: string;
  readonly agent: string;
  readonly referrer: string;
}
const NO_DETAILS: AccessDetails = { client: '', timestamp: '', agent: '', referrer: '' };

const OPERATIONS: readonly Operation[] = [
  'pull_manifest', 'push_manifest', 'delete_manifest', 'pull_blob', 'push_blob_start', 'push_blob_chunk',
  'push_blob_commit', 'list_tags', 'catalog', 'referrers', 'token', 'ping', 'storage_proxy', 'other',
];
const OPERATION_INDEX = new Map<Operation, number>(OPERATIONS.map((o, i) => [o, i]));

/**
 * Every series of one repository, resolved on first use. A line then costs
 * one lookup by name plus one by status, instead of building and hashing a
 * joined label key per series.
 */
class RepositorySeries {
  /** quay_registry_requests_total, by operation index, then status. */
  private readonly requests: (Map<string, ValueSlot> | undefined)[] = [];
  private pulls: ValueSlot | undefined;
  private pushes: ValueSlot | undefined;
  private redirects: ValueSlot | undefined;
  private readonly bytes: (ValueSlot | undefined)[] = [];
  private readonly slow: (ValueSlot | undefined)[] = [];

  constructor(
    private readonly f: RegistryFamilies,
    readonly namespace: string,
    readonly repository: string,
  ) {}

  request(op: Operation, status: string): ValueSlot {
    const i = OPERATION_INDEX.get(op)!;
    const byStatus = (this.requests[i] ??= new Map());
    let slot = byStatus.get(status);
    if (slot === undefined) byStatus.set(own(status), (slot = this.f.requests.at(op, this.namespace, this.repository, status)));
    return slot;
  }
  pull(): ValueSlot {
    return (this.pulls ??= this.f.pulls.at(this.namespace, this.repository));
  }
  push(): ValueSlot {
    return (this.pushes ??= this.f.pushes.at(this.namespace, this.repository));
  }
  redirect(): ValueSlot {
    return (this.redirects ??= this.f.redirects.at(this.namespace, this.repository));
  }
  transferBytes(d: Direction): ValueSlot {
    return (this.bytes[d] ??= this.f.bytes.at(DIRECTIONS[d], this.namespace, this.repository));
  }
  slowTransfer(d: Direction): ValueSlot {
    return (this.slow[d] ??= this.f.slow.at(DIRECTIONS[d], this.namespace, this.repository));
  }
}

interface RegistryFamilies {
  readonly requests: CounterFamily;
  readonly pulls: CounterFamily;
  readonly pushes: CounterFamily;
  readonly bytes: CounterFamily;
  readonly redirects: CounterFamily;
  readonly slow: CounterFamily;
}

const enum Direction {
  Pull = 0,
  Push = 1,
}
const DIRECTIONS = ['pull', 'push'] as const;

export class TrafficRecorder {
  /** quay_http_requests_total by component × method, then status. */
  private readonly http: Map<string, ValueSlot>[];
  private readonly httpFamily: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly durationSlots: (HistogramSlot | undefined)[] = [];
  private readonly families: RegistryFamilies;
  private readonly transferDuration: HistogramFamily;
  private readonly throughput: HistogramFamily;
  private readonly transferSlots: [HistogramSlot, HistogramSlot][];
  /** Series by repository name, bounded like the series themselves: past the bound, names are resolved each time. */
  private readonly repositories = new Map<string, RepositorySeries>();
  private readonly maxRepositories: number;
  private readonly noRepository: RepositorySeries;
  private readonly route: RegistryRoute = newRoute();
  private readonly minBytes: number;
  private readonly maxRate: number;
  private readonly libraryNamespace: string;

  constructor(
    registry: MetricRegistry,
    config: Config,
    private readonly events: EventBus,
    /** Written only while a records output is configured (LineFields.active). */
    private readonly fields: LineFields = new LineFields(),
  ) {
    this.httpFamily = registry.counter('quay_http_requests_total');
    this.http = Array.from({ length: COMPONENTS.length * METHODS.length }, () => new Map());
    this.duration = registry.histogram('quay_http_request_duration_seconds');
    this.families = {
      requests: registry.counter('quay_registry_requests_total'),
      pulls: registry.counter('quay_registry_pulls_total'),
      pushes: registry.counter('quay_registry_pushes_total'),
      bytes: registry.counter('quay_registry_transfer_bytes_total'),
      redirects: registry.counter('quay_registry_blob_redirects_total'),
      slow: registry.counter('quay_registry_slow_transfers_total'),
    };
    this.transferDuration = registry.histogram('quay_registry_transfer_duration_seconds');
    this.throughput = registry.histogram('quay_registry_transfer_throughput_bytes_per_second');
    this.transferSlots = DIRECTIONS.map((d) => [this.transferDuration.at(d), this.throughput.at(d)]);
    this.maxRepositories = registry.maxSeriesPerMetric;
    this.noRepository = new RepositorySeries(this.families, '', '');
    this.minBytes = config.slow_transfer.min_bytes;
    this.maxRate = config.slow_transfer.max_bytes_per_second;
    this.libraryNamespace = config.traffic.library_namespace;
  }

  /** The stream of the line being recorded, for its events' pod (set per call, read only by transfer()). */
  private stream: ParserStream | undefined;

  record(r: AccessRecord, stream?: ParserStream): void {
    this.stream = stream;
    const path = r.path;
    const component = path === undefined ? 2 : componentIndex(path);
    const method = methodIndex(r.method);
    this.countHttp(r, component, method);
    if (!Number.isNaN(r.seconds)) this.duration.observe((this.durationSlots[component] ??= this.duration.at(COMPONENTS[component])), r.seconds);
    const f = this.fields;
    if (f.active) {
      f.set('component', COMPONENTS[component]!);
      f.set('method', METHODS[method]!);
      f.set('path', path ?? '');
      f.set('status', Number(r.status));
      f.set('bytes', r.bytesSent);
      if (!Number.isNaN(r.requestBytes)) f.set('request_bytes', r.requestBytes);
      if (!Number.isNaN(r.seconds)) f.set('duration', r.seconds);
    }
    if (component !== 0) return;
    if (path!.charCodeAt(1) === 95 /* _ */) this.recordStorageProxy(r, METHODS[method]!);
    else this.recordRegistry(r, METHODS[method]!, path!);
  }

  /**
   * A request that is no registry traffic of its own: nginx's plain-HTTP
   * server answers every request with a redirect to HTTPS, and the client
   * repeats it there (counted then). It counts in quay_http_requests_total only.
   */
  recordHttpOnly(r: AccessRecord): void {
    const path = r.path;
    this.countHttp(r, path === undefined ? 2 : componentIndex(path), methodIndex(r.method));
  }

  private countHttp(r: AccessRecord, component: number, method: number): void {
    const byStatus = this.http[component * METHODS.length + method]!;
    let slot = byStatus.get(r.status);
    if (slot === undefined) byStatus.set(own(r.status), (slot = this.httpFamily.at(COMPONENTS[component], METHODS[method], r.status)));
    slot.value++;
  }

  /**
   * A blob download through Quay's storage proxy: the client's
   * `GET /v2/<name>/blobs/<digest>` was answered with a redirect (counted on
   * that line as pull_blob and a blob redirect); this line carries the bytes.
   * The repository comes from the referer, which clients set to the /v2 URL
   * they were redirected from. It counts as operation `storage_proxy` (so a
   * pull_blob is never counted twice), and its bytes, duration and slowness
   * as the pull they are.
   */
  private recordStorageProxy(r: AccessRecord, method: string): void {
    const refPath = v2PathOf(r.details().referrer);
    let repo = this.noRepository;
    if (refPath !== '') {
      const route = this.route;
      classifyRegistryRequest('GET', refPath, route);
      if (route.operation === 'pull_blob') repo = this.repository(refPath, route.nameEnd);
    }
    const status = r.status;
    repo.request('storage_proxy', status).value++;
    if (method === 'GET' && (status === '200' || status === '206')) this.transfer(Direction.Pull, r.bytesSent, r, repo, refPath);
  }

  private repository(path: string, nameEnd: number): RepositorySeries {
    if (nameEnd === -1) return this.noRepository;
    const name = path.slice(NAME_START, nameEnd);
    let series = this.repositories.get(name);
    if (series === undefined) {
      const [ns, repo] = splitRepositoryName(own(name), this.libraryNamespace);
      series = new RepositorySeries(this.families, ns, repo);
      if (this.repositories.size < this.maxRepositories) this.repositories.set(own(name), series);
    }
    return series;
  }

  private recordRegistry(r: AccessRecord, method: string, path: string): void {
    const route = this.route;
    classifyRegistryRequest(method, path, route);
    const op = route.operation;
    const repo = this.repository(path, route.nameEnd);
    repo.request(op, r.status).value++;
    if (this.fields.active) {
      this.fields.set('operation', op);
      if (repo.namespace !== '') this.fields.set('namespace', repo.namespace);
      if (repo.repository !== '') this.fields.set('repository', repo.repository);
    }
    const status = r.status;
    const ok = status.length === 3 && status.charCodeAt(0) === 50; /* 2xx */
    switch (op) {
      case 'pull_manifest':
        if (ok && method === 'GET') repo.pull().value++;
        return;
      case 'push_manifest':
        if (ok) repo.push().value++;
        return;
      case 'pull_blob':
        if (method !== 'GET') return;
        if (status === '200' || status === '206') this.transfer(Direction.Pull, r.bytesSent, r, repo, path);
        else if (status === '302' || status === '307') repo.redirect().value++;
        return;
      case 'push_blob_chunk':
      case 'push_blob_commit':
        if (ok && !Number.isNaN(r.requestBytes)) this.transfer(Direction.Push, r.requestBytes, r, repo, path);
        return;
      default:
        return;
    }
  }

  /** `digestPath`: the /v2 path that names the blob (the request's, or the referer's for the storage proxy). */
  private transfer(direction: Direction, bytes: number, r: AccessRecord, repo: RepositorySeries, digestPath: string): void {
    repo.transferBytes(direction).value += bytes;
    const seconds = r.seconds;
    if (Number.isNaN(seconds)) return; // gunicorn's access log has no duration
    const [durationSlot, throughputSlot] = this.transferSlots[direction]!;
    this.transferDuration.observe(durationSlot, seconds);
    // nginx rounds $request_time to milliseconds: 0.000 means "too fast to measure", not infinitely fast.
    if (seconds <= 0) return;
    const rate = bytes / seconds;
    this.throughput.observe(throughputSlot, rate);
    if (bytes >= this.minBytes && rate < this.maxRate) {
      repo.slowTransfer(direction).value++;
      if (this.events.active) {
        const details = r.details();
        this.events.emit({
          measurement: 'quay_slow_transfer',
          time: parseHttpDate(details.timestamp),
          tags: { direction: DIRECTIONS[direction], namespace: repo.namespace, repository: repo.repository },
          fields: {
            bytes,
            seconds,
            bytes_per_second: rate,
            client: details.client,
            digest: digestOf(digestPath),
            user_agent: details.agent,
            status: Number(r.status),
          },
          ...eventStream(this.stream?.info),
        });
      }
    }
  }
}

/** The path of a referer URL (`https://quay.example.com/v2/…` → `/v2/…`) when it is a /v2 path, else "". */
function v2PathOf(referrer: string): string {
  let at = 0;
  const scheme = referrer.indexOf('://');
  if (scheme !== -1) {
    at = referrer.indexOf('/', scheme + 3);
    if (at === -1) return '';
  }
  return referrer.startsWith('/v2/', at) ? referrer.slice(at) : '';
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

/**
 * The configuration schema. Every key a user can write is declared here with
 * its default, so `check-config` and the running exporter agree on one truth.
 * Unknown keys are errors: a typo must not silently fall back to a default.
 */
import { z } from 'zod';
import { podLabelAllowed } from '../metrics/catalogue.js';
import { parseDurationMs } from './duration.js';
import { rulesSectionSchema } from '../rules/schema.js';
import { resolveTimeZone } from '../grok/time.js';
import { INPUT_SOURCES } from './sources.js';

/** A duration ("250ms", "5s", "10m") or a number of seconds, parsed to milliseconds. */
const duration = (fallback: string, options: { zeroMeansNever?: boolean } = {}) =>
  z
    .union([z.string(), z.number().nonnegative()])
    .default(fallback)
    .refine((v) => !Number.isNaN(parseDurationMs(v)), {
      message: 'expected a duration such as "250ms", "5s", "10m" or a number of seconds',
      abort: true,
    })
    // Node fires a timer of 0 or of 2^31 ms and more every 1 ms: both are refused, not left to spin
    // (0 stays allowed where it means "never" and is no timer).
    .refine((v) => (options.zeroMeansNever && parseDurationMs(v) === 0) || (parseDurationMs(v) >= 1 && parseDurationMs(v) <= MAX_TIMER_MS), {
      message: `expected a duration from 1ms to ${MAX_TIMER_MS}ms (about 24 days)${options.zeroMeansNever ? ', or 0 for never' : ''}`,
    })
    .transform((v) => parseDurationMs(v));

/** The longest delay Node's timers take (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const positiveInt = (fallback: number, max: number) => z.number().int().positive().max(max).default(fallback);

/** http(s) URL whose userinfo decodes: checked here so `run` never meets it first. */
const httpUrl = z.string().superRefine((v, ctx) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: `not a URL: "${v}"` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `expected http:// or https://, got "${url.protocol}//"` });
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'the user or password in the URL has a malformed %-escape (write % as %25)' });
  }
});

/** `host:port`, `:port` or a bare port; undefined when absent and no fallback. */
const listenAddress = (fallback?: string) =>
  z
    .union([z.string(), z.number().int()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined && fallback === undefined) return undefined;
      const text = String(v ?? fallback);
      const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text);
      const port = m ? Number(m[2]) : NaN;
      // A host name or an IP address (IPv6 in brackets, with an optional %zone): nothing that cannot be one.
      if (!m || port > 65535 || !/^[A-Za-z0-9.:%_-]*$/.test(m[1] ?? '')) {
        ctx.addIssue({ code: 'custom', message: `expected "host:port" or a port, got "${text}"` });
        return z.NEVER;
      }
      return { host: m[1] || '0.0.0.0', port };
    });

/** A mirror's external_reference: registry[:port]/path, no tag, no digest (docker:// allowed). */
const MIRROR_UPSTREAM = /^(?:docker:\/\/)?[^/\s:@]+(?::\d+)?\/[^\s:@]+$/;

export { SOURCES, INPUT_SOURCES, type SourceName, type InputSource } from './sources.js';

const multiline = z.strictObject({
  /** A ready-made rule; `python-traceback` joins Python tracebacks to the line before them. */
  preset: z.enum(['python-traceback']).optional(),
  /** A JS regular expression tested against each line (after framing). */
  pattern: z.string().optional(),
  /** `previous`: a matching line belongs to the event before it; `next`: to the event after it. */
  match_which_line: z.enum(['previous', 'next']).default('previous'),
  invert_match: z.boolean().default(false),
  /** An event still open after this long is emitted as it is. */
  timeout: duration('1s'),
  /** An event never grows past this many lines; the rest starts a new event. */
  max_lines: positiveInt(500, 100_000),
  /**
   * An event never holds more than this many bytes of text: the rest is
   * consumed with it but dropped, and the event counts once in
   * quay_log_exporter_lines_truncated_total. At most 64 events are open per
   * input, so multi-line holds at most 64 × max_bytes.
   */
  max_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
});

/** `type: forward`: a Fluent Forward protocol v1 server (src/inputs/forward/README.md). */
export const forwardSchema = z.strictObject({
  /** TCP address; Fluent's default port is 24224. */
  listen: listenAddress('0.0.0.0:24224').transform((v) => v!),
  /** Also listen on this unix socket (Fluent Bit `Unix_Path`); the TCP port is always open. */
  unix_path: z.string().min(1).optional(),
  tls: z
    .strictObject({
      cert_file: z.string().min(1),
      key_file: z.string().min(1),
      /** When set, a client must present a certificate signed by this CA. */
      ca_file: z.string().min(1).optional(),
    })
    .optional(),
  /** The shared_key handshake (HELO/PING/PONG), as Fluentd's `<security>`. */
  security: z
    .strictObject({
      shared_key: z.string().min(1),
      self_hostname: z.string().min(1).default('quay-log-exporter'),
      /** When given, clients must also send one of these username/password pairs. */
      users: z.array(z.strictObject({ username: z.string().min(1), password: z.string() })).default([]),
    })
    .optional(),
  /** A frame (one Forward message, compressed or not) larger than this closes its connection. */
  max_frame_bytes: positiveInt(16 * 1024 * 1024, 1024 * 1024 * 1024),
  /** A gzip chunk that inflates past this closes its connection. */
  max_decompressed_bytes: positiveInt(64 * 1024 * 1024, 1024 * 1024 * 1024),
  max_connections: positiveInt(256, 65_535),
  /**
   * A stream (tag + the record's Kubernetes container) ends after this long without a record, not when a
   * connection closes (senders reconnect): keep it above mirror.idle_gap so attempts end by their own gap.
   */
  stream_idle_timeout: duration('1h'),
});

export const inputSchema = z.strictObject({
  type: z.enum(['file', 'stdin', 'forward']).default('file'),
  /** Names the input in self-metrics (`input` label); defaults to `<type>-<index>`. */
  name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, "_", ".", ":" and "-" only').optional(),
  paths: z.array(z.string().min(1)).default([]),
  exclude: z.array(z.string().min(1)).default(['**/*.gz', '**/*.zip', '**/*.bz2', '**/*.xz']),
  source: z.enum(INPUT_SOURCES).default('supervisord'),
  start_at: z.enum(['beginning', 'end', 'saved-or-beginning', 'saved-or-end']).default('saved-or-end'),
  framing: z.enum(['raw', 'cri', 'docker']).default('raw'),
  multiline: multiline.optional(),
  max_line_bytes: positiveInt(1024 * 1024, 64 * 1024 * 1024),
  poll_interval: duration('250ms'),
  rescan_interval: duration('5s'),
  /** A last line without its newline is emitted after this long. */
  partial_line_timeout: duration('5s'),
  checkpoint_interval: duration('1s'),
  /** The saved offset of a file no longer followed (deleted; a pod gone) is dropped after this long. */
  forget_after: duration('24h'),
  /** stdin: `text` lines, or records as JSON lines or MessagePack (what Fluentd's out_exec_filter writes). */
  format: z.enum(['text', 'json', 'msgpack']).default('text'),
  /** Records (forward, stdin json/msgpack): the key holding the log line; Fluent Bit's tail/CRI use `log`, Fluentd's `none` parser `message`. */
  message_key: z.string().min(1).default('log'),
  /** Records whose supervisord prefix was stripped upstream: the key holding the program (`nginx`, `gcworker`…). */
  program_key: z.string().min(1).optional(),
  /** Fluent tag pattern → source, first match wins; `*` is one tag part, `**` any number (Fluentd's <match>). */
  tag_sources: z.record(z.string().min(1), z.enum(INPUT_SOURCES)).default({}),
  forward: forwardSchema.optional(),
});

const failureReason = z.strictObject({
  reason: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case snake_case'),
  /** A case-insensitive JS regular expression tested against the error text. */
  match: z.string().min(1),
});

/** TLS of a client (InfluxDB, OTLP): the CA to trust, a client certificate; skip-verify logs a warning at start. */
const clientTls = z.strictObject({
  ca_file: z.string().min(1).optional(),
  cert_file: z.string().min(1).optional(),
  key_file: z.string().min(1).optional(),
  /** Do not check the server's certificate. */
  insecure_skip_verify: z.boolean().default(false),
});

const influxdb = z.strictObject({
  url: httpUrl,
  database: z.string().min(1),
  retention_policy: z.string().optional(),
  precision: z.enum(['ns', 'u', 'ms', 's']).default('ms'),
  username: z.string().optional(),
  password: z.string().optional(),
  /** InfluxDB 2.x/3.x token for the v1-compatible API; sent as `Authorization: Token …`. */
  token: z.string().optional(),
  /** The password or token read from a file (a mounted Secret) at start, a trailing newline dropped. */
  password_file: z.string().min(1).optional(),
  token_file: z.string().min(1).optional(),
  /** https:// : trust this CA, present this client certificate; skip-verify only with a warning. */
  tls: clientTls.optional(),
  /** How often the metrics are exported. */
  interval: duration('10s'),
  batch_size: positiveInt(5000, 1_000_000),
  flush_interval: duration('1s'),
  queue_size: positiveInt(100_000, 10_000_000),
  timeout: duration('5s'),
  max_retry_delay: duration('30s'),
  shutdown_timeout: duration('10s'),
  /** Do not `CREATE DATABASE` at start-up (as Telegraf's skip_database_creation): for a user without admin rights, or 2.x/3.x. */
  skip_database_creation: z.boolean().default(false),
  /**
   * `replay` waits for InfluxDB to take queued points, but at most this long
   * without any point written; then it stops waiting, and exits 1 saying how
   * many points were lost.
   */
  replay_max_wait: duration('1m'),
  /** Write the tag `host`, `pod`… on every point; values may come from `${ENV}`. */
  tags: z.record(z.string(), z.string()).default({}),
  events: z
    .strictObject({
      enabled: z.boolean().default(true),
      error_max_bytes: positiveInt(1024, 1024 * 1024),
    })
    .prefault({}),
});

/** Records to the next hop's in_forward (src/records/README.md). */
export const forwardOutputSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(24224),
  mode: z.enum(['Message', 'Forward', 'PackedForward', 'CompressedPackedForward']).default('PackedForward'),
  security: z
    .strictObject({
      shared_key: z.string().min(1),
      self_hostname: z.string().min(1).default('quay-log-exporter'),
      username: z.string().default(''),
      password: z.string().default(''),
    })
    .optional(),
  /** TLS to the next hop (Fluentd's `transport tls`, Fluent Bit's `tls on`): the CA to trust, a client certificate. */
  tls: clientTls.optional(),
  /** Wait for the server's ack of each chunk and resend what is not acked (at-least-once). */
  require_ack_response: z.boolean().default(true),
  ack_timeout: duration('30s'),
  batch_records: positiveInt(1000, 1_000_000),
  flush_interval: duration('200ms'),
  /** Records held (queued and unacknowledged) at most: past half of it inputs pause, past all of it new records are dropped and counted. */
  buffer_records: positiveInt(100_000, 100_000_000),
  max_retry_delay: duration('30s'),
  shutdown_timeout: duration('10s'),
});

/** Records out (src/records/README.md): parsed lines and events, to stdout and/or a Fluent forward server. */
const records = z.strictObject({
  /** all: every line and every event; matched: lines that matched a pattern, and events; events: slow transfers, mirror syncs, GC runs only. */
  select: z.enum(['all', 'matched', 'events']).default('all'),
  /** Where a line that arrived as text is put in its record (a Fluent record keeps its own keys). */
  message_key: z.string().min(1).default('log'),
  /** Tag of records that arrived without one: `<tag>.<source>`, events `<tag>.event.<name>`. */
  tag: z.string().min(1).default('quay'),
  stdout: z
    .strictObject({
      /** json: one object per line (Fluentd exec_filter `<parse> @type json`); msgpack: maps back to back (`<parse> @type msgpack`). */
      format: z.enum(['json', 'msgpack']).default('json'),
      /** Unwritten bytes (a reader that does not keep up) past which inputs are paused; twice this, records are dropped and counted. */
      max_buffer_bytes: positiveInt(8 * 1024 * 1024, 1024 * 1024 * 1024),
    })
    .optional(),
  forward: forwardOutputSchema.optional(),
});


/** A secret or header value: the text itself (`${ENV}` substituted by the loader), or `{ file: path }` read at start. */
const optionalDuration = z
  .union([z.string(), z.number().nonnegative()])
  .refine((v) => !Number.isNaN(parseDurationMs(v)), {
    message: 'expected a duration such as "250ms", "5s", "10m" or a number of seconds',
  })
  .transform((v) => parseDurationMs(v))
  .optional();

const secretValue = z.union([z.string(), z.strictObject({ file: z.string().min(1) })]);

/** OTLP push (src/outputs/otlp/README.md). A key left out falls back to the standard OTEL_EXPORTER_OTLP_* env variable. */
const otlp = z.strictObject({
  protocol: z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
  /** http/*: a base URL gets `/v1/metrics` appended (as the Collector's otlphttp exporter does); a URL with a path is used as it is. */
  endpoint: z.string().url().optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name'), secretValue).default({}),
  tls: clientTls.optional(),
  compression: z.enum(['none', 'gzip']).optional(),
  /** Left out: OTEL_METRIC_EXPORT_INTERVAL, else 60s. */
  interval: optionalDuration,
  /** Per export, retries included. Left out: OTEL_EXPORTER_OTLP_(METRICS_)TIMEOUT, else 10s. */
  timeout: optionalDuration,
  temporality: z.enum(['cumulative', 'delta']).optional(),
  shutdown_timeout: duration('10s'),
  resource: z
    .strictObject({
      service_name: z.string().min(1).optional(),
      service_instance_id: z.string().min(1).optional(),
      pod_name: z.string().min(1).optional(),
      namespace: z.string().min(1).optional(),
      /** More resource attributes (e.g. `deployment.environment.name`). */
      attributes: z.record(z.string().min(1), z.string()).default({}),
    })
    .prefault({}),
});

export const configSchema = z.strictObject({
  state_dir: z.string().min(1).default('/var/lib/quay-log-exporter'),
  log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  prometheus: z
    .strictObject({
      enabled: z.boolean().default(true),
      listen: listenAddress('0.0.0.0:9464').transform((v) => v!),
      /** Keep OTel's `otel_scope_*` labels and `target_info`; off by default. */
      scope_info: z.boolean().default(false),
    })
    .prefault({}),
  /** The process's HTTP server (/metrics, /healthz, /readyz, /mirror/health); it runs even with prometheus.enabled: false. */
  http: z
    .strictObject({
      /** Overrides prometheus.listen, which stays the address when this is not given. */
      listen: listenAddress(),
      /** Open connections past this are closed at accept. */
      max_connections: z.number().int().min(1).max(100_000).default(64),
      /** A client must send its request headers within this (slowloris). */
      header_timeout: duration('10s'),
      /** … and its whole request within this; Node answers 408 after it. */
      request_timeout: duration('30s'),
      /** TLS, basic auth and headers: an exporter-toolkit web config file (src/http/security/README.md). */
      web_config_file: z.string().min(1).optional(),
      /** /healthz and /readyz answer without credentials (kubelet probes); false: they need them too. */
      open_probes: z.boolean().default(true),
    })
    .prefault({}),
  inputs: z.array(inputSchema).default([]),
  grok: z
    .strictObject({
      /** Extra pattern files; a name defined here overrides the bundled one. */
      pattern_files: z.array(z.string()).default([]),
      /** Inline patterns, NAME: regex. */
      patterns: z.record(z.string().regex(/^[A-Za-z0-9_]+$/), z.string()).default({}),
      /**
       * Zone of timestamps whose text has no offset, for `ts*` captures (Telegraf's
       * `grok_timezone`): UTC, Local, or an IANA name such as Europe/Berlin.
       */
      timezone: z
        .string()
        .default('UTC')
        .refine((v) => resolveTimeZone(v) !== undefined, { message: 'unknown time zone (use UTC, Local or an IANA name such as Europe/Berlin)' }),
    })
    .prefault({}),
  traffic: z
    .strictObject({
      /**
       * Which log counts registry traffic. `auto`: nginx when any input carries
       * nginx lines (a `supervisord` or `nginx` input), else gunicorn. One
       * request is never counted from both.
       */
      source: z.enum(['auto', 'nginx', 'gunicorn']).default('auto'),
      /** Quay's LIBRARY_NAMESPACE: where Quay stores a one-component repository name (`/v2/ubuntu/…`). */
      library_namespace: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a Quay namespace name').default('library'),
    })
    .prefault({}),
  slow_transfer: z
    .strictObject({
      min_bytes: z.number().int().nonnegative().default(1024 * 1024),
      max_bytes_per_second: z.number().positive().default(1024 * 1024),
    })
    .prefault({}),
  limits: z
    .strictObject({
      max_series_per_metric: positiveInt(10_000, 1_000_000),
      /**
       * Series whose labels come from the logs (repository, namespace, pod) and have not
       * changed for this long are no longer exported (Telegraf's expiration_interval); 0: never.
       */
      series_ttl: duration('0s', { zeroMeansNever: true }),
      /**
       * Add a `pod` label (the Kubernetes pod of the container log a line came from) to
       * every metric that can carry one (true) or to the metrics listed. Off: pods come and
       * go, and every pod makes new series.
       */
      pod_label: z
        .union([
          z.boolean(),
          z.array(
            z.string().refine(podLabelAllowed, { message: 'not a metric that can have a pod label (docs/metrics.md, "Pods")' }),
          ),
        ])
        .default(false),
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      /**
       * Threads that parse, for `run` (src/threads/README.md): 1 parses on the main thread; N > 1
       * adds N - 1 worker threads for the order-free lines (nginx, gunicorn) of file inputs.
       */
      threads: z.number().int().min(1).max(64).default(1),
    })
    .prefault({}),
  /** Quay's python log time has no zone; it is read in this one. */
  python_log_timezone: z
    .string()
    .regex(/^(UTC|Z|[+-]\d{2}:?\d{2})$/, 'UTC or an offset such as +02:00')
    .default('UTC'),
  mirror: z
    .strictObject({
      failure_reasons: z.array(failureReason).default([]),
      /** upstream (registry/path, no tag) → "namespace/repository", when the job line is not logged. */
      // Quay before v3.15.0 logs no line that names the Quay repository: this map is how mirrors get one.
      repositories: z
        .record(z.string(), z.string().regex(/^[^/\s]+\/\S+$/, 'namespace/repository'))
        .superRefine((map, ctx) => {
          for (const upstream of Object.keys(map)) {
            if (!MIRROR_UPSTREAM.test(upstream)) {
              ctx.addIssue({ code: 'custom', path: [upstream], message: "the key must be the upstream registry/path without tag or digest, as in the mirror's external_reference (e.g. quay.io/prometheus/node-exporter)" });
            }
          }
        })
        .default({}),
      idle_gap: duration('10m'),
      stale_after: duration('15m'),
      unhealthy_after_failures: positiveInt(1, 1_000_000),
      /**
       * Repositories whose last status is kept (gauges, /mirror/health, the state file). Past
       * it, the one least recently attempted is forgotten, counted in
       * quay_log_exporter_mirror_repositories_evicted_total.
       */
      max_repositories: positiveInt(5_000, 1_000_000),
    })
    .prefault({}),
  outputs: z
    .strictObject({
      influxdb: influxdb.optional(),
      records: records.optional(),
      otlp: otlp.optional(),
    })
    .prefault({}),
  /** Your own metrics from grok patterns (src/rules/README.md). */
  rules: rulesSectionSchema,
  /** Load the shipped rules/*.yaml (storage replication, worker exceptions, …); a rule of yours with the same name replaces one. */
  shipped_rules: z.boolean().default(true),
});

export type Config = z.output<typeof configSchema>;
export type InputConfig = Config['inputs'][number];
export type MultilineConfig = NonNullable<InputConfig['multiline']>;
export type InfluxConfig = NonNullable<Config['outputs']['influxdb']>;
export type RecordsConfig = NonNullable<Config['outputs']['records']>;
export type ForwardOutputConfig = NonNullable<RecordsConfig['forward']>;
export type OtlpConfig = NonNullable<Config['outputs']['otlp']>;

/**
 * Sends batches of line protocol to the InfluxDB 1.x `/write` API (also
 * served by InfluxDB 2.x/3.x as their v1-compatible endpoint) through the
 * `influx` package's connection pool, and sorts each answer into "written",
 * "retry later" or "refused for good".
 *
 * Credentials (password, token, URL userinfo) go into the Authorization
 * header only; every message that leaves this module passes `redact` first.
 */
import { Pool, RequestError } from 'influx/lib/src/pool.js';
import type { IBackoffStrategy } from 'influx/lib/src/backoff/backoff.js';
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import type { InfluxConfig } from '../../config/schema.js';

/** A mounted Secret's content; a trailing newline (echo, kubectl create secret --from-file) is not part of it. */
function readSecret(path: string | undefined): string | undefined {
  return path === undefined ? undefined : readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

export type SendResult =
  | { readonly kind: 'ok' }
  /** Server down, slow, 5xx or 429: keep the batch and try again later. */
  | { readonly kind: 'retry'; readonly message: string }
  /** A 4xx other than 429: these points will never be accepted. `dropped` of the batch were lost. */
  | { readonly kind: 'reject'; readonly status: number; readonly dropped: number; readonly message: string };

/**
 * The pool's own host backoff would answer "No host available" for seconds
 * after one refused connection; the queue does the backing off, so the pool
 * never disables its only host.
 */
const noBackoff: IBackoffStrategy = {
  getDelay: () => 0,
  next: () => noBackoff,
  reset: () => noBackoff,
};

const MAX_MESSAGE = 300;

export class InfluxWriter {
  private readonly pool: Pool;
  private readonly query: Record<string, string>;
  private readonly auth: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  /** The URL without userinfo, for logs. */
  readonly endpoint: string;

  constructor(config: InfluxConfig) {
    const url = new URL(config.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`outputs.influxdb.url: expected http:// or https://, got "${url.protocol}"`);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const path = url.pathname.replace(/\/+$/, '');
    this.endpoint = `${url.protocol}//${url.hostname}:${port}${path}`;

    // Config keys win over credentials written into the URL.
    const userinfoUser = decodeURIComponent(url.username);
    const userinfoPass = decodeURIComponent(url.password);
    const username = config.username ?? (userinfoUser || undefined);
    const password = config.password ?? readSecret(config.password_file) ?? (userinfoPass || undefined);
    const token = config.token ?? readSecret(config.token_file);
    this.secrets = [password, token, userinfoPass, url.password].filter((s): s is string => typeof s === 'string' && s.length >= 3);
    this.headers = {};
    if (token) {
      this.headers['Authorization'] = `Token ${token}`;
    } else if (username !== undefined) {
      this.auth = `${username}:${password ?? ''}`;
      this.secrets.push(Buffer.from(this.auth).toString('base64'));
    }
    this.query = { db: config.database, precision: config.precision };
    if (config.retention_policy) this.query['rp'] = config.retention_policy;

    this.pool = new Pool({ maxRetries: 0, requestTimeout: config.timeout, backoff: noBackoff });
    const tls = config.tls;
    const tlsOptions: RequestOptions | undefined =
      tls && url.protocol === 'https:'
        ? {
            ...(tls.ca_file ? { ca: readFileSync(tls.ca_file) } : {}),
            ...(tls.cert_file ? { cert: readFileSync(tls.cert_file) } : {}),
            ...(tls.key_file ? { key: readFileSync(tls.key_file) } : {}),
            rejectUnauthorized: !tls.insecure_skip_verify,
          }
        : undefined;
    this.pool.addHost(this.endpoint, tlsOptions);
  }

  /** Replace every credential in `text` with `***`. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /**
   * At start-up: `CREATE DATABASE` (idempotent in 1.x) unless told to skip it,
   * else check that the database exists. Resolves with a problem to warn
   * about, or undefined when the database is there. Never rejects.
   */
  async prepare(database: string, create: boolean): Promise<string | undefined> {
    const q = create ? `CREATE DATABASE "${database.replace(/["\\]/g, '\\$&')}"` : 'SHOW DATABASES';
    try {
      const res = (await this.pool.json({
        method: create ? 'POST' : 'GET',
        path: '/query',
        query: { q },
        headers: this.headers,
        ...(this.auth !== undefined ? { auth: this.auth } : {}),
      })) as { results?: { error?: string; series?: { values?: unknown[][] }[] }[] };
      const result = res.results?.[0];
      if (result?.error) return this.redact(oneLine(result.error));
      if (!create && !(result?.series?.[0]?.values ?? []).some((v) => v[0] === database)) return `database "${database}" does not exist`;
      return undefined;
    } catch (err) {
      const r = this.classify(err, 0);
      return r.kind === 'ok' ? undefined : r.message;
    }
  }

  /** POST one batch (lines joined by "\n"). Never rejects. */
  async send(lines: readonly string[], signal?: AbortSignal): Promise<SendResult> {
    try {
      await this.pool.discard({
        method: 'POST',
        path: '/write',
        query: this.query,
        body: lines.join('\n'),
        headers: this.headers,
        ...(this.auth !== undefined ? { auth: this.auth } : {}),
        ...(signal ? { signal } : {}),
      });
      return { kind: 'ok' };
    } catch (err) {
      return this.classify(err, lines.length);
    }
  }

  private classify(err: unknown, batch: number): SendResult {
    if (err instanceof RequestError) {
      const status = err.res.statusCode ?? 0;
      const message = this.redact(oneLine(err.message));
      if (status === 429 || status < 400 || status >= 500) return { kind: 'retry', message };
      // A database that does not exist yet (created by someone else later, or by us at start-up
      // while this batch was in flight) is not a permanent refusal: keep the points.
      if (status === 404 && /database not found/i.test(err.message)) return { kind: 'retry', message };
      return { kind: 'reject', status, dropped: refusedPoints(err.message, batch), message };
    }
    const e = err as NodeJS.ErrnoException;
    const text = e && typeof e === 'object' ? [e.code, e.message].filter(Boolean).join(': ') : String(err);
    return { kind: 'retry', message: this.redact(oneLine(text)) };
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? flat.slice(0, MAX_MESSAGE) + '…' : flat;
}

/**
 * How many points of a refused batch were lost. InfluxDB 1.x writes the good
 * points of a batch and answers 400 "partial write: … dropped=N" (points out
 * of retention, type conflicts) or lists each line it could not parse; any
 * other 4xx (bad database, bad credentials) loses the whole batch.
 */
export function refusedPoints(message: string, batch: number): number {
  if (!/partial write/i.test(message)) return batch;
  let n = 0;
  const dropped = /dropped=(\d+)/.exec(message);
  if (dropped) n += Number(dropped[1]);
  n += (message.match(/unable to parse/g) ?? []).length;
  return n > 0 ? Math.min(n, batch) : batch;
}

/**
 * InfluxWriter on its own against a loopback HTTP server that answers as InfluxDB 1.x does (the
 * bodies are the ones influxd 1.6 sends, as seen in test/outputs/influxdb.test.ts): how each answer is
 * sorted (written / retry / refused with how many points), what the start-up query is, the endpoint
 * and credentials, and that no credential survives in a message.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../../../test/helpers/certs.js';
import { configSchema } from '../../config/schema.js';
import { freePort } from '../../../test/helpers/wait.js';
import { InfluxWriter, refusedPoints } from './client.js';

interface Seen {
  method: string;
  url: URL;
  authorization: string | undefined;
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A server answering every request with `answer(seen)`: [status, body]. */
async function influx(answer: (s: Seen) => [number, string]): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const s = { method: req.method!, url: new URL(req.url!, 'http://x'), authorization: req.headers.authorization, body };
      seen.push(s);
      const [status, text] = answer(s);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return { port: (server!.address() as { port: number }).port, seen };
}

const writer = (influxdb: Record<string, unknown>) => new InfluxWriter(configSchema.parse({ outputs: { influxdb } }).outputs.influxdb!);

describe('InfluxWriter.send: each answer sorted', () => {
  // [status, body, batch of 5 → result] worked out by hand from classify()
  const cases: [number, string, unknown][] = [
    [204, '', { kind: 'ok' }],
    [429, '{"error":"too many requests"}', { kind: 'retry' }],
    [500, '{"error":"timeout"}', { kind: 'retry' }],
    [503, '{"error":"engine: cache maximum memory size exceeded"}', { kind: 'retry' }],
    // a database not created yet: kept and retried
    [404, '{"error":"database not found: \\"quay\\""}', { kind: 'retry' }],
    // another 404 (a wrong path prefix): refused, the whole batch
    [404, '404 page not found', { kind: 'reject', status: 404, dropped: 5 }],
    [401, '{"error":"authorization failed"}', { kind: 'reject', status: 401, dropped: 5 }],
    [400, '{"error":"partial write: points beyond retention policy dropped=2"}', { kind: 'reject', status: 400, dropped: 2 }],
    [400, '{"error":"unable to parse \'a b\': invalid field format"}', { kind: 'reject', status: 400, dropped: 5 }],
  ];
  it.each(cases)('%i %s', async (status, body, want) => {
    const { port } = await influx(() => [status, body]);
    const result = await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).send(['m a=1 1', 'm a=2 2', 'm a=3 3', 'm a=4 4', 'm a=5 5']);
    expect(result).toMatchObject(want as object);
  });

  it('a refused connection is a retry, its message naming the code', async () => {
    const port = await freePort();
    const result = await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).send(['m a=1 1']);
    expect(result.kind).toBe('retry');
    expect(result.kind === 'retry' && result.message.startsWith('ECONNREFUSED')).toBe(true);
  });

  it('the message is one line, at most 300 characters and an ellipsis', async () => {
    const { port } = await influx(() => [400, `{"error":"bad\n\n  ${'x'.repeat(400)}"}`]);
    const result = await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).send(['m a=1 1']);
    expect(result.kind).toBe('reject');
    const message = (result as { message: string }).message;
    expect(message).not.toMatch(/\n/);
    expect(message.length).toBe(301);
    expect(message.endsWith('…')).toBe(true);
  });

  it('POSTs the lines joined by newlines to /write with db, rp and precision', async () => {
    const { port, seen } = await influx(() => [204, '']);
    await writer({ url: `http://127.0.0.1:${port}/base/`, database: 'quay', retention_policy: 'week', precision: 'ns' }).send(['a x=1 1', 'b x=2 2']);
    expect(seen.map((s) => [s.method, s.url.pathname, Object.fromEntries(s.url.searchParams), s.body])).toEqual([
      ['POST', '/base/write', { db: 'quay', rp: 'week', precision: 'ns' }, 'a x=1 1\nb x=2 2'],
    ]);
    // no retention policy: no rp parameter
    await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).send(['a x=1 1']);
    expect(Object.fromEntries(seen[1]!.url.searchParams)).toEqual({ db: 'quay', precision: 'ms' });
  });
});

describe('InfluxWriter.prepare', () => {
  it('creates the database (quoted) with a POST, and says nothing when it worked', async () => {
    const { port, seen } = await influx(() => [200, '{"results":[{"statement_id":0}]}']);
    expect(await writer({ url: `http://127.0.0.1:${port}`, database: 'qu"ay\\x' }).prepare('qu"ay\\x', true)).toBeUndefined();
    expect(seen.map((s) => [s.method, s.url.pathname, s.url.searchParams.get('q')])).toEqual([['POST', '/query', 'CREATE DATABASE "qu\\"ay\\\\x"']]);
  });

  it('skip_database_creation: SHOW DATABASES with a GET; missing → a message; present → nothing', async () => {
    const { port, seen } = await influx(() => [200, '{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["_internal"],["other"]]}]}]}']);
    const w = writer({ url: `http://127.0.0.1:${port}`, database: 'quay' });
    expect(await w.prepare('quay', false)).toBe('database "quay" does not exist');
    expect(await w.prepare('other', false)).toBeUndefined();
    expect(seen.map((s) => [s.method, s.url.searchParams.get('q')])).toEqual([
      ['GET', 'SHOW DATABASES'],
      ['GET', 'SHOW DATABASES'],
    ]);
  });

  it('no series at all: the database does not exist', async () => {
    const { port } = await influx(() => [200, '{"results":[{"statement_id":0}]}']);
    expect(await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).prepare('quay', false)).toBe('database "quay" does not exist');
  });

  it('an error in the result, or an HTTP error, is the problem to warn about', async () => {
    const { port } = await influx((s) => (s.method === 'POST' ? [200, '{"results":[{"statement_id":0,"error":"not authorized to execute statement"}]}'] : [401, '{"error":"authorization failed"}']));
    const w = writer({ url: `http://127.0.0.1:${port}`, database: 'quay' });
    expect(await w.prepare('quay', true)).toBe('not authorized to execute statement');
    expect(await w.prepare('quay', false)).toMatch(/authorization failed/);
  });
});

describe('InfluxWriter credentials', () => {
  it('endpoint: no userinfo, the default port, no trailing slash', () => {
    expect(writer({ url: 'http://u:secret@db.example:8086/x/', database: 'q' }).endpoint).toBe('http://db.example:8086/x');
    expect(writer({ url: 'http://db.example', database: 'q' }).endpoint).toBe('http://db.example:80');
    expect(writer({ url: 'https://db.example/', database: 'q' }).endpoint).toBe('https://db.example:443');
  });

  it('only http and https', () => {
    const config = configSchema.parse({ outputs: { influxdb: { url: 'http://db.example', database: 'q' } } }).outputs.influxdb!;
    expect(() => new InfluxWriter({ ...config, url: 'ftp://db.example/' })).toThrow('outputs.influxdb.url: expected http:// or https://, got "ftp:"');
  });

  it('basic auth from the URL userinfo (decoded), config keys winning; never a credential in a message', async () => {
    const { port, seen } = await influx(() => [401, '{"error":"authorization failed for user:pa ss and c2VjcmV0"}']);
    const fromUrl = writer({ url: `http://us%3Ar:pa%20ss@127.0.0.1:${port}`, database: 'q' });
    const r = await fromUrl.send(['m a=1 1']);
    expect(seen[0]!.authorization).toBe('Basic ' + Buffer.from('us:r:pa ss').toString('base64'));
    // the password as the server echoed it is masked ("c2VjcmV0" is not a credential here)
    expect(r).toEqual({ kind: 'reject', status: 401, dropped: 1, message: 'A 401 Unauthorized error occurred: {"error":"authorization failed for user:*** and c2VjcmV0"}' });
    expect((r as { message: string }).message).not.toContain('pa ss');
    const keys = writer({ url: `http://x:y@127.0.0.1:${port}`, database: 'q', username: 'cfg', password: 'cfgpass' });
    await keys.send(['m a=1 1']);
    expect(seen[1]!.authorization).toBe('Basic ' + Buffer.from('cfg:cfgpass').toString('base64'));
    expect(keys.redact('a cfgpass b ' + Buffer.from('cfg:cfgpass').toString('base64'))).toBe('a *** b ***');
  });

  it('a token wins over a user; a token file loses its trailing newline; short values are not redacted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-influx-secret-'));
    writeFileSync(join(dir, 'token'), 'tok-from-file\n');
    writeFileSync(join(dir, 'pw'), 'pw-from-file\r\n');
    const { port, seen } = await influx(() => [204, '']);
    const w = writer({ url: `http://127.0.0.1:${port}`, database: 'q', username: 'u', token_file: join(dir, 'token') });
    await w.send(['m a=1 1']);
    expect(seen[0]!.authorization).toBe('Token tok-from-file');
    expect(w.redact('tok-from-file')).toBe('***');
    const p = writer({ url: `http://127.0.0.1:${port}`, database: 'q', username: 'u', password_file: join(dir, 'pw') });
    await p.send(['m a=1 1']);
    expect(seen[1]!.authorization).toBe('Basic ' + Buffer.from('u:pw-from-file').toString('base64'));
    // a user with no password: "u:"
    const nopw = writer({ url: `http://127.0.0.1:${port}`, database: 'q', username: 'u' });
    await nopw.send(['m a=1 1']);
    expect(seen[2]!.authorization).toBe('Basic ' + Buffer.from('u:').toString('base64'));
    // secrets shorter than 3 characters are not redacted (they would blank out ordinary words)
    expect(writer({ url: 'http://a:pw@h', database: 'q' }).redact('pw')).toBe('pw');
  });
});

describe('refusedPoints', () => {
  it('dropped=N and each "unable to parse" add up, at most the batch; anything else is the whole batch', () => {
    // 3 dropped + 2 unparsable = 5, within a batch of 10
    expect(refusedPoints('partial write: unable to parse x\nunable to parse y dropped=3', 10)).toBe(5);
    // capped at the batch
    expect(refusedPoints('partial write: dropped=30', 10)).toBe(10);
    // "partial write" with no count: the whole batch
    expect(refusedPoints('Partial Write: something', 7)).toBe(7);
    expect(refusedPoints('partial write: dropped=0', 7)).toBe(7);
    expect(refusedPoints('unable to parse x', 4)).toBe(4);
  });
});

describe('InfluxWriter: what the first run left', () => {
  it('a 3xx is retried (never refused); a 5xx message is the status text alone', async () => {
    const { port } = await influx((s) => (s.url.searchParams.get('db') === 'moved' ? [301, 'moved'] : [500, '{"error":"timeout"}']));
    const moved = await writer({ url: `http://127.0.0.1:${port}`, database: 'moved' }).send(['m a=1 1']);
    expect(moved).toEqual({ kind: 'retry', message: 'A 301 Moved Permanently error occurred: moved' });
    // influx's Pool turns ≥ 500 into ServiceNotAvailableError(statusMessage): no code, so no "undefined: " before it
    expect(await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).send(['m a=1 1'])).toEqual({ kind: 'retry', message: 'Internal Server Error' });
  });

  it('a refused connection: "ECONNREFUSED: " and the error', async () => {
    const port = await freePort();
    const r = await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).send(['m a=1 1']);
    expect(r).toEqual({ kind: 'retry', message: `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}` });
  });

  it('messages: whitespace runs become one space, the ends trimmed; exactly 300 characters are not cut', async () => {
    // 'A 400 Bad Request error occurred: ' is 34 characters
    const { port } = await influx((s) => (s.body === 'short' ? [400, '  first\n\n  second  '] : [400, 'x'.repeat(266)]));
    const w = writer({ url: `http://127.0.0.1:${port}`, database: 'quay' });
    expect(await w.send(['short'])).toEqual({ kind: 'reject', status: 400, dropped: 1, message: 'A 400 Bad Request error occurred: first second' });
    const exact = (await w.send(['long'])) as { message: string };
    expect(exact.message).toBe(`A 400 Bad Request error occurred: ${'x'.repeat(266)}`);
    expect(exact.message.length).toBe(300);
  });

  it('a server that does not answer within `timeout` is a retry; an aborted send too, at once', async () => {
    const hung = createServer(() => {});
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', () => r()));
    const port = (hung.address() as { port: number }).port;
    try {
      const slow = await writer({ url: `http://127.0.0.1:${port}`, database: 'quay', timeout: '200ms' }).send(['m a=1 1']);
      expect(slow).toEqual({ kind: 'retry', message: 'Request timed out' });
      const abort = new AbortController();
      const pending = writer({ url: `http://127.0.0.1:${port}`, database: 'quay', timeout: '20s' }).send(['m a=1 1'], abort.signal);
      setTimeout(() => abort.abort(), 50);
      const aborted = await pending;
      expect(aborted.kind).toBe('retry');
      expect((aborted as { message: string }).message).toMatch(/abort/i);
    } finally {
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
  });

  it('no credentials: no Authorization header; a 3-character password is redacted; a trailing slash run is cut from the path', async () => {
    const { port, seen } = await influx(() => [204, '']);
    await writer({ url: `http://127.0.0.1:${port}/p//`, database: 'q' }).send(['m a=1 1']);
    expect(seen[0]!.authorization).toBeUndefined();
    expect(seen[0]!.url.pathname).toBe('/p/write');
    expect(writer({ url: 'http://a:abc@h//', database: 'q' }).redact('x abc y')).toBe('x *** y');
    expect(writer({ url: 'http://h/x//', database: 'q' }).endpoint).toBe('http://h:80/x');
  });

  it('a secret file loses only its final newline: one inside is part of the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-influx-secret-'));
    writeFileSync(join(dir, 'token'), 'to\nken\n');
    // the secret is "to\nken": redacted whole (with the first newline cut instead it would be "token\n")
    const w = writer({ url: 'http://127.0.0.1:1', database: 'q', token_file: join(dir, 'token') });
    expect(w.redact('[to\nken]')).toBe('[***]');
  });

  it('prepare: an answer without results is "does not exist" when checking, fine when creating', async () => {
    const { port } = await influx(() => [200, '{}']);
    const w = writer({ url: `http://127.0.0.1:${port}`, database: 'quay' });
    expect(await w.prepare('quay', false)).toBe('database "quay" does not exist');
    expect(await w.prepare('quay', true)).toBeUndefined();
  });

  it('prepare: a series without values is "does not exist"', async () => {
    const { port } = await influx(() => [200, '{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"]}]}]}']);
    expect(await writer({ url: `http://127.0.0.1:${port}`, database: 'quay' }).prepare('quay', false)).toBe('database "quay" does not exist');
  });
});

describe('InfluxWriter over https (certificates by openssl)', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });

  /** An https server answering 204 to every write; with `clientCa`, a client certificate is required. */
  async function https(clientCa?: string): Promise<{ port: number; close: () => Promise<void> }> {
    const s = createHttpsServer(
      { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert), ...(clientCa ? { ca: readFileSync(clientCa), requestCert: true, rejectUnauthorized: true } : {}) },
      (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      },
    );
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return { port: (s.address() as { port: number }).port, close: () => new Promise<void>((r) => s.close(() => r())) };
  }

  it('writes when the server is signed by ca_file and the client shows cert_file/key_file; not with another CA, unless insecure_skip_verify', async () => {
    const hop = await https(certs.caCert);
    try {
      const url = `https://127.0.0.1:${hop.port}`;
      const ok = writer({ url, database: 'q', tls: { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey } });
      expect(await ok.send(['m a=1 1'])).toEqual({ kind: 'ok' });
      const otherCa = await writer({ url, database: 'q', tls: { ca_file: certs.otherCaCert, cert_file: certs.clientCert, key_file: certs.clientKey } }).send(['m a=1 1']);
      expect(otherCa.kind).toBe('retry');
      const skip = writer({ url, database: 'q', tls: { ca_file: certs.otherCaCert, cert_file: certs.clientCert, key_file: certs.clientKey, insecure_skip_verify: true } });
      expect(await skip.send(['m a=1 1'])).toEqual({ kind: 'ok' });
      // no client certificate: the server refuses the handshake
      expect((await writer({ url, database: 'q', tls: { ca_file: certs.caCert } }).send(['m a=1 1'])).kind).toBe('retry');
    } finally {
      await hop.close();
    }
  });
});

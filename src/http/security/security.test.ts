/**
 * WebSecurity and BasicAuth in process, behind the real HttpServer: test/http-security.test.ts does the
 * same through the daemon and Prometheus's scrape client, where a mutation run cannot see it.
 * Certificates are made by the real `openssl` (test/helpers/certs.ts); hashes by bcryptjs at cost 4.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCerts, type TestCerts } from '../../../test/helpers/certs.js';
import { createLogger, silentLogger } from '../../log.js';
import { HttpServer, text } from '../server.js';
import { BasicAuth, parseBasic, parseWebConfig, WebSecurity } from './index.js';

const basic = (user: string, pw: string) => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');

describe('parseBasic', () => {
  // [header, user, password] worked out by hand; undefined: not basic credentials
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cases: [string | undefined, { user: string; password: string } | undefined][] = [
    [`Basic ${b64('u:p')}`, { user: 'u', password: 'p' }],
    [`basic   ${b64('u:p')}  `, { user: 'u', password: 'p' }], // scheme case-insensitive, spaces around
    [`Basic ${b64('u:p:q')}`, { user: 'u', password: 'p:q' }], // the first colon splits
    [`Basic ${b64(':p')}`, { user: '', password: 'p' }],
    [`Basic ${b64('nocolon')}`, undefined],
    [`Bearer ${b64('u:p')}`, undefined],
    [`XBasic ${b64('u:p')}`, undefined],
    [`Basic ${b64('u:p')} x`, undefined],
    ['Basic', undefined],
    ['Basic !!!', undefined],
    [undefined, undefined],
  ];
  it.each(cases)('%s', (header, want) => {
    expect(parseBasic(header)).toEqual(want);
  });
});

describe('BasicAuth', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await bcrypt.hash('right', 4);
  });

  it('right password yes; wrong password, unknown user, no header no; each login computed once, then cached', async () => {
    const auth = new BasicAuth({ users: new Map([['alice', hash]]) });
    expect(auth.enabled).toBe(true);
    expect(await auth.check(basic('alice', 'right'))).toBe(true);
    expect(await auth.check(basic('alice', 'wrong'))).toBe(false);
    expect(await auth.check(basic('bob', 'right'))).toBe(false);
    expect(await auth.check(undefined)).toBe(false);
    // 3 distinct logins computed (no header computes nothing)
    expect(auth.computed).toBe(3);
    expect(await auth.check(basic('alice', 'right'))).toBe(true);
    expect(await auth.check(basic('alice', 'wrong'))).toBe(false);
    expect(auth.computed).toBe(3);
  });

  it('concurrent requests with the same credentials share one computation', async () => {
    const auth = new BasicAuth({ users: new Map([['alice', hash]]) });
    const results = await Promise.all(Array.from({ length: 5 }, () => auth.check(basic('alice', 'right'))));
    expect(results).toEqual([true, true, true, true, true]);
    expect(auth.computed).toBe(1);
  });

  it('keeps at most cacheSize results, dropping the oldest', async () => {
    const auth = new BasicAuth({ users: new Map([['alice', hash]]), cacheSize: 2 });
    await auth.check(basic('alice', 'a')); // cache: a
    await auth.check(basic('alice', 'b')); // a, b
    await auth.check(basic('alice', 'b')); // hit
    expect(auth.computed).toBe(2);
    await auth.check(basic('alice', 'c')); // b, c (a dropped)
    await auth.check(basic('alice', 'b')); // hit
    expect(auth.computed).toBe(3);
    await auth.check(basic('alice', 'a')); // computed again
    expect(auth.computed).toBe(4);
  });

  it('user and password are keyed apart: "ab:c" is not "a:bc"', async () => {
    const h = await bcrypt.hash('bc', 4);
    const auth = new BasicAuth({ users: new Map([['a', h]]) });
    expect(await auth.check(basic('a', 'bc'))).toBe(true);
    expect(await auth.check(basic('ab', 'c'))).toBe(false);
  });

  it('with no users it is not enabled', () => {
    expect(new BasicAuth({ users: new Map() }).enabled).toBe(false);
  });
});

describe('HttpServer with WebSecurity (plain HTTP, basic auth, headers)', () => {
  let server: HttpServer;
  let port: number;
  let security: WebSecurity;
  let hash: string;
  beforeAll(async () => {
    hash = await bcrypt.hash('pw', 4);
  });
  // Made in each test, not once: a mutation run credits code run in beforeAll to the first test only.
  beforeEach(async () => {
    security = new WebSecurity({
      config: parseWebConfig({ http_server_config: { headers: { 'x-content-type-options': 'nosniff' } }, basic_auth_users: { prom: hash } }, '/etc/web.yml'),
      log: silentLogger,
    });
    server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger, security });
    server.route('/metrics', () => text(200, 'm 1\n'));
    server.route('/healthz', () => text(200, 'ok\n'));
    server.route('/readyz', () => ({ ...text(200, 'ready\n'), headers: { 'X-Content-Type-Options': 'route' } }));
    ({ port } = await server.listen());
  });
  afterEach(() => server.close());

  it('plain HTTP (no TLS in the web config), one user', () => {
    expect([security.tls, security.users]).toEqual([false, 1]);
  });

  const get = async (path: string, auth?: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: auth ? { authorization: auth } : {} });
    return { status: res.status, body: await res.text(), www: res.headers.get('www-authenticate'), nosniff: res.headers.get('x-content-type-options'), type: res.headers.get('content-type') };
  };

  it('refuses /metrics without or with wrong credentials: 401, WWW-Authenticate: Basic, the config headers', async () => {
    const want = { status: 401, body: 'Unauthorized\n', www: 'Basic', nosniff: 'nosniff', type: 'text/plain; charset=utf-8' };
    expect(await get('/metrics')).toEqual(want);
    expect(await get('/metrics', basic('prom', 'nope'))).toEqual(want);
    expect(await get('/metrics', basic('other', 'pw'))).toEqual(want);
  });

  it('serves /metrics with the right credentials, with the config headers', async () => {
    expect(await get('/metrics', basic('prom', 'pw'))).toEqual({ status: 200, body: 'm 1\n', www: null, nosniff: 'nosniff', type: 'text/plain; charset=utf-8' });
  });

  it('the probes need no credentials; a route header wins over the config header', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n', nosniff: 'nosniff' });
    expect(await get('/readyz')).toMatchObject({ status: 200, body: 'ready\n', nosniff: 'route' });
  });

  it('an unknown path is refused before it is looked up (no list of routes to a stranger), and 404 behind auth', async () => {
    expect((await get('/nope')).status).toBe(401);
    expect(await get('/nope', basic('prom', 'pw'))).toMatchObject({ status: 404, body: 'not found: try /metrics, /healthz, /readyz\n' });
  });
});

describe('WebSecurity TLS (certificates from openssl)', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeCerts();
  });

  const serve = async (tls: Record<string, unknown>, log = silentLogger) => {
    const security = new WebSecurity({ config: parseWebConfig({ tls_server_config: tls }, join(certs.dir, 'web.yml')), log, reloadIntervalMs: 60_000 });
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger, security });
    server.route('/metrics', () => text(200, 'm 1\n'));
    const { port } = await server.listen();
    return { security, server, port };
  };

  /** Status of GET /metrics, or the error code of a refused handshake. */
  const get = (port: number, opts: { cert?: string; key?: string; maxVersion?: 'TLSv1.2' } = {}) =>
    new Promise<number | string>((resolve) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/metrics',
          ca: readFileSync(certs.caCert),
          agent: false,
          ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
          ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      req.end();
    });

  it('NoClientCert: https with the configured pair, no client certificate asked', async () => {
    const { server, port, security } = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey });
    try {
      expect(security.tls).toBe(true);
      expect(await get(port)).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('RequireAndVerifyClientCert (a client CA without a type): no client certificate, no request', async () => {
    const { server, port } = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey, client_ca_file: certs.caCert });
    try {
      expect(await get(port, { cert: certs.clientCert, key: certs.clientKey })).toBe(200);
      expect(await get(port)).not.toBe(200);
    } finally {
      await server.close();
    }
  });

  it('RequireAnyClientCert: any certificate, even one no CA here signed; none: closed', async () => {
    const { server, port } = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey, client_auth_type: 'RequireAnyClientCert' });
    try {
      // the server's own pair as a client certificate: not a client cert of a known CA, still a certificate
      expect(await get(port, { cert: certs.clientCert, key: certs.clientKey })).toBe(200);
      expect(await get(port)).toBe('ECONNRESET');
    } finally {
      await server.close();
    }
  });

  it('VerifyClientCertIfGiven: none is fine, a verified one is fine', async () => {
    const { server, port } = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey, client_auth_type: 'VerifyClientCertIfGiven', client_ca_file: certs.caCert });
    try {
      expect(await get(port)).toBe(200);
      expect(await get(port, { cert: certs.clientCert, key: certs.clientKey })).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('VerifyClientCertIfGiven: a certificate the client CA did not sign is refused', async () => {
    // client CA = the other CA, which signed nothing: the client certificate (signed by ca) does not verify
    const { server, port } = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey, client_auth_type: 'VerifyClientCertIfGiven', client_ca_file: certs.otherCaCert });
    try {
      expect(await get(port)).toBe(200);
      expect(await get(port, { cert: certs.clientCert, key: certs.clientKey })).toBe('ECONNRESET');
    } finally {
      await server.close();
    }
  });

  it('min_version TLS13 refuses a TLS 1.2 client; the default (TLS12) takes it', async () => {
    const strict = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey, min_version: 'TLS13' });
    const dflt = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey });
    try {
      expect(await get(strict.port, { maxVersion: 'TLSv1.2' })).not.toBe(200);
      expect(await get(strict.port)).toBe(200);
      expect(await get(dflt.port, { maxVersion: 'TLSv1.2' })).toBe(200);
    } finally {
      await strict.server.close();
      await dflt.server.close();
    }
  });

  it('max_version TLS12 serves a TLS 1.2 connection to a client that could do 1.3', async () => {
    const { server, port } = await serve({ cert_file: certs.serverCert, key_file: certs.serverKey, max_version: 'TLS12' });
    try {
      const protocol = await new Promise<string | null>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: '/metrics', ca: readFileSync(certs.caCert), agent: false }, (res) => {
          resolve((res.socket as import('node:tls').TLSSocket).getProtocol());
          res.resume();
        });
        req.on('error', reject);
        req.end();
      });
      expect(protocol).toBe('TLSv1.2');
    } finally {
      await server.close();
    }
  });

  it('reload: a pair that does not match keeps the old one (warned, not counted); a good pair is counted', async () => {
    copyFileSync(certs.serverCert, join(certs.dir, 'r.crt'));
    copyFileSync(certs.serverKey, join(certs.dir, 'r.key'));
    const logged: string[] = [];
    const log = createLogger('info', (l) => logged.push((JSON.parse(l) as { msg: string }).msg));
    const { server, port, security } = await serve({ cert_file: 'r.crt', key_file: 'r.key' }, log);
    try {
      // mid-rotation: the key of another certificate
      copyFileSync(certs.clientKey, join(certs.dir, 'r.key'));
      security.reload();
      expect(security.reloads).toBe(0);
      expect(await get(port)).toBe(200); // still serving the old pair
      copyFileSync(certs.serverKey, join(certs.dir, 'r.key'));
      security.reload();
      expect(security.reloads).toBe(1);
      expect(await get(port)).toBe(200);
      expect(logged).toEqual(['TLS certificate not reloaded; the previous one stays', 'TLS certificate reloaded']);
    } finally {
      await server.close();
    }
  });

  it('reload before a server exists does nothing (not even a warning)', () => {
    const logged: string[] = [];
    const log = createLogger('info', (l) => logged.push((JSON.parse(l) as { msg: string }).msg));
    const security = new WebSecurity({ config: parseWebConfig({ tls_server_config: { cert_file: certs.serverCert, key_file: certs.serverKey } }, '/x/web.yml'), log });
    security.reload();
    expect(security.reloads).toBe(0);
    expect(logged).toEqual([]);
  });

  it('a certificate file that changes is loaded again by itself (stat every reloadIntervalMs)', async () => {
    copyFileSync(certs.serverCert, join(certs.dir, 'w.crt'));
    copyFileSync(certs.serverKey, join(certs.dir, 'w.key'));
    const security = new WebSecurity({ config: parseWebConfig({ tls_server_config: { cert_file: 'w.crt', key_file: 'w.key', client_ca_file: certs.caCert } }, join(certs.dir, 'web.yml')), log: silentLogger, reloadIntervalMs: 20 });
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger, security });
    await server.listen();
    try {
      await new Promise((r) => setTimeout(r, 60));
      expect(security.reloads).toBe(0);
      // rewritten with other bytes: the other pair (client cert and key) is as loadable as the first
      copyFileSync(certs.clientCert, join(certs.dir, 'w.crt'));
      copyFileSync(certs.clientKey, join(certs.dir, 'w.key'));
      for (let i = 0; i < 300 && security.reloads === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(security.reloads).toBeGreaterThanOrEqual(1);
      // the client CA is watched too
      const before = security.reloads;
      writeFileSync(certs.caCert, readFileSync(certs.caCert, 'utf8') + '\n');
      for (let i = 0; i < 300 && security.reloads === before; i++) await new Promise((r) => setTimeout(r, 10));
      expect(security.reloads).toBeGreaterThan(before);
    } finally {
      await server.close();
    }
  });
});

/** The HTTP server on its own: targets parsed without throwing, a failing route is that request's 500. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { connect } from 'node:net';
import { HttpServer, json, text } from './server.js';
import { parseTarget } from './target.js';

describe('parseTarget', () => {
  // [target, path, query string] worked out by hand; undefined = 400
  const cases: [string | undefined, string | undefined, string?][] = [
    ['/metrics', '/metrics', ''],
    ['//', '//', ''],
    ['//[', '//[', ''],
    ['//:99999', '//:99999', ''],
    ['/\\\\', '/\\\\', ''],
    ['/mirror/health?namespace=a&repository=b', '/mirror/health', 'namespace=a&repository=b'],
    ['/x?%zz', '/x', '%25zz='], // the malformed escape kept as text, re-encoded
    ['/x#y?z', '/x', ''],
    ['http://h:9464/metrics?a=1', '/metrics', 'a=1'],
    ['http://[::1]:9464/readyz', '/readyz', ''],
    ['HTTP://h', '/', ''],
    ['http://h?x=1', '/', 'x=1'],
    ['http://quay.example:80/metrics', '/metrics', ''],
    ['http://h/#x?y', '/', ''],
    ['http://h#x', undefined],
    ['xhttp://h/a', undefined],
    ['xhttp:///a', undefined], // not at the start: no absolute-form
    ['http:///a', '/a', ''], // an empty host
    ['http://[', undefined],
    ['http://u:p@h/', undefined],
    ['ftp://h/', undefined],
    ['*', undefined],
    ['h:80', undefined],
    ['', undefined],
    [undefined, undefined],
  ];
  it.each(cases)('%s', (target, path, query) => {
    const t = parseTarget(target);
    expect(t?.path).toBe(path);
    if (t) expect(t.query.toString()).toBe(query);
  });
});

describe('HttpServer', () => {
  it('answers 500 for a route that throws or rejects, and keeps serving', async () => {
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    server.route('/throws', () => {
      throw new Error('boom');
    });
    server.route('/rejects', () => Promise.reject(new Error('late boom')));
    server.route('/ok', () => text(200, 'fine\n'));
    server.route('/slow', async () => text(200, 'later\n'));
    expect(() => server.route('/ok', () => text(200, ''))).toThrow('/ok registered twice');
    const { port } = await server.listen();
    try {
      const at = (p: string, method = 'GET') => fetch(`http://127.0.0.1:${port}${p}`, { method });
      const thrown = await at('/throws');
      expect([thrown.status, await thrown.text()]).toEqual([500, 'internal error\n']);
      expect((await at('/rejects')).status).toBe(500);
      expect(await (await at('/ok')).text()).toBe('fine\n');
      expect(await (await at('/slow')).text()).toBe('later\n');
      const head = await at('/ok', 'HEAD');
      expect([head.status, await head.text()]).toEqual([200, '']);
      expect((await at('/ok', 'DELETE')).headers.get('allow')).toBe('GET, HEAD');
      // two failed requests, counted
      expect(server.failures).toBe(2);
    } finally {
      await server.close();
    }
  });
});

describe('HttpServer answers on the wire', () => {
  /** Sends `raw` bytes on one connection and returns what came back until the server closed it. */
  const rawExchange = (port: number, raw: string) =>
    new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(raw));
      let got = '';
      socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', () => resolve(got));
    });

  it('400 for a target it cannot read, 400/431 for malformed HTTP, 404 naming the routes, 405 with Allow', async () => {
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    server.route('/metrics', () => text(200, 'm 1\n')).route('/healthz', () => text(200, 'ok\n'));
    expect(server.paths).toEqual(['/metrics', '/healthz']);
    const { port } = await server.listen();
    try {
      const status = (reply: string) => reply.slice(0, reply.indexOf('\r\n'));
      // an absolute-form target of another scheme: Node passes it on, parseTarget refuses it
      const bad = await rawExchange(port, 'GET ftp://h/ HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      expect(status(bad)).toBe('HTTP/1.1 400 Bad Request');
      // chunked: 0x13 = 19 bytes of body
      expect(bad.endsWith('\r\n\r\n13\r\nbad request target\n\r\n0\r\n\r\n')).toBe(true);
      // not HTTP at all: Node's parser fails, clientError answers 400 and closes
      expect(await rawExchange(port, 'HELLO\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      // 20 KiB of header: over Node's 16 KiB limit
      expect(await rawExchange(port, `GET /metrics HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)).toBe(
        'HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n',
      );
      const notFound = await fetch(`http://127.0.0.1:${port}/nope`);
      expect([notFound.status, notFound.headers.get('content-type'), await notFound.text()]).toEqual([404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz\n']);
      const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' });
      expect([post.status, post.headers.get('allow'), await post.text()]).toEqual([405, 'GET, HEAD', 'method not allowed\n']);
      // absolute-form target: served as its path
      expect(status(await rawExchange(port, `GET http://127.0.0.1:${port}/healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`))).toBe('HTTP/1.1 200 OK');
      expect(server.failures).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('json replies: the body as JSON with a newline, application/json', async () => {
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    server.route('/j', () => json(503, { ready: false }));
    const { port } = await server.listen();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/j`);
      expect([res.status, res.headers.get('content-type'), await res.text()]).toEqual([503, 'application/json', '{"ready":false}\n']);
    } finally {
      await server.close();
    }
  });

  it('listen rejects when the port is taken; close of a server never started resolves', async () => {
    const a = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    const { port } = await a.listen();
    const b = new HttpServer({ host: '127.0.0.1', port, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    try {
      await expect(b.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 1, headersTimeoutMs: 1, requestTimeoutMs: 1, log: silentLogger }).close()).resolves.toBeUndefined();
    } finally {
      await a.close();
    }
  });

  it('keeps a connection alive between requests', async () => {
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    server.route('/x', () => text(200, 'fine\n'));
    const { port } = await server.listen();
    try {
      // the same request twice on one keep-alive connection: both answered, nothing failed
      const reply = await rawExchange(port, 'GET /x HTTP/1.1\r\nhost: x\r\n\r\nGET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      expect(reply.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
      expect(server.failures).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('HttpServer hooks and close', () => {
  it('authorize: a Reply refuses the request before its route; undefined lets it through', async () => {
    let routed = 0;
    const server = new HttpServer({
      host: '127.0.0.1',
      port: 0,
      maxConnections: 8,
      headersTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      log: silentLogger,
      authorize: (req) => (req.query.get('key') === 'k' ? undefined : text(403, 'no\n')),
    });
    server.route('/x', () => (routed++, text(200, 'yes\n')));
    const { port } = await server.listen();
    try {
      const no = await fetch(`http://127.0.0.1:${port}/x`);
      expect([no.status, await no.text(), routed]).toEqual([403, 'no\n', 0]);
      const yes = await fetch(`http://127.0.0.1:${port}/x?key=k`);
      expect([yes.status, await yes.text(), routed]).toEqual([200, 'yes\n', 1]);
    } finally {
      await server.close();
    }
  });

  it('close stops listening: the port refuses connections after it', async () => {
    const server = new HttpServer({ host: '127.0.0.1', port: 0, maxConnections: 8, headersTimeoutMs: 5000, requestTimeoutMs: 5000, log: silentLogger });
    server.route('/x', () => text(200, 'yes\n'));
    const { port } = await server.listen();
    expect((await fetch(`http://127.0.0.1:${port}/x`)).status).toBe(200);
    await server.close();
    await expect(fetch(`http://127.0.0.1:${port}/x`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
  });
});

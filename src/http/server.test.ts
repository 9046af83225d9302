/** The HTTP server on its own: targets parsed without throwing, a failing route is that request's 500. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { HttpServer, text } from './server.js';
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
      expect((await at('/throws')).status).toBe(500);
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

/**
 * The process's HTTP server against hostile clients, through the real CLI
 * daemon: odd request targets sent raw over a socket (no client library
 * normalizes them), a connection flood past the cap, a client that never
 * finishes its headers. After each, the process still answers /healthz.
 * Once `GET //` made `new URL()` throw and the process exit 1.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, waitFor, type RunningDaemon } from './helpers/daemon.js';

/** Sends `bytes` on a fresh connection and resolves with everything the server wrote before closing. */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    s.on('data', (b) => got.push(b));
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
    s.write(bytes);
  });
}

const status = (response: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0);
const get = (target: string, method = 'GET') => `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

let daemon: RunningDaemon;
beforeAll(async () => {
  daemon = await startDaemon({ http: { max_connections: 4, header_timeout: '1s', request_timeout: '2s' } });
});
afterAll(async () => {
  if (daemon.proc.exitCode === null) await daemon.stop('SIGKILL');
});

describe('odd request targets', () => {
  // Each expected status worked out by hand: a path we do not serve is 404 (never resolved, so
  // `//`, `/../healthz` and `/%2e` are paths like any other); a target that is not origin- or
  // absolute-form is our 400; what Node's parser rejects (spaces, raw bytes, unknown methods,
  // a 20 kB target past the 16 KiB header limit) is its 400 or 431; absolute-form is served.
  const cases: [string, string | Buffer, number][] = [
    ['GET //', get('//'), 404],
    ['GET ///', get('///'), 404],
    ['GET //[', get('//['), 404],
    ['GET //:99999', get('//:99999'), 404],
    ['GET /\\\\', get('/\\\\'), 404],
    ['GET /\\', get('/\\'), 404],
    ['GET //metrics', get('//metrics'), 404],
    ['GET /../healthz', get('/../healthz'), 404],
    ['GET /%', get('/%'), 404],
    ['GET /%00', get('/%00'), 404],
    ['GET /%2e%2e/healthz', get('/%2e%2e/healthz'), 404],
    ['GET \\\\', get('\\\\'), 400],
    ['GET *', get('*'), 400],
    ['GET ?', get('?'), 400],
    ['GET healthz', get('healthz'), 400],
    ['GET http://[', get('http://['), 400],
    ['GET ftp://x/healthz', get('ftp://x/healthz'), 400],
    ['GET http://x/healthz (absolute-form)', get('http://x/healthz'), 200],
    ['GET http://x:99999/healthz', get('http://x:99999/healthz'), 200],
    ['GET http://x?', get('http://x?'), 404],
    ['GET /healthz?', get('/healthz?'), 200],
    ['GET /healthz#frag', get('/healthz#frag'), 200],
    ['GET /metrics?%zz&%', get('/metrics?%zz&%'), 200],
    ['GET /mirror/health?namespace=%E0%A4%A', get('/mirror/health?namespace=%E0%A4%A'), 200],
    ['POST /metrics', get('/metrics', 'POST'), 405],
    ['OPTIONS *', get('*', 'OPTIONS'), 405],
    ['GET /a b', get('/a b'), 400],
    ['GET /\\xff raw byte', Buffer.from('GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'), 400],
    ['FOO /', get('/', 'FOO'), 400],
    ['GET 20 kB target', get('/' + 'a'.repeat(20_000)), 431],
    ['garbage', 'GARBAGE\r\n\r\n', 400],
    ['NUL bytes', Buffer.alloc(64), 400],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400],
  ];

  it.each(cases)('%s → answered, the process stays up', async (_, bytes, expected) => {
    expect(status(await raw(daemon.port, bytes))).toBe(expected);
    expect((await daemon.get('/healthz')).status).toBe(200);
    expect(daemon.proc.exitCode).toBeNull();
  });

  it('serves every route of the process after all of them', async () => {
    expect(await daemon.get('/healthz')).toEqual({ status: 200, body: 'ok\n' });
    expect((await daemon.get('/metrics')).status).toBe(200);
    expect((await daemon.get('/mirror/health')).status).toBe(200);
  });
});

describe('limits', () => {
  it('closes connections past max_connections (4) and serves again once they go', async () => {
    const held: Socket[] = [];
    const closed: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const s = connect(daemon.port, '127.0.0.1');
      const n = i;
      closed[n] = false;
      s.on('close', () => (closed[n] = true));
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      held.push(s);
    }
    // 4 accepted, the 5th and 6th closed at accept
    await waitFor('the two extra sockets closed', () => closed[4] && closed[5]);
    expect(closed.slice(0, 4)).toEqual([false, false, false, false]);
    for (const s of held) s.destroy();
    await waitFor('served again', async () => (await daemon.get('/healthz')).status === 200);
  });

  it('answers 408 and closes a client that never finishes its headers (header_timeout 1s)', async () => {
    const response = await raw(daemon.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(status(response)).toBe(408);
    expect((await daemon.get('/healthz')).status).toBe(200);
  });
});

describe('prometheus.enabled: false', () => {
  it('keeps /healthz, /readyz and /mirror/health; only /metrics is gone', async () => {
    const d = await startDaemon({ prometheus: { enabled: false } });
    try {
      expect((await d.get('/healthz')).status).toBe(200);
      await waitFor('ready', async () => (await d.get('/readyz')).status === 200);
      expect((await d.get('/mirror/health')).status).toBe(200);
      expect((await d.get('/metrics')).status).toBe(404);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });
});

/**
 * The process's HTTP server. Components register routes (`/metrics` from
 * the Prometheus output, `/mirror/health` from the mirror, `/healthz` and
 * `/readyz` from the daemon); it runs whether or not Prometheus is enabled.
 *
 * Hardening, all here so no route has to think about it:
 * - the target is parsed without throwing (target.ts); a bad one is a 400;
 * - a route returns a Reply (or a promise of one) and never touches the
 *   socket; a throw or rejection is a 500 for that request only;
 * - open connections are capped (`maxConnections`: further sockets are
 *   closed by Node at accept), headers must arrive within `headersTimeoutMs`
 *   and a whole request within `requestTimeoutMs` (Node answers 408);
 * - malformed HTTP (Node's parser) gets a 400 and the socket is closed.
 *
 * `createServer` is called in one place (listen) so TLS can be added there,
 * and `authorize` is the one hook every request passes before its route.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log.js';
import type { WebSecurity } from './security/index.js';
import { parseTarget, type RequestTarget } from './target.js';

export interface Reply {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Request extends RequestTarget {
  readonly method: 'GET' | 'HEAD';
  readonly raw: IncomingMessage;
}

export type Route = (req: Request) => Reply | Promise<Reply>;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly log: Logger;
  /** Checked before every route; a Reply refuses the request. */
  readonly authorize?: (req: Request) => Reply | undefined;
  /** TLS, basic auth and headers from the web config (security/); plain HTTP without it. */
  readonly security?: WebSecurity;
}

const TEXT = 'text/plain; charset=utf-8';

export function text(status: number, body: string): Reply {
  return { status, contentType: TEXT, body };
}

export function json(status: number, body: unknown): Reply {
  return { status, contentType: 'application/json', body: JSON.stringify(body) + '\n' };
}

export class HttpServer {
  private readonly routes = new Map<string, Route>();
  private server: Server | undefined;
  /** Requests answered 500 because a route failed; logged, never fatal. */
  failures = 0;

  constructor(private readonly options: HttpServerOptions) {}

  /** Serve `path` (exact match). A second route on the same path is a programming error. */
  route(path: string, handler: Route): this {
    if (this.routes.has(path)) throw new Error(`HTTP route ${path} registered twice`);
    this.routes.set(path, handler);
    return this;
  }

  get paths(): string[] {
    return [...this.routes.keys()];
  }

  private handle(raw: IncomingMessage, res: ServerResponse): void {
    const send = (reply: Reply) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? TEXT, ...this.options.security?.headers, ...reply.headers });
      res.end(raw.method === 'HEAD' ? undefined : reply.body);
    };
    const fail = (err: unknown) => {
      this.failures++;
      this.options.log.error('HTTP request failed', { path: raw.url?.slice(0, 200), error: String(err) });
      if (res.headersSent) res.destroy();
      else send(text(500, 'internal error\n'));
    };
    try {
      if (raw.method !== 'GET' && raw.method !== 'HEAD') {
        send({ ...text(405, 'method not allowed\n'), headers: { allow: 'GET, HEAD' } });
        return;
      }
      const target = parseTarget(raw.url);
      if (!target) {
        send(text(400, 'bad request target\n'));
        return;
      }
      const req: Request = { ...target, method: raw.method, raw };
      const refused = this.options.authorize?.(req);
      if (refused) {
        send(refused);
        return;
      }
      const dispatch = () => {
        const route = this.routes.get(req.path);
        if (!route) {
          send(text(404, `not found: try ${this.paths.join(', ')}\n`));
          return;
        }
        const reply = route(req);
        if (reply instanceof Promise) reply.then(send, fail);
        else send(reply);
      };
      const security = this.options.security;
      if (security === undefined) dispatch();
      // Basic auth is async (bcrypt in slices), so a login never holds the event loop.
      else security.authorize(raw, req.path).then((no) => (no ? send(no) : dispatch()), fail);
    } catch (err) {
      fail(err);
    }
  }

  /** Resolves with the bound address once listening; rejects on EADDRINUSE etc. */
  listen(): Promise<AddressInfo> {
    const o = this.options;
    const serverOptions = {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      // How often Node checks the two timeouts above (default 30 s, longer than they may be).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, o.headersTimeoutMs / 2)),
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    // https with the web config's TLS, or plain http: chosen in security/ only.
    const server = o.security ? o.security.createServer(serverOptions, handler) : createServer(serverOptions, handler);
    server.maxConnections = o.maxConnections;
    server.keepAliveTimeout = Math.min(5000, o.requestTimeoutMs);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      // Malformed request line or headers, header overflow, timeouts: answer if we still can, then close.
      if (err.code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
        socket.destroy();
        return;
      }
      const [status, reason] =
        err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout'] : [400, 'Bad Request'];
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.options.security?.close();
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

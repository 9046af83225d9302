/**
 * The one HTTP server: /metrics (the PrometheusExporter's handler),
 * /healthz (the process answers), /readyz (inputs started), and routes other
 * parts add (/mirror/health). GET and HEAD only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

export interface JsonRouteResult {
  status: number;
  body: unknown;
}
export type JsonRoute = (query: URLSearchParams) => JsonRouteResult;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly exporter: PrometheusExporter;
  readonly ready: () => boolean;
  readonly jsonRoutes?: Readonly<Record<string, JsonRoute>>;
}

export class MetricsServer {
  private readonly server: Server;

  constructor(private readonly options: HttpServerOptions) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const text = (status: number, body: string) =>
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : body);
    switch (url.pathname) {
      case '/metrics':
        this.options.exporter.getMetricsRequestHandler(req, res);
        return;
      case '/healthz':
        text(200, 'ok\n');
        return;
      case '/readyz':
        if (this.options.ready()) text(200, 'ready\n');
        else text(503, 'starting\n');
        return;
      default: {
        const route = this.options.jsonRoutes?.[url.pathname];
        if (!route) {
          text(404, 'not found: try /metrics, /healthz, /readyz\n');
          return;
        }
        const { status, body } = route(url.searchParams);
        res.writeHead(status, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify(body) + '\n');
      }
    }
  }

  /** Resolves with the bound address once listening; rejects on EADDRINUSE etc. */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

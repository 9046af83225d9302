/**
 * Endpoint security from an exporter-toolkit web config: the seam through
 * which the process's HTTP server gets TLS and basic auth.
 *
 * - `createServer(handler)` makes an `https` server when the config has
 *   `tls_server_config`, else a plain `http` one (the only place that choice
 *   is made);
 * - `authorize(req)` is the check every request passes before its route:
 *   a refusal (401 with `WWW-Authenticate: Basic`) or undefined;
 * - `headers` are the `http_server_config.headers` to add to every answer.
 *
 * Certificates, key and client CA are re-read when their files change
 * (cert-manager rotates a Secret by swapping a symlink: stat follows it), and
 * a pair that does not load keeps the previous one serving.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions as HttpServerOptions } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions } from 'node:https';
import { createSecureContext, type TLSSocket } from 'node:tls';
import type { Logger } from '../../log.js';
import { BasicAuth } from './basic-auth.js';
import type { WebConfig } from './web-config.js';

export { loadWebConfig, parseWebConfig, WebConfigError, type WebConfig } from './web-config.js';
export { BasicAuth, parseBasic } from './basic-auth.js';

export interface Refusal {
  readonly status: number;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface WebSecurityOptions {
  readonly config: WebConfig;
  readonly log: Logger;
  /** Paths answered without credentials (kubelet probes); default /healthz and /readyz. */
  readonly openPaths?: readonly string[];
  /** How often the certificate files are looked at (stat). */
  readonly reloadIntervalMs?: number;
}

export class WebSecurity {
  private readonly auth: BasicAuth;
  private readonly openPaths: ReadonlySet<string>;
  private readonly watched: string[] = [];
  private server: HttpsServer | undefined;
  /** Certificate reloads that took effect; failed reloads are logged and keep the old certificate. */
  reloads = 0;

  constructor(private readonly options: WebSecurityOptions) {
    this.auth = new BasicAuth({ users: options.config.users });
    this.openPaths = new Set(options.openPaths ?? ['/healthz', '/readyz']);
  }

  get tls(): boolean {
    return this.options.config.tls !== undefined;
  }

  /** How many users basic auth knows (0: no auth). */
  get users(): number {
    return this.options.config.users.size;
  }

  get headers(): Readonly<Record<string, string>> {
    return this.options.config.headers;
  }

  private tlsOptions(): ServerOptions {
    const t = this.options.config.tls!;
    const type = t.clientAuthType;
    return {
      cert: readFileSync(t.certFile),
      key: readFileSync(t.keyFile),
      ...(t.clientCaFile ? { ca: readFileSync(t.clientCaFile) } : {}),
      minVersion: t.minVersion,
      ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
      requestCert: type !== 'NoClientCert',
      // Only this type lets Node refuse the handshake itself; the others are checked on secureConnection.
      rejectUnauthorized: type === 'RequireAndVerifyClientCert',
    };
  }

  /** An https server with the web config's TLS, or a plain http one. */
  createServer(options: HttpServerOptions, handler: RequestListener): Server | HttpsServer {
    const tls = this.options.config.tls;
    if (!tls) return createHttpServer(options, handler);
    const server = createHttpsServer({ ...options, ...this.tlsOptions() }, handler);
    const type = tls.clientAuthType;
    if (type === 'RequireAnyClientCert' || type === 'VerifyClientCertIfGiven') {
      server.on('secureConnection', (socket: TLSSocket) => {
        const cert = socket.getPeerCertificate();
        const given = cert !== null && Object.keys(cert).length > 0;
        if ((type === 'RequireAnyClientCert' && !given) || (type === 'VerifyClientCertIfGiven' && given && !socket.authorized)) socket.destroy();
      });
    }
    this.server = server;
    this.watch();
    return server;
  }

  private watch(): void {
    const t = this.options.config.tls!;
    const files = [t.certFile, t.keyFile, ...(t.clientCaFile ? [t.clientCaFile] : [])];
    const interval = this.options.reloadIntervalMs ?? 5000;
    for (const file of files) {
      watchFile(file, { interval, persistent: false }, (cur, prev) => {
        if (cur.mtimeMs !== prev.mtimeMs || cur.ino !== prev.ino || cur.size !== prev.size) this.reload();
      });
      this.watched.push(file);
    }
  }

  /** Load the files again; a pair that does not fit (mid-rotation) keeps the old one until the next change. */
  reload(): void {
    if (!this.server) return;
    try {
      const opts = this.tlsOptions();
      createSecureContext(opts); // throws on a key that does not match its certificate
      this.server.setSecureContext(opts);
      this.reloads++;
      this.options.log.info('TLS certificate reloaded', { cert_file: this.options.config.tls!.certFile });
    } catch (err) {
      this.options.log.warn('TLS certificate not reloaded; the previous one stays', { error: (err as Error).message.slice(0, 200) });
    }
  }

  /** undefined: go on to the route. A Refusal: answer it. */
  async authorize(req: IncomingMessage, path: string): Promise<Refusal | undefined> {
    if (!this.auth.enabled || this.openPaths.has(path)) return undefined;
    if (await this.auth.check(req.headers.authorization)) return undefined;
    return {
      status: 401,
      contentType: 'text/plain; charset=utf-8',
      headers: { 'www-authenticate': 'Basic', ...this.headers },
      body: 'Unauthorized\n',
    };
  }

  close(): void {
    for (const file of this.watched.splice(0)) unwatchFile(file);
  }
}

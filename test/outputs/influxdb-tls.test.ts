/**
 * The InfluxDB output over TLS against a real influxd 1.6 with
 * `https-enabled` and auth: the CA from `tls.ca_file`, the password from
 * `password_file` (a mounted Secret with its trailing newline). An untrusted
 * certificate is refused (retry, never written); skip-verify writes with a
 * warning. Certificates are made by `openssl` in the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { InfluxWriter } from '../../src/outputs/influxdb/client.js';
import { createInfluxOutput } from '../../src/outputs/influxdb/index.js';
import { HistogramProducer } from '../../src/metrics/provider.js';
import { MetricRegistry } from '../../src/metrics/series.js';
import { makeCerts, type TestCerts } from '../helpers/certs.js';
import { freePort, INFLUXD, waitFor } from './servers.js';

const PASSWORD = 'influx-tls-pw-7be21c';
let certs: TestCerts;
let child: ChildProcess;
let dir: string;
let url: string;

function post(path: string, body: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: 'POST',
        ca: readFileSync(certs.caCert),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
      },
      (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
const admin = 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64');
const query = async (q: string) => JSON.parse((await post('/query?db=quay', new URLSearchParams({ q }).toString(), admin)).body);

beforeAll(async () => {
  certs = makeCerts();
  dir = mkdtempSync(join(tmpdir(), 'qle-influxd-tls-'));
  const port = await freePort();
  const rpc = await freePort();
  writeFileSync(
    join(dir, 'influxdb.conf'),
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  auth-enabled = true
  log-enabled = false
  https-enabled = true
  https-certificate = "${certs.serverCert}"
  https-private-key = "${certs.serverKey}"
`,
  );
  url = `https://127.0.0.1:${port}`;
  child = spawn(INFLUXD, ['run', '-config', join(dir, 'influxdb.conf')], { stdio: ['ignore', 'ignore', 'ignore'] });
  // With no user yet, influxd lets this one statement through without auth.
  await waitFor('influxd over https', async () => (await post('/query', new URLSearchParams({ q: `CREATE USER admin WITH PASSWORD '${PASSWORD}' WITH ALL PRIVILEGES` }).toString())).status === 200);
  await query('CREATE DATABASE quay');
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function influxConfig(extra: Record<string, unknown>) {
  return configSchema.parse({ outputs: { influxdb: { url, database: 'quay', username: 'admin', ...extra } } }).outputs.influxdb!;
}

describe('InfluxDB output over TLS', () => {
  it('writes over https with the CA from tls.ca_file and the password from password_file', async () => {
    const secret = join(dir, 'password');
    writeFileSync(secret, `${PASSWORD}\n`);
    // Through the loader, as `run` reads it: the file path is checked and made absolute.
    const cfgDir = mkdtempSync(join(tmpdir(), 'qle-influx-cfg-'));
    writeFileSync(join(cfgDir, 'ca.crt'), readFileSync(certs.caCert));
    const config = parseConfig(
      { outputs: { influxdb: { url, database: 'quay', username: 'admin', password_file: secret, tls: { ca_file: 'ca.crt' } } } },
      'test',
      {},
      cfgDir,
    ).outputs.influxdb!;
    expect(config.tls!.ca_file).toBe(join(cfgDir, 'ca.crt'));
    const writer = new InfluxWriter(config);
    expect(await writer.send(['tls_probe value=7 1700000000000'])).toEqual({ kind: 'ok' });
    const r = await query('SELECT value FROM tls_probe');
    // One point, value 7.
    expect(r.results[0].series[0].values.map((v: unknown[]) => v[1])).toEqual([7]);
  });

  it('an untrusted certificate is a retry, never a write; skip-verify writes and warns', async () => {
    const untrusted = new InfluxWriter(influxConfig({ password: PASSWORD, tls: { ca_file: certs.otherCaCert } }));
    const res = await untrusted.send(['tls_untrusted value=1 1700000000000']);
    expect(res.kind).toBe('retry');
    expect(JSON.stringify(res)).not.toContain(PASSWORD);
    expect((await query('SELECT value FROM tls_untrusted')).results[0].series).toBeUndefined();

    const lines: string[] = [];
    const registry = new MetricRegistry();
    const out = createInfluxOutput(influxConfig({ password: PASSWORD, tls: { insecure_skip_verify: true } }), {
      registry,
      producer: new HistogramProducer(registry),
      log: createLogger('info', (l) => lines.push(l)),
    });
    out.events.emit({ measurement: 'tls_skip', time: 1_700_000_000_000, tags: {}, fields: { value: 3 } });
    await out.shutdown();
    expect((await query('SELECT value FROM tls_skip')).results[0].series[0].values.map((v: unknown[]) => v[1])).toEqual([3]);
    expect(lines.join('')).toContain('insecure_skip_verify');
    expect(lines.join('')).not.toContain(PASSWORD);
  });

  it('presents tls.cert_file/key_file to a server that requires a client certificate (influxd 1.x does not ask for one)', async () => {
    // A loopback https server standing in for a TLS-terminating proxy in front of InfluxDB: it verifies the client against the CA.
    const seen: string[] = [];
    const server = createHttpsServer(
      { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert), ca: readFileSync(certs.caCert), requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        seen.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const proxy = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const tls = { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey };
      const withCert = new InfluxWriter(configSchema.parse({ outputs: { influxdb: { url: proxy, database: 'quay', tls } } }).outputs.influxdb!);
      expect(await withCert.send(['m value=1'])).toEqual({ kind: 'ok' });
      expect(seen).toEqual(['client']);
      const without = new InfluxWriter(configSchema.parse({ outputs: { influxdb: { url: proxy, database: 'quay', tls: { ca_file: certs.caCert } } } }).outputs.influxdb!);
      expect((await without.send(['m value=1'])).kind).toBe('retry');
      expect(seen).toEqual(['client']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('check-config keys: password and password_file, token_file with a username, unreadable files, a lone client cert', () => {
    const problems = (influxdb: Record<string, unknown>) => {
      try {
        parseConfig({ outputs: { influxdb: { url, database: 'quay', ...influxdb } } }, 'cfg', {}, dir);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(problems({ password: 'x', password_file: 'p' })).toContain('outputs.influxdb: give password or password_file, not both');
    expect(problems({ username: 'u', token_file: 't' })).toContain('outputs.influxdb: give either token or username/password, not both');
    expect(problems({ tls: { cert_file: 'c' } })).toContain('outputs.influxdb.tls: give cert_file and key_file together');
    expect(problems({ token_file: 'no-such-token' })).toContain(`outputs.influxdb.token_file: cannot read ${join(dir, 'no-such-token')} (ENOENT)`);
  });
});

/**
 * Endpoint security with real parts: certificates made by `openssl`, a
 * server made by WebSecurity from an exporter-toolkit web config, and
 * Prometheus 2.42's own scrape client (basic_auth, tls_config) as the
 * scraper. Right credentials over a trusted certificate scrape; a wrong
 * password, no credentials, or an untrusted certificate fail the scrape.
 *
 * The server is the real daemon (`run` with `http.web_config_file`).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startDaemon, type RunningDaemon } from './helpers/daemon.js';
import { makeCerts, type TestCerts } from './helpers/certs.js';
import { startPrometheus, waitFor, type Prometheus } from './outputs/servers.js';
import { FIXTURE, promApi } from './deploy/scrape-stack.js';

const PASSWORD = 'scrape-pass-9c1e77f0';
const WRONG = 'wrong-pass-41d2aa';
let certs: TestCerts;
let daemon: RunningDaemon;
let port: number;
let prom: Prometheus;

function get(path: string, opts: { ca?: string; auth?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, ca: readFileSync(opts.ca ?? certs.caCert), agent: false, headers: opts.auth ? { authorization: opts.auth } : {} },
      (res) => {
        let body = '';
        res.on('data', (b: Buffer) => (body += b.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
const basic = (user: string, pw: string) => 'Basic ' + Buffer.from(`${user}:${pw}`).toString('base64');

beforeAll(async () => {
  certs = makeCerts();
  const hash = await bcrypt.hash(PASSWORD, 10);
  // Served from copies, so the rotation test can replace them.
  copyFileSync(certs.serverCert, join(certs.dir, 'serving.crt'));
  copyFileSync(certs.serverKey, join(certs.dir, 'serving.key'));
  // The web config as a user writes it: relative paths are relative to it.
  const webFile = join(certs.dir, 'web.yml');
  writeFileSync(
    webFile,
    `tls_server_config:\n  cert_file: serving.crt\n  key_file: serving.key\nhttp_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\nbasic_auth_users:\n  prometheus: ${hash}\n`,
  );
  const log = join(certs.dir, 'quay.log');
  copyFileSync(FIXTURE, log);
  daemon = await startDaemon({ inputs: [{ paths: [log], start_at: 'beginning', source: 'supervisord' }], http: { web_config_file: webFile } }, certs.dir);
  port = daemon.port;
  const job = (name: string, extra: string) => `  - job_name: ${name}\n    scheme: https\n    static_configs: [{targets: ['127.0.0.1:${port}']}]\n${extra}`;
  writeFileSync(join(certs.dir, 'good-password'), PASSWORD);
  prom = await startPrometheus(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
${job('good', `    tls_config: {ca_file: ${certs.caCert}}\n    basic_auth: {username: prometheus, password_file: ${join(certs.dir, 'good-password')}}\n`)}
${job('wrong-password', `    tls_config: {ca_file: ${certs.caCert}}\n    basic_auth: {username: prometheus, password: ${WRONG}}\n`)}
${job('no-credentials', `    tls_config: {ca_file: ${certs.caCert}}\n`)}
${job('untrusted', `    tls_config: {ca_file: ${certs.otherCaCert}}\n    basic_auth: {username: prometheus, password: ${PASSWORD}}\n`)}
`);
}, 60_000);

afterAll(async () => {
  await prom?.destroy();
  if (daemon && daemon.proc.exitCode === null) await daemon.stop('SIGKILL');
});

interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}

describe('TLS + basic auth, scraped by Prometheus 2.42', () => {
  it('scrapes with the right password over the trusted certificate, and refuses the rest', async () => {
    // Until each job's last scrape was answered (a busy machine may time out a first scrape while bcrypt runs).
    let last: Target[] = [];
    const targets = await waitFor('all four targets answered', async () => {
      last = (await promApi<{ activeTargets: Target[] }>(prom, 'targets')).activeTargets;
      const timedOut = last.some((x) => x.health === 'unknown' || /deadline|timeout/i.test(x.lastError));
      return last.length === 4 && !timedOut ? last : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(last.map((t) => [t.labels.job, t.health, t.lastError]))}`);
    });
    const by = Object.fromEntries(targets.map((t) => [t.labels.job, t]));
    expect(by.good!.health).toBe('up');
    expect(by['wrong-password']!.health).toBe('down');
    expect(by['wrong-password']!.lastError).toContain('401');
    expect(by['no-credentials']!.health).toBe('down');
    expect(by['no-credentials']!.lastError).toContain('401');
    expect(by.untrusted!.health).toBe('down');
    expect(by.untrusted!.lastError).toMatch(/x509|certificate/);
    // The exporter's numbers arrived through the good job only: 35 lines of the fixture (see replay.test.ts).
    await waitFor('35 lines scraped', async () => {
      const r = await promApi<{ result: { metric: { job: string }; value: [number, string] }[] }>(prom, 'query', { query: 'sum by (job) (quay_log_exporter_lines_total)' });
      return r.result.length === 1 && r.result[0]!.metric.job === 'good' && r.result[0]!.value[1] === '35';
    });
  });

  it('401 with WWW-Authenticate: Basic; probes open; the web config headers on answers', async () => {
    const no = await get('/metrics');
    expect(no.status).toBe(401);
    expect(no.headers['www-authenticate']).toBe('Basic');
    expect(no.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/metrics', { auth: basic('prometheus', WRONG) })).status).toBe(401);
    expect((await get('/metrics', { auth: basic('nobody', PASSWORD) })).status).toBe(401);
    const ok = await get('/metrics', { auth: basic('prometheus', PASSWORD) });
    expect(ok.status).toBe(200);
    // The exporter's metrics, and no password among them.
    expect(ok.body).toContain('quay_log_exporter_lines_total');
    expect(ok.body).not.toContain(PASSWORD);
    expect(ok.body).not.toContain(WRONG);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    // kubelet probes carry no credentials.
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
  });

  it('bcrypt once per credential pair (cached); an unknown user is compared too (against the dummy hash)', async () => {
    const auth = new (await import('../src/http/security/basic-auth.js')).BasicAuth({
      users: new Map([['prometheus', await bcrypt.hash(PASSWORD, 4)]]),
    });
    // 3 checks, 1 computation: two concurrent + one later, same pair.
    const [a, b] = await Promise.all([auth.check(basic('prometheus', PASSWORD)), auth.check(basic('prometheus', PASSWORD))]);
    expect([a, b, await auth.check(basic('prometheus', PASSWORD))]).toEqual([true, true, true]);
    expect(auth.computed).toBe(1);
    // Unknown user: refused after a real comparison (computed 2), like a known user with a wrong password (3).
    expect(await auth.check(basic('mallory', PASSWORD))).toBe(false);
    expect(auth.computed).toBe(2);
    expect(await auth.check(basic('prometheus', WRONG))).toBe(false);
    expect(auth.computed).toBe(3);
    // Malformed headers are refused without any computation.
    expect(await auth.check('Bearer x')).toBe(false);
    expect(await auth.check('Basic ' + Buffer.from('no-colon').toString('base64'))).toBe(false);
    expect(auth.computed).toBe(3);
  });

  it('re-reads a rotated certificate without a restart', async () => {
    // cert-manager's rotation in miniature: new key and certificate, from another CA, written over the served files.
    const next = makeCerts();
    await expect(get('/healthz', { ca: next.caCert })).rejects.toThrow();
    copyFileSync(next.serverKey, join(certs.dir, 'serving.key'));
    copyFileSync(next.serverCert, join(certs.dir, 'serving.crt'));
    await waitFor('the new certificate served', async () => (await get('/healthz', { ca: next.caCert })).status === 200);
    expect(daemon.stderr()).toContain('TLS certificate reloaded');
    // The old CA no longer verifies it.
    await expect(get('/healthz', { ca: certs.caCert })).rejects.toThrow();
  });

  it('no password in any log line', () => {
    const all = daemon.stderr();
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(WRONG);
  });
});

describe('http.web_config_file in check-config', () => {
  it('a plain password is refused with its key path, exit 2, and is not echoed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-webcfg-'));
    writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: ${PASSWORD}\n`);
    writeFileSync(join(dir, 'config.yaml'), 'http:\n  web_config_file: web.yml\n');
    const r = await runCli(['check-config', join(dir, 'config.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`http.web_config_file (${join(dir, 'web.yml')}): basic_auth_users.prometheus: not a bcrypt hash`);
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    // A hash is accepted.
    writeFileSync(join(dir, 'web.yml'), `basic_auth_users:\n  prometheus: ${await bcrypt.hash(PASSWORD, 4)}\n`);
    expect((await runCli(['check-config', join(dir, 'config.yaml')])).code).toBe(0);
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeCerts } from '../../../test/helpers/certs.js';
import { promtool } from '../../../test/outputs/servers.js';
import { loadWebConfig, parseWebConfig, WebConfigError } from './web-config.js';

const EXAMPLE = fileURLToPath(new URL('../../../deploy/prometheus/web-config.example.yml', import.meta.url));
const HASH = '$2b$10$1Wa3paOB1siFntXfEK1G2u88cgOlDBR0AGx0qgTkHqeGNSiMT.tAa';

function problems(raw: unknown, file = '/etc/qle/web.yml'): string[] {
  try {
    parseWebConfig(raw, file);
  } catch (err) {
    if (err instanceof WebConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('web config (exporter-toolkit format)', () => {
  it('refuses a plain password, naming the user and never the password', () => {
    const p = problems({ basic_auth_users: { prometheus: 'hunter2-plain-secret', grafana: HASH } });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^basic_auth_users\.prometheus: not a bcrypt hash/);
    expect(p.join('\n')).not.toContain('hunter2-plain-secret');
    // A hash one character short is not a hash either.
    expect(problems({ basic_auth_users: { a: HASH.slice(0, -1) } })[0]).toMatch(/^basic_auth_users\.a:/);
  });

  it('reads users, headers and TLS with the toolkit defaults', () => {
    const certs = makeCerts();
    const dir = certs.dir;
    const file = join(dir, 'web.yml');
    writeFileSync(
      file,
      `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_ca_file: ca.crt\nhttp_server_config:\n  headers:\n    x-frame-options: deny\nbasic_auth_users:\n  prometheus: ${HASH}\n`,
    );
    const c = loadWebConfig(file);
    // Relative to the web config file; a client CA without a type means RequireAndVerifyClientCert; TLS 1.2 minimum.
    expect(c.tls).toEqual({
      certFile: certs.serverCert,
      keyFile: certs.serverKey,
      clientCaFile: certs.caCert,
      clientAuthType: 'RequireAndVerifyClientCert',
      minVersion: 'TLSv1.2',
    });
    expect(c.headers).toEqual({ 'X-Frame-Options': 'deny' });
    expect([...c.users]).toEqual([['prometheus', HASH]]);
  });

  it('names each key that is wrong', () => {
    const p = problems({
      tls_server_config: { cert_file: '/nonexistent/c.crt', client_auth_type: 'VerifyClientCertIfGiven', min_version: 'TLS13', max_version: 'TLS12' },
      http_server_config: { headers: { 'X-Powered-By': 'me', 'X-Content-Type-Options': 'sniff' } },
    });
    expect(p).toEqual([
      'tls_server_config.key_file: required with tls_server_config',
      'tls_server_config.client_ca_file: required with client_auth_type VerifyClientCertIfGiven',
      'tls_server_config.max_version: TLS12 is below min_version TLS13',
      'tls_server_config.cert_file: cannot read /nonexistent/c.crt (ENOENT)',
      'http_server_config.headers.X-Powered-By: not a header the web config can set (Content-Security-Policy, X-Frame-Options, X-Content-Type-Options, X-XSS-Protection, Strict-Transport-Security)',
      'http_server_config.headers.X-Content-Type-Options: invalid value "sniff"',
    ]);
    expect(problems({ tls_server_config: { cert_file: 'a', key_file: 'b', client_auth_type: 'Sometimes' } })[0]).toMatch(/^tls_server_config\.client_auth_type:/);
    expect(problems({ basic_auth: {} })).toEqual(['(top): unknown key(s): basic_auth']);
  });

  it('the shipped example is accepted by promtool check web-config and by our loader', () => {
    const certs = makeCerts();
    // The example's paths are the Kubernetes mount; here the same file points at certificates made for the test.
    const text = readFileSync(EXAMPLE, 'utf8').replaceAll('/etc/quay-log-exporter-tls/tls.crt', certs.serverCert).replaceAll('/etc/quay-log-exporter-tls/tls.key', certs.serverKey);
    const file = join(mkdtempSync(join(tmpdir(), 'qle-web-')), 'web-config.yml');
    writeFileSync(file, text);
    const r = promtool(['check', 'web-config', file]);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
    const c = loadWebConfig(file);
    expect(c.users.has('prometheus')).toBe(true);
    expect(c.tls?.certFile).toBe(certs.serverCert);
    // And promtool, like us, refuses a plain password.
    writeFileSync(file, text.replace(/prometheus: \$2b\$.*/, 'prometheus: example-password-change-me'));
    expect(promtool(['check', 'web-config', file]).status).not.toBe(0);
    expect(() => loadWebConfig(file)).toThrow(/basic_auth_users\.prometheus: not a bcrypt hash/);
  });
});

describe('web config: the rules, one at a time', () => {
  const certs = makeCerts();
  const pair = { cert_file: certs.serverCert, key_file: certs.serverKey };

  it('a missing cert_file is named (and no TLS is made of the key alone)', () => {
    expect(problems({ tls_server_config: { key_file: certs.serverKey } })).toEqual(['tls_server_config.cert_file: required with tls_server_config']);
  });

  it('RequireAndVerifyClientCert without a client CA; a client CA with a type that does not use it', () => {
    expect(problems({ tls_server_config: { ...pair, client_auth_type: 'RequireAndVerifyClientCert' } })).toEqual([
      'tls_server_config.client_ca_file: required with client_auth_type RequireAndVerifyClientCert',
    ]);
    for (const type of ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert']) {
      expect(problems({ tls_server_config: { ...pair, client_auth_type: type, client_ca_file: certs.caCert } })).toEqual([`tls_server_config.client_ca_file: not used with client_auth_type ${type}`]);
    }
    // and the types that need no CA are fine without one; VerifyClientCertIfGiven with one too
    for (const type of ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert']) expect(problems({ tls_server_config: { ...pair, client_auth_type: type } })).toEqual([]);
    expect(problems({ tls_server_config: { ...pair, client_auth_type: 'VerifyClientCertIfGiven', client_ca_file: certs.caCert } })).toEqual([]);
  });

  it('without a client CA or a type: NoClientCert; max_version equal to min_version is fine', () => {
    const c = parseWebConfig({ tls_server_config: { ...pair, min_version: 'TLS13', max_version: 'TLS13' } }, '/x/web.yml');
    expect(c.tls).toEqual({ certFile: certs.serverCert, keyFile: certs.serverKey, clientAuthType: 'NoClientCert', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    // max below the default min (TLS12)
    expect(problems({ tls_server_config: { ...pair, max_version: 'TLS11' } })).toEqual(['tls_server_config.max_version: TLS11 is below min_version TLS12']);
  });

  it('a bad hash under basic_auth_users of the wrong type names the user, never the value', () => {
    const p = problems({ basic_auth_users: { prometheus: 12345678 } });
    expect(p).toEqual(['basic_auth_users.prometheus: expected a bcrypt hash']);
    // other zod messages are kept
    expect(problems({ http_server_config: { headers: 'nosniff' } })[0]).toMatch(/^http_server_config\.headers: (?!expected a bcrypt hash)/);
  });

  it('the error message: the file, then each problem on its own line', () => {
    expect(() => parseWebConfig({ basic_auth: {}, x: 1 }, '/etc/web.yml')).toThrow('/etc/web.yml: invalid web configuration\n  - (top): unknown key(s): basic_auth, x');
    let message = '';
    try {
      parseWebConfig({ basic_auth_users: { a: 'x', b: 'y' } }, '/etc/web.yml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      '/etc/web.yml: invalid web configuration',
      '  - basic_auth_users.a: not a bcrypt hash (make one with "htpasswd -nBC 10 a"; plain passwords are refused)',
      '  - basic_auth_users.b: not a bcrypt hash (make one with "htpasswd -nBC 10 b"; plain passwords are refused)',
    ]);
  });

  it('a YAML error gives its line only (the line may hold a password); an unreadable file its code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-web-'));
    const file = join(dir, 'web.yml');
    writeFileSync(file, 'basic_auth_users:\n  prometheus: "secret-pass\n');
    let message = '';
    try {
      loadWebConfig(file);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^.*web\.yml: invalid web configuration\n {2}- YAML syntax error at line \d+/);
    expect(message).not.toContain('secret-pass');
    expect(() => loadWebConfig(join(dir, 'absent.yml'))).toThrow(/cannot read the file: ENOENT/);
    // an empty file is an empty config
    writeFileSync(file, '');
    expect(loadWebConfig(file)).toEqual({ headers: {}, users: new Map() });
  });
});

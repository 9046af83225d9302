/**
 * The web configuration file of the Prometheus exporter-toolkit
 * (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md),
 * the format Prometheus, node_exporter and the other Go exporters read:
 * `tls_server_config`, `http_server_config.headers` and `basic_auth_users`.
 * Validated here, so a bad file is refused with its key path before the
 * server starts; passwords must be bcrypt hashes (a plain one is refused).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

export const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;
const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [TlsVersionName, ...TlsVersionName[]]);

/** $2a$, $2b$, $2y$ (the toolkit's Go bcrypt reads all three), cost, 53 characters of salt and hash. */
export const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** The headers the toolkit lets a web config set, and what it accepts for some of them. */
const HEADERS: Record<string, RegExp | undefined> = {
  'Content-Security-Policy': undefined,
  'X-Frame-Options': /^(deny|sameorigin)$/i,
  'X-Content-Type-Options': /^nosniff$/i,
  'X-XSS-Protection': undefined,
  'Strict-Transport-Security': undefined,
};

const schema = z.strictObject({
  tls_server_config: z
    .strictObject({
      cert_file: z.string().min(1).optional(),
      key_file: z.string().min(1).optional(),
      client_auth_type: z.enum(CLIENT_AUTH_TYPES).optional(),
      client_ca_file: z.string().min(1).optional(),
      min_version: tlsVersion.optional(),
      max_version: tlsVersion.optional(),
      // Accepted so a file written for the Go exporters loads; Node chooses ciphers and curves itself.
      cipher_suites: z.array(z.string()).optional(),
      curve_preferences: z.array(z.string()).optional(),
      prefer_server_cipher_suites: z.boolean().optional(),
    })
    .optional(),
  http_server_config: z
    .strictObject({
      http2: z.boolean().optional(),
      headers: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  basic_auth_users: z.record(z.string().min(1), z.string()).nullish(),
});

export interface WebConfig {
  readonly tls?: {
    readonly certFile: string;
    readonly keyFile: string;
    readonly clientAuthType: ClientAuthType;
    readonly clientCaFile?: string;
    readonly minVersion: (typeof TLS_VERSIONS)[TlsVersionName];
    readonly maxVersion?: (typeof TLS_VERSIONS)[TlsVersionName];
  };
  readonly headers: Readonly<Record<string, string>>;
  /** user → bcrypt hash. */
  readonly users: ReadonlyMap<string, string>;
}

export class WebConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid web configuration\n` + problems.map((p) => `  - ${p}`).join('\n'));
  }
}

const rank = (v: TlsVersionName) => Object.keys(TLS_VERSIONS).indexOf(v);

/** Parse and check a web config document; file paths in it are relative to the file. Never echoes a password. */
export function parseWebConfig(raw: unknown, file: string): WebConfig {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    throw new WebConfigError(
      file,
      result.error.issues.map((i) => {
        const path = i.path.map(String).join('.');
        // A zod message may quote the value; under basic_auth_users that could be a password.
        const message = i.code === 'unrecognized_keys' ? `unknown key(s): ${i.keys.join(', ')}` : i.path[0] === 'basic_auth_users' ? 'expected a bcrypt hash' : i.message;
        return `${path || '(top)'}: ${message}`;
      }),
    );
  }
  const c = result.data;
  const problems: string[] = [];
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  let tls: WebConfig['tls'];
  const t = c.tls_server_config;
  if (t) {
    if (!t.cert_file) problems.push('tls_server_config.cert_file: required with tls_server_config');
    if (!t.key_file) problems.push('tls_server_config.key_file: required with tls_server_config');
    // The toolkit's rule: a client CA without a type means the client certificate is required and verified.
    const type = t.client_auth_type ?? (t.client_ca_file ? 'RequireAndVerifyClientCert' : 'NoClientCert');
    if ((type === 'VerifyClientCertIfGiven' || type === 'RequireAndVerifyClientCert') && !t.client_ca_file) {
      problems.push(`tls_server_config.client_ca_file: required with client_auth_type ${type}`);
    }
    if (t.client_ca_file && (type === 'NoClientCert' || type === 'RequestClientCert' || type === 'RequireAnyClientCert')) {
      problems.push(`tls_server_config.client_ca_file: not used with client_auth_type ${type}`);
    }
    const min = t.min_version ?? 'TLS12';
    if (t.max_version && rank(t.max_version) < rank(min)) problems.push(`tls_server_config.max_version: ${t.max_version} is below min_version ${min}`);
    for (const [k, path] of [['cert_file', t.cert_file], ['key_file', t.key_file], ['client_ca_file', t.client_ca_file]] as const) {
      if (!path) continue;
      try {
        readFileSync(abs(path));
      } catch (err) {
        problems.push(`tls_server_config.${k}: cannot read ${abs(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (t.cert_file && t.key_file) {
      tls = {
        certFile: abs(t.cert_file),
        keyFile: abs(t.key_file),
        clientAuthType: type,
        ...(t.client_ca_file ? { clientCaFile: abs(t.client_ca_file) } : {}),
        minVersion: TLS_VERSIONS[min],
        ...(t.max_version ? { maxVersion: TLS_VERSIONS[t.max_version] } : {}),
      };
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(c.http_server_config?.headers ?? {})) {
    const known = Object.keys(HEADERS).find((h) => h.toLowerCase() === name.toLowerCase());
    if (!known) {
      problems.push(`http_server_config.headers.${name}: not a header the web config can set (${Object.keys(HEADERS).join(', ')})`);
      continue;
    }
    const allowed = HEADERS[known];
    if (allowed && !allowed.test(value)) problems.push(`http_server_config.headers.${name}: invalid value "${value}"`);
    headers[known] = value;
  }
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(c.basic_auth_users ?? {})) {
    // Never print the value: it is meant to be a hash, but a user may have put the password itself there.
    if (!BCRYPT_HASH.test(hash)) problems.push(`basic_auth_users.${user}: not a bcrypt hash (make one with "htpasswd -nBC 10 ${user}"; plain passwords are refused)`);
    else users.set(user, hash);
  }
  if (problems.length > 0) throw new WebConfigError(file, problems);
  return { ...(tls ? { tls } : {}), headers, users };
}

export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WebConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  const doc = parseDocument(text);
  // A YAML error message quotes the line, which may hold a password: only its position is given.
  if (doc.errors.length > 0) throw new WebConfigError(file, doc.errors.map((e) => `YAML syntax error at line ${e.linePos?.[0]?.line ?? '?'}`));
  return parseWebConfig(doc.toJS(), file);
}

/**
 * Reads a YAML config, substitutes `${VAR}` / `${VAR:-default}` from the
 * environment (as Telegraf does, so pod and host tags can come from the
 * Downward API), and validates it. Every problem is reported with the key
 * path it concerns, e.g. `inputs[0].start_at`.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { loadWebConfig, WebConfigError } from '../http/security/web-config.js';
import { configSchema, type Config } from './schema.js';
import { ConfigError } from './error.js';

export { ConfigError };

/** `inputs[0].start_at` from ['inputs', 0, 'start_at']. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replace `${VAR}` and `${VAR:-default}` in every string of the parsed document. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, missing: string[], path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      missing.push(`${formatKeyPath(path)}: environment variable ${name} is not set and has no default (\${${name}:-default})`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, missing, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // A key left empty (or holding only comments) in YAML is null: it means "the default".
    for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = substituteEnv(v, env, missing, [...path, k]);
    return out;
  }
  return value;
}

function zodProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatKeyPath(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
    return `${path}: ${message}`;
  });
}

/** Validate an already parsed object; `origin` names it in errors. */
export function parseConfig(raw: unknown, origin = '(config)', env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): Config {
  const problems: string[] = [];
  const substituted = substituteEnv(raw ?? {}, env, problems);
  if (problems.length > 0) throw new ConfigError(origin, problems);
  const result = configSchema.safeParse(substituted);
  if (!result.success) throw new ConfigError(origin, zodProblems(result.error));
  const config = result.data;
  problems.push(...crossCheck(config));
  if (problems.length > 0) throw new ConfigError(origin, problems);
  // Relative paths are relative to the config file, as a user reading it expects.
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.state_dir = abs(config.state_dir);
  config.grok.pattern_files = config.grok.pattern_files.map(abs);
  for (const input of config.inputs) {
    input.paths = input.paths.map(abs);
    const fwd = input.forward;
    if (fwd?.unix_path) fwd.unix_path = abs(fwd.unix_path);
    if (fwd?.tls) fwd.tls = { ...fwd.tls, cert_file: abs(fwd.tls.cert_file), key_file: abs(fwd.tls.key_file), ca_file: fwd.tls.ca_file && abs(fwd.tls.ca_file) };
  }
  if (config.http.web_config_file !== undefined) {
    const file = (config.http.web_config_file = abs(config.http.web_config_file));
    try {
      loadWebConfig(file);
    } catch (err) {
      if (!(err instanceof WebConfigError)) throw err;
      throw new ConfigError(origin, err.problems.map((p) => `http.web_config_file (${file}): ${p}`));
    }
  }
  const influx = config.outputs.influxdb;
  if (influx) {
    const missing: string[] = [];
    for (const k of ['password_file', 'token_file'] as const) {
      if (influx[k] !== undefined) missing.push(...unreadable(`outputs.influxdb.${k}`, (influx[k] = abs(influx[k]))));
    }
    for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
      if (influx.tls?.[k] !== undefined) missing.push(...unreadable(`outputs.influxdb.tls.${k}`, (influx.tls[k] = abs(influx.tls[k]))));
    }
    if (missing.length > 0) throw new ConfigError(origin, missing);
  }
  const otlp = config.outputs.otlp;
  if (otlp) {
    for (const value of Object.values(otlp.headers)) if (typeof value !== 'string') value.file = abs(value.file);
    if (otlp.tls) for (const k of ['ca_file', 'cert_file', 'key_file'] as const) if (otlp.tls[k] !== undefined) otlp.tls[k] = abs(otlp.tls[k]);
    // Read at start: a missing secret or certificate is a config error, not a crash later.
    const missing: string[] = [];
    for (const [name, value] of Object.entries(otlp.headers)) {
      if (typeof value !== 'string') missing.push(...unreadable(`outputs.otlp.headers.${name}.file`, value.file));
    }
    for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
      const path = otlp.tls?.[k];
      if (path !== undefined) missing.push(...unreadable(`outputs.otlp.tls.${k}`, path));
    }
    if (missing.length > 0) throw new ConfigError(origin, missing);
  }
  const fwdTls = config.outputs.records?.forward?.tls;
  if (fwdTls) {
    const missing: string[] = [];
    for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
      if (fwdTls[k] !== undefined) missing.push(...unreadable(`outputs.records.forward.tls.${k}`, (fwdTls[k] = abs(fwdTls[k]))));
    }
    if (missing.length > 0) throw new ConfigError(origin, missing);
  }
  return config;
}

/** A file the config names that cannot be read: its key path and the reason (never its content). */
function unreadable(keyPath: string, path: string): string[] {
  try {
    accessSync(path, constants.R_OK);
    return [];
  } catch (err) {
    return [`${keyPath}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`];
  }
}

/** Rules that span several keys, which the schema alone cannot say. */
function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  config.inputs.forEach((input, i) => {
    const at = `inputs[${i}]`;
    if (input.type === 'file' && input.paths.length === 0) problems.push(`${at}.paths: a file input needs at least one path or glob`);
    if (input.type === 'stdin' && input.paths.length > 0) problems.push(`${at}.paths: a stdin input takes no paths`);
    if (input.type === 'forward' && input.paths.length > 0) problems.push(`${at}.paths: a forward input takes no paths`);
    if (input.type !== 'forward' && input.forward) problems.push(`${at}.forward: only for type: forward`);
    if (input.type === 'forward' && input.framing !== 'raw') problems.push(`${at}.framing: a forward input receives whole records, not framed bytes`);
    if (input.type === 'forward' && input.multiline) problems.push(`${at}.multiline: not supported on a forward input (join lines upstream, e.g. Fluent Bit's multiline.parser python)`);
    if (input.type !== 'stdin' && input.format !== 'text') problems.push(`${at}.format: only a stdin input reads json or msgpack records`);
    if (input.type === 'stdin' && input.format !== 'text' && (input.framing !== 'raw' || input.multiline)) {
      problems.push(`${at}.format: json/msgpack records are whole lines; drop framing and multiline`);
    }
    const name = input.name ?? `${input.type}-${i}`;
    if (names.has(name)) problems.push(`${at}.name: "${name}" is used by another input`);
    names.add(name);
    input.name = name;
    const ml = input.multiline;
    if (ml) {
      if (!ml.preset && !ml.pattern) problems.push(`${at}.multiline: give either "preset" or "pattern"`);
      if (ml.preset && ml.pattern) problems.push(`${at}.multiline: give "preset" or "pattern", not both`);
      if (ml.pattern) {
        try {
          new RegExp(ml.pattern);
        } catch (err) {
          problems.push(`${at}.multiline.pattern: ${(err as Error).message}`);
        }
      }
    }
  });
  if (config.inputs.filter((i) => i.type === 'stdin').length > 1) problems.push('inputs: only one input can read stdin');
  config.mirror.failure_reasons.forEach((r, i) => {
    try {
      new RegExp(r.match, 'i');
    } catch (err) {
      problems.push(`mirror.failure_reasons[${i}].match: ${(err as Error).message}`);
    }
  });
  const influxCfg = config.outputs.influxdb;
  if (influxCfg) {
    if (influxCfg.password !== undefined && influxCfg.password_file !== undefined) problems.push('outputs.influxdb: give password or password_file, not both');
    if (influxCfg.token !== undefined && influxCfg.token_file !== undefined) problems.push('outputs.influxdb: give token or token_file, not both');
    if ((influxCfg.token ?? influxCfg.token_file) !== undefined && (influxCfg.username ?? influxCfg.password ?? influxCfg.password_file) !== undefined) {
      problems.push('outputs.influxdb: give either token or username/password, not both');
    }
    const t = influxCfg.tls;
    if (t && (t.cert_file === undefined) !== (t.key_file === undefined)) problems.push('outputs.influxdb.tls: give cert_file and key_file together');
  }
  const otlpTls = config.outputs.otlp?.tls;
  if (otlpTls && (otlpTls.cert_file === undefined) !== (otlpTls.key_file === undefined)) {
    problems.push('outputs.otlp.tls: give cert_file and key_file together');
  }
  const fwdTls = config.outputs.records?.forward?.tls;
  if (fwdTls && (fwdTls.cert_file === undefined) !== (fwdTls.key_file === undefined)) {
    problems.push('outputs.records.forward.tls: give cert_file and key_file together');
  }
  return problems;
}

/** Load and validate a YAML config file. Throws ConfigError. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  }
  let raw: unknown;
  try {
    // yaml's own guard: an alias expanded past 100× the document is refused ("billion laughs").
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(file, [`YAML: ${(err as Error).message}`]);
  }
  return parseConfig(raw, file, env, dirname(resolve(file)));
}

/** The defaults alone: what runs when no config is given. */
export function defaultConfig(): Config {
  return parseConfig({});
}

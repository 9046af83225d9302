import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from './load.js';

function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(raw, 'test.yaml', env, '/etc/qle');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseConfig', () => {
  it('fills every default', () => {
    const c = parseConfig({ inputs: [{ paths: ['/var/log/quay/*.log'] }] }, 't', {}, '/etc/qle');
    expect(c.state_dir).toBe('/var/lib/quay-log-exporter');
    expect(c.prometheus.listen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(c.inputs[0]).toMatchObject({
      type: 'file',
      name: 'file-0',
      source: 'supervisord',
      start_at: 'saved-or-end',
      framing: 'raw',
      max_line_bytes: 1048576,
      poll_interval: 250,
      rescan_interval: 5000,
      checkpoint_interval: 1000,
    });
    expect(c.slow_transfer).toEqual({ min_bytes: 1048576, max_bytes_per_second: 1048576 });
    expect(c.limits.max_series_per_metric).toBe(10000);
    expect(c.mirror.idle_gap).toBe(600_000);
    expect(c.mirror.stale_after).toBe(900_000);
  });

  it('resolves relative paths against the config file', () => {
    const c = parseConfig({ state_dir: 'state', inputs: [{ paths: ['logs/*.log'] }], grok: { pattern_files: ['p/extra.grok'] } }, 't', {}, '/etc/qle');
    expect(c.state_dir).toBe('/etc/qle/state');
    expect(c.inputs[0]!.paths).toEqual(['/etc/qle/logs/*.log']);
    expect(c.grok.pattern_files).toEqual(['/etc/qle/p/extra.grok']);
  });

  it('names the key path of each problem', () => {
    expect(problems({ inputs: [{ paths: ['a'], start_at: 'middle' }] })).toEqual([
      'inputs[0].start_at: Invalid option: expected one of "beginning"|"end"|"saved-or-beginning"|"saved-or-end"',
    ]);
    expect(problems({ prometheus: { listen: 'localhost:99999' } })).toEqual(['prometheus.listen: expected "host:port" or a port, got "localhost:99999"']);
    expect(problems({ inputs: [{ paths: ['a'], poll_interval: 'soon' }] })).toEqual([
      'inputs[0].poll_interval: expected a duration such as "250ms", "5s", "10m" or a number of seconds',
    ]);
    expect(problems({ outputs: { influxdb: { url: 'http://127.0.0.1:8086', database: 'quay', batchsize: 5 } } })).toEqual([
      'outputs.influxdb: unknown key(s): batchsize',
    ]);
  });

  it('checks rules that span keys', () => {
    expect(problems({ inputs: [{ type: 'file' }] })).toEqual(['inputs[0].paths: a file input needs at least one path or glob']);
    expect(problems({ inputs: [{ paths: ['a'], name: 'x' }, { paths: ['b'], name: 'x' }] })).toEqual(['inputs[1].name: "x" is used by another input']);
    expect(problems({ inputs: [{ paths: ['a'], multiline: { pattern: '(' } }] })[0]).toMatch(/^inputs\[0\]\.multiline\.pattern: Invalid regular expression/);
    expect(problems({ mirror: { failure_reasons: [{ reason: 'quota', match: '[' }] } })[0]).toMatch(/^mirror\.failure_reasons\[0\]\.match: /);
  });

  it('substitutes environment variables, with defaults', () => {
    const c = parseConfig(
      { outputs: { influxdb: { url: 'http://127.0.0.1:8086', database: 'quay', tags: { pod: '${POD_NAME}', zone: '${ZONE:-eu-1}' } } } },
      't',
      { POD_NAME: 'quay-app-7d9f' },
    );
    expect(c.outputs.influxdb!.tags).toEqual({ pod: 'quay-app-7d9f', zone: 'eu-1' });
    expect(problems({ state_dir: '${NOPE}' })).toEqual(['state_dir: environment variable NOPE is not set and has no default (${NOPE:-default})']);
  });
});

describe('loadConfig', () => {
  it('reports YAML syntax errors and unreadable files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-config-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'inputs:\n  - paths: [a\n');
    expect(() => loadConfig(bad)).toThrow(/YAML/);
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/cannot read the file: ENOENT/);
  });
});

describe('records inputs (forward, stdin json/msgpack)', () => {
  it('a forward input gets port 24224 and message_key log by default; its files resolve against the config', () => {
    const c = parseConfig({ inputs: [{ type: 'forward', forward: { unix_path: 'fwd.sock', tls: { cert_file: 'c.pem', key_file: 'k.pem' } } }] }, 't', {}, '/etc/qle');
    expect(c.inputs[0]!.forward).toMatchObject({
      listen: { host: '0.0.0.0', port: 24224 },
      unix_path: '/etc/qle/fwd.sock',
      tls: { cert_file: '/etc/qle/c.pem', key_file: '/etc/qle/k.pem' },
      max_frame_bytes: 16 * 1024 * 1024,
      max_connections: 256,
    });
    expect(c.inputs[0]).toMatchObject({ name: 'forward-0', message_key: 'log', format: 'text' });
  });

  it('names the key path of every misplaced setting', () => {
    expect(
      problems({
        inputs: [
          { type: 'forward', paths: ['/x'], multiline: { preset: 'python-traceback' }, forward: { security: {} } },
          { type: 'file', paths: ['/y'], format: 'json', forward: {} },
          { type: 'stdin', format: 'yaml' },
        ],
      }),
    ).toEqual([
      'inputs[0].forward.security.shared_key: Invalid input: expected string, received undefined',
      'inputs[2].format: Invalid option: expected one of "text"|"json"|"msgpack"',
    ]);
    expect(problems({ inputs: [{ type: 'forward', paths: ['/x'], multiline: { preset: 'python-traceback' } }, { type: 'file', paths: ['/y'], format: 'json', forward: {} }] })).toEqual([
      'inputs[0].paths: a forward input takes no paths',
      'inputs[0].multiline: not supported on a forward input (join lines upstream, e.g. Fluent Bit\'s multiline.parser python)',
      'inputs[1].forward: only for type: forward',
      'inputs[1].format: only a stdin input reads json or msgpack records',
    ]);
  });
});

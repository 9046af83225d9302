/**
 * Configuration is validated once, the same way everywhere: for each bad
 * config, `check-config` and `run` (real CLI) both exit 2 with the same
 * message naming the key path, and neither prints a stack trace. Each row
 * was a config that check-config once called ok and `run` then refused with
 * a stack trace, or ran and misbehaved (durations of 0 or ≥ 2^31 ms fired
 * every 1 ms), or a YAML alias bomb that ended in a stack trace.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'qle-config-'));

/** A YAML "billion laughs": 9 × 9^11 expansions of one alias. */
function aliasBomb(): string {
  let s = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
  for (let i = 1; i <= 11; i++) s += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]\n`;
  return s;
}

const base = `state_dir: ${dir}/state\nprometheus: {listen: "127.0.0.1:0"}\n`;
const input = (extra: string) => `${base}inputs: [{paths: [${dir}/quay.log], ${extra}}]\n`;

// [name, YAML, text the message must contain]
const cases: [string, string, string][] = [
  ['max_line_bytes 1e10', input('max_line_bytes: 1e10'), 'inputs[0].max_line_bytes: Too big: expected number to be <=67108864'],
  ['multiline.max_bytes 0', input('multiline: {preset: python-traceback, max_bytes: 0}'), 'inputs[0].multiline.max_bytes: Too small'],
  ['an ftp:// InfluxDB URL', `${base}outputs: {influxdb: {url: "ftp://influx/", database: q}}\n`, 'outputs.influxdb.url: expected http:// or https://, got "ftp://"'],
  ['%zz in URL userinfo', `${base}outputs: {influxdb: {url: "http://u%zz:pw@influx:8086", database: q}}\n`, 'outputs.influxdb.url: the user or password in the URL has a malformed %-escape'],
  ['not a URL', `${base}outputs: {influxdb: {url: "//influx:8086", database: q}}\n`, 'outputs.influxdb.url: not a URL'],
  ['listen "foo bar:1"', 'prometheus: {listen: "foo bar:1"}\n', 'prometheus.listen: expected "host:port" or a port, got "foo bar:1"'],
  ['listen port 70000', 'http: {listen: "127.0.0.1:70000"}\n', 'http.listen: expected "host:port" or a port, got "127.0.0.1:70000"'],
  ['poll_interval 0', input('poll_interval: 0'), 'inputs[0].poll_interval: expected a duration from 1ms to 2147483647ms'],
  ['checkpoint_interval 0ms', input('checkpoint_interval: 0ms'), 'inputs[0].checkpoint_interval: expected a duration from 1ms'],
  ['rescan_interval 2^31 ms', input('rescan_interval: 2147483648ms'), 'inputs[0].rescan_interval: expected a duration from 1ms to 2147483647ms'],
  ['influxdb interval 25 days', `${base}outputs: {influxdb: {url: "http://i:8086", database: q, interval: 600h}}\n`, 'outputs.influxdb.interval: expected a duration'],
  ['mirror idle_gap "soon"', `${base}mirror: {idle_gap: soon}\n`, 'mirror.idle_gap: expected a duration such as'],
  ['queue_size 1e9', `${base}outputs: {influxdb: {url: "http://i:8086", database: q, queue_size: 1e9}}\n`, 'outputs.influxdb.queue_size: Too big'],
  ['max_series_per_metric 0', `${base}limits: {max_series_per_metric: 0}\n`, 'limits.max_series_per_metric: Too small'],
  ['http.max_connections 0', `${base}http: {max_connections: 0}\n`, 'http.max_connections: Too small'],
  ['pipeline.threads 0', `${base}pipeline: {threads: 0}\n`, 'pipeline.threads: Too small: expected number to be >=1'],
  ['pipeline.threads 1.5', `${base}pipeline: {threads: 1.5}\n`, 'pipeline.threads: Invalid input: expected int, received number'],
  ['pipeline.threads "auto"', `${base}pipeline: {threads: auto}\n`, 'pipeline.threads: Invalid input: expected number, received string'],
  ['forward output tls cert without key', `${base}outputs: {records: {forward: {tls: {cert_file: ${dir}/c.pem}}}}\n`, 'outputs.records.forward.tls: give cert_file and key_file together'],
  ['forward output tls ca_file missing', `${base}outputs: {records: {forward: {tls: {ca_file: ${dir}/no-such-ca.pem}}}}\n`, `outputs.records.forward.tls.ca_file: cannot read ${dir}/no-such-ca.pem (ENOENT)`],
  ['a YAML alias bomb', aliasBomb(), 'YAML: Excessive alias count'],
  ['a multiline pattern that is no RegExp', input('multiline: {pattern: "(["}'), 'inputs[0].multiline.pattern: Invalid regular expression'],
  ['an inline grok pattern using an unknown pattern', `${base}grok: {patterns: {QUAY_NGINX_ACCESS: "%{NO_SUCH:x}"}}\n`, 'unknown pattern "NO_SUCH" used in pattern QUAY_NGINX_ACCESS'],
];

describe.each(cases)('%s', (name, yaml, message) => {
  const file = join(dir, `${name.replace(/\W+/g, '_')}.yaml`);
  writeFileSync(file, yaml);
  it.each([['check-config', file], ['run', '--config', file]])('%s: exit 2, the message, no stack trace', async (...args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});

/**
 * deploy/fluent: each Fluent Bit / Fluentd configuration is read (with small
 * readers of their formats, below) for the fields the exporter relies on, and
 * the exporter is started exactly as the files show, fed the records those
 * senders write.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FluentClient } from '@fluent-org/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { compileTagSources, tagPattern } from '../../src/inputs/records.js';
import { CLI, runCli } from '../helpers/cli.js';
import { parseExposition, sum } from '../helpers/exposition.js';
import { freePort, waitFor } from '../helpers/wait.js';
import { FIXTURE_LINES } from '../fixtures/quay-supervisord.counts.js';

const DIR = fileURLToPath(new URL('../../deploy/fluent/', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/quay-supervisord.log', import.meta.url));
const LINES = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
/** A Quay pod's container log, as the tail inputs see it. */
const CONTAINER_LOG = '/var/log/containers/quay-app-0_quay_quay-app-0123abcd.log';
/** Fluent Bit's tail and Fluentd's in_tail expand a "*" in the tag to the file's path with '/' as '.'. */
const tailTag = (tag: string, path = CONTAINER_LOG) => tag.replace('*', path.replaceAll('/', '.').replace(/^\./, ''));
/** Fluent Bit's Match: "*" is any run of characters (dots included), unlike Fluentd's. */
const fluentBitMatch = (pattern: string, tag: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(tag);

// ---- Fluent Bit's classic format: [SECTION] then "Key Value" lines; keys are case-insensitive ----
interface BitSection {
  name: string;
  props: Record<string, string>;
}
function parseFluentBit(text: string): BitSection[] {
  const out: BitSection[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[([A-Z_]+)\]$/.exec(line);
    if (section) {
      out.push({ name: section[1]!, props: {} });
      continue;
    }
    const kv = /^(\S+)\s+(.+)$/.exec(line);
    if (!kv || out.length === 0) throw new Error(`fluent-bit: cannot read "${line}"`);
    out.at(-1)!.props[kv[1]!.toLowerCase()] = kv[2]!;
  }
  return out;
}

// ---- Fluentd's format: <directive arg> … </directive>, nested, and "key value" lines ----
interface Directive {
  name: string;
  arg: string;
  params: Record<string, string>;
  children: Directive[];
}
function parseFluentd(text: string): Directive[] {
  const root: Directive = { name: 'root', arg: '', params: {}, children: [] };
  const stack = [root];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const close = /^<\/(\w+)>$/.exec(line);
    if (close) {
      const d = stack.pop()!;
      if (d.name !== close[1]) throw new Error(`fluentd: </${close[1]}> closes <${d.name}>`);
      continue;
    }
    const open = /^<(\w+)\s*([^>]*)>$/.exec(line);
    if (open) {
      const d: Directive = { name: open[1]!, arg: open[2]!.trim(), params: {}, children: [] };
      stack.at(-1)!.children.push(d);
      stack.push(d);
      continue;
    }
    const kv = /^(@?\w+)\s+(.+)$/.exec(line);
    if (!kv) throw new Error(`fluentd: cannot read "${line}"`);
    stack.at(-1)!.params[kv[1]!] = kv[2]!;
  }
  if (stack.length !== 1) throw new Error(`fluentd: <${stack.at(-1)!.name}> not closed`);
  return root.children;
}
const child = (d: Directive, name: string) => d.children.find((c) => c.name === name)!;

// ---- the exporter, started as the files show ----
const running: { kill(): void; exitCode: number | null }[] = [];
afterEach(() => {
  for (const p of running.splice(0)) if (p.exitCode === null) p.kill();
});

async function runExporter(config: string, env: Record<string, string>) {
  const proc = spawn(process.execPath, [CLI, 'run', '--config', join(DIR, config)], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  running.push({ kill: () => proc.kill('SIGKILL'), get exitCode() { return proc.exitCode; } });
  let err = '';
  proc.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const metricsPort = await waitFor('serving metrics', () => Number(/"msg":"serving metrics","address":"[^"]*:(\d+)"/.exec(err)?.[1]) || undefined);
  await waitFor('forward listening', () => err.includes('forward input listening'));
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return { scrape };
}

const withoutInputSeries = (text: string) =>
  text
    .split('\n')
    .filter((l) => !/quay_log_exporter_(input_bytes_total|records_\w+|forward_\w+)/.test(l))
    .join('\n');

describe('deploy/fluent', () => {
  const forwardYaml = parseYaml(read('exporter-forward.yaml')) as { inputs: { message_key: string; forward: { listen: string; security: { shared_key: string } } }[] };
  const messageKey = (env: Record<string, string>) => loadConfig(join(DIR, 'exporter-forward.yaml'), env).inputs[0]!.message_key;

  it('fluent-bit.conf sends to the exporter of exporter-forward.yaml, which counts its records as replay counts the lines', async () => {
    const sections = parseFluentBit(read('fluent-bit.conf'));
    const input = sections.find((s) => s.name === 'INPUT')!.props;
    const output = sections.find((s) => s.name === 'OUTPUT')!.props;
    expect(output['name']).toBe('forward');
    // the port the exporter listens on by default, and the same shared key variable on both sides
    expect(forwardYaml.inputs[0]!.forward.listen).toBe('${FORWARD_LISTEN:-0.0.0.0:24224}');
    expect(output['port']).toBe('24224');
    expect(output['shared_key']).toBe('${FLUENT_SHARED_KEY}');
    expect(forwardYaml.inputs[0]!.forward.security.shared_key).toBe('${FLUENT_SHARED_KEY}');
    expect(output['require_ack_response']).toBe('On');
    // the tag names the container's file: each container is a stream of its own in the exporter
    const tag = tailTag(input['tag']!);
    expect(tag).toBe('quay.supervisord.var.log.containers.quay-app-0_quay_quay-app-0123abcd.log');
    // Match covers the tail's tag, and the CRI parser puts the line where the exporter reads it
    expect(fluentBitMatch(output['match']!, tag)).toBe(true);
    expect(input['multiline.parser']).toBe('cri');

    const port = await freePort();
    const env = { FORWARD_LISTEN: `127.0.0.1:${port}`, METRICS_LISTEN: '127.0.0.1:0', FLUENT_SHARED_KEY: 's3cret', STATE_DIR: mkdtempSync(join(tmpdir(), 'qle-fb-')) };
    const config = loadConfig(join(DIR, 'exporter-forward.yaml'), env);
    // Fluent Bit's cri parser: the line in "log", the exporter's default
    expect(config.inputs[0]!.message_key).toBe('log');
    // the tail's tag selects the supervisord source
    expect(compileTagSources(config.inputs[0]!.tag_sources, config.inputs[0]!.source)(tag)).toBe('supervisord');
    // replay first: it takes seconds on a loaded machine, while the sender's connection must stay open
    const replayed = (await runCli(['replay', FIXTURE])).stdout;
    const exporter = await runExporter('exporter-forward.yaml', env);
    // as Fluent Bit sends with Compress gzip: CompressedPackedForward, with its Self_Hostname and acks
    const client = new FluentClient(tag, {
      eventMode: output['compress'] === 'gzip' ? 'CompressedPackedForward' : 'Forward',
      socket: { host: '127.0.0.1', port, disableReconnect: true, timeout: 600_000 },
      security: { clientHostname: output['self_hostname']!, sharedKey: 's3cret' },
      ack: { ackTimeout: 10_000 },
    });
    await client.connect();
    await Promise.all(LINES.map((line) => client.emit({ log: line + '\n', stream: 'stdout', time: '2026-11-22T10:15:32Z' })));
    await waitFor('every line', async () => sum(parseExposition(await exporter.scrape()), 'quay_log_exporter_lines_total') === FIXTURE_LINES);
    // compared while the stream is open, as a followed file is
    expect(withoutInputSeries(await exporter.scrape())).toBe(withoutInputSeries(replayed));
    await client.disconnect();
  });

  it('fluentd-forward.conf: <match> with @type forward to the same exporter, acks on, the shared key from the environment', async () => {
    const top = parseFluentd(read('fluentd-forward.conf'));
    const source = top.find((d) => d.name === 'source')!;
    const match = top.find((d) => d.name === 'match')!;
    const tag = tailTag(source.params['tag']!);
    expect(tag).toBe('quay.supervisord.var.log.containers.quay-app-0_quay_quay-app-0123abcd.log');
    expect(tagPattern(match.arg).test(tag)).toBe(true);
    expect(child(source, 'parse').params['@type']).toBe('cri');
    const store = match.children.find((c) => c.name === 'store' && c.params['@type'] === 'forward')!;
    expect(store.params['require_ack_response']).toBe('true');
    expect(child(store, 'server').params['port']).toBe('24224');
    expect(child(store, 'security').params['shared_key']).toBe('"#{ENV[\'FLUENT_SHARED_KEY\']}"');

    const port = await freePort();
    // as the file says: FLUENT_MESSAGE_KEY=message for the cri parser's "message"
    expect(read('fluentd-forward.conf')).toContain('FLUENT_MESSAGE_KEY=message');
    const env = { FORWARD_LISTEN: `127.0.0.1:${port}`, METRICS_LISTEN: '127.0.0.1:0', FLUENT_SHARED_KEY: 'k', FLUENT_MESSAGE_KEY: 'message', STATE_DIR: mkdtempSync(join(tmpdir(), 'qle-fd-')) };
    expect(messageKey(env)).toBe('message');
    const exporter = await runExporter('exporter-forward.yaml', env);
    const client = new FluentClient(tag, {
      eventMode: store.params['compress'] === 'gzip' ? 'CompressedPackedForward' : 'PackedForward',
      socket: { host: '127.0.0.1', port, disableReconnect: true },
      security: { clientHostname: child(store, 'security').params['self_hostname']!, sharedKey: 'k' },
      ack: { ackTimeout: 10_000 },
    });
    await client.connect();
    await Promise.all(LINES.map((line) => client.emit({ message: line, stream: 'stdout', logtag: 'F' })));
    await client.disconnect();
    await waitFor('every record', async () => sum(parseExposition(await exporter.scrape()), 'quay_log_exporter_records_received_total', { source: 'supervisord' }) === FIXTURE_LINES);
  });

  it('fluentd-exec-filter.conf: the command it runs reads <format> json and writes what <parse> json reads', async () => {
    const top = parseFluentd(read('fluentd-exec-filter.conf'));
    const filter = top.find((d) => d.name === 'match' && d.params['@type'] === 'exec_filter')!;
    expect(child(filter, 'format').params['@type']).toBe('json');
    expect(child(filter, 'parse').params['@type']).toBe('json');
    // the records it re-emits are matched by the next <match>
    expect(top.some((d) => d.name === 'match' && tagPattern(d.arg).test(filter.params['tag']!))).toBe(true);
    const [program, ...args] = filter.params['command']!.split(/\s+/);
    expect(program).toBe('quay-log-exporter');
    const configAt = args.indexOf('--config') + 1;
    expect(args[configAt]).toBe('/etc/quay-log-exporter/exporter-exec-filter.yaml');
    args[configAt] = join(DIR, 'exporter-exec-filter.yaml');
    // Fluentd's json formatter: one object per line, the cri parser's record
    const stdin = LINES.map((line) => JSON.stringify({ message: line, stream: 'stdout', logtag: 'F' }) + '\n').join('');
    const proc = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, METRICS_LISTEN: '127.0.0.1:0', STATE_DIR: mkdtempSync(join(tmpdir(), 'qle-ef-')) },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    proc.stdin.end(stdin);
    expect(await new Promise((r) => proc.on('close', r))).toBe(0);
    const records = out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { message?: string; logtag?: string; quay: Record<string, unknown> });
    // 35 lines with their original keys + 7 events (see test/fluent/records.test.ts)
    expect(LINES).toHaveLength(FIXTURE_LINES);
    expect(records).toHaveLength(42);
    expect(records.filter((r) => r.message !== undefined).map((r) => r.message)).toEqual(LINES);
    expect(records.filter((r) => r.message !== undefined).every((r) => r.logtag === 'F' && typeof r.quay.source === 'string')).toBe(true);
  });
});

/**
 * Start-up loads only what the command and the config use (issue 16): the OTLP exporters (gRPC over
 * Node's http2, protobuf) cost ~0.1 s of CPU to load, so `--version`, `replay` and `check-config`
 * of a config without `outputs.otlp` must not load them. Node's own list of the built-in modules a
 * process loaded (process.moduleLoadList) shows it from outside: only @grpc/grpc-js loads `http2`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/log.js';
import { loadOutputModules, Pipeline } from '../src/pipeline.js';
import { CLI } from './helpers/cli.js';

/** Prints, at exit, the built-in modules loaded, as one JSON line on stderr. */
const REPORT = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nLOADED '+JSON.stringify(process.moduleLoadList)+'\\n'))`;

function run(args: string[]): Promise<{ code: number | null; stdout: string; loaded: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REPORT, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = err.split('\n').find((l) => l.startsWith('LOADED '));
      resolve({ code, stdout: out, loaded: line ? (JSON.parse(line.slice(7)) as string[]) : [] });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'qle-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('start-up loads no unused output', () => {
  it('--version, replay and check-config without outputs.otlp never load http2 (the OTLP gRPC exporter)', async () => {
    const log = join(dir, 'tiny.log');
    // One nginx access line: 1 request counted.
    writeFileSync(log, 'nginx stdout | 10.0.0.1 () - - [30/Nov/2026:10:00:00 +0000] "GET /v2/ HTTP/1.1" 200 4 "-" "docker/24" (0.001 23 0.001)\n');
    const config = join(dir, 'c.yaml');
    writeFileSync(config, 'log_level: warn\n');
    const version = await run(['--version']);
    expect(version.stdout).toBe('0.1.0\n');
    const replay = await run(['replay', '--config', config, log]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('quay_log_exporter_lines_total{source="nginx",result="matched"} 1');
    const check = await run(['check-config', config]);
    expect(check.code).toBe(0);
    for (const r of [version, replay, check]) {
      // The report itself ran: Node's bootstrap modules are in every list.
      expect(r.loaded).toContain('NativeModule fs');
      expect(r.loaded).not.toContain('NativeModule http2');
    }
  });
});

describe('the bundle: what only some commands import is in chunks of its own', () => {
  it('dist/cli.js holds replay and none of the daemon or gRPC (OTLP) code; its chunks hold them; the worker is one file', () => {
    // esbuild writes a "// <path>" comment before each module it bundles (build/bundle.mjs).
    const dist = dirname(CLI);
    const cli = readFileSync(CLI, 'utf8');
    const chunks = readdirSync(dist).filter((f) => f.startsWith('cli-chunk-')).map((f) => readFileSync(join(dist, f), 'utf8'));
    expect(cli).toContain('\n// dist/replay.js\n');
    expect(cli).not.toContain('\n// dist/daemon.js\n');
    expect(cli).not.toContain('node_modules/@grpc/grpc-js/build/src/');
    expect(chunks.filter((c) => c.includes('\n// dist/daemon.js\n'))).toHaveLength(1);
    expect(chunks.filter((c) => c.includes('node_modules/@grpc/grpc-js/build/src/'))).toHaveLength(1);
    // The replay worker imports nothing later: one file, with no YAML reader and no config schema (ShareSetup.rules).
    const worker = readFileSync(join(dist, 'threads', 'worker.js'), 'utf8');
    expect(worker).not.toMatch(/from ["']\.\.?\//);
    expect(worker).not.toContain('node_modules/yaml/');
    expect(worker).not.toContain('node_modules/zod/');
  });
});

describe('Pipeline.create: output modules loaded for what the config names', () => {
  const otlp = { outputs: { otlp: { protocol: 'http/json', endpoint: 'http://127.0.0.1:9/v1/metrics', timeout: '1s', shutdown_timeout: '1s' } } };

  it('loads OTLP only when outputs.otlp is there; records not for replay (records: false)', async () => {
    const none = await loadOutputModules(parseConfig({ state_dir: dir }).outputs);
    expect([none.influxdb, none.otlp, none.records]).toEqual([undefined, undefined, undefined]);
    const config = parseConfig({ state_dir: dir, ...otlp, outputs: { ...otlp.outputs, records: { stdout: {} } } });
    const withOtlp = await loadOutputModules(config.outputs);
    expect(typeof withOtlp.otlp?.createOtlpOutput).toBe('function');
    expect(withOtlp.influxdb).toBeUndefined();
    const p = await Pipeline.create(config, { log: silentLogger, records: false });
    expect(p.otlp).toBeDefined();
    expect(p.records).toBeUndefined();
    await p.shutdown(); // nothing listens on port 9: the final export gives up after shutdown_timeout
  });

  it('new Pipeline with outputs.otlp but no modules says how to build it, instead of running without the output', () => {
    expect(() => new Pipeline(parseConfig({ state_dir: dir, ...otlp }), { log: silentLogger })).toThrow(
      'outputs.otlp is configured but its module was not loaded: build the pipeline with Pipeline.create',
    );
  });
});

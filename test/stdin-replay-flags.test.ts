/**
 * Through the real CLI: `replay`'s --source and --framing (bad values refused
 * with exit 2 and the valid ones named; good values change how lines are
 * read), and a stdin input's partial last line handed over after
 * partial_line_timeout while the pipe stays open.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers/cli.js';
import { family, parseExposition, value } from './helpers/exposition.js';
import { waitFor } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'qle-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ACCESS = '10.0.0.1 (-) - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.1" 200 1570 "-" "docker/24.0.7" (0.045 380 0.044)';

describe('replay --source / --framing', () => {
  it('refuses an unknown --source with exit 2, naming the valid sources, and reads nothing', async () => {
    const r = await runCli(['replay', '--source', 'apache', '-'], { input: ACCESS + '\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--source: expected one of supervisord, nginx, gunicorn, repomirrorworker, gcworker, oc-mirror, got "apache"');
    expect(r.stdout).toBe('');
  });

  it('refuses an unknown --framing with exit 2, naming raw, cri and docker', async () => {
    const r = await runCli(['replay', '--framing', 'json', '-'], { input: ACCESS + '\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--framing: expected raw, cri or docker, got "json"');
    expect(r.stdout).toBe('');
  });

  it('refuses --source or --framing without a value (exit 2)', async () => {
    for (const flag of ['--source', '--framing']) {
      const r = await runCli(['replay', '-', flag]);
      expect([flag, r.code]).toEqual([flag, 2]);
    }
  });

  it('--source nginx reads bare nginx lines; the default (supervisord) finds no program prefix in them', async () => {
    const asNginx = parseExposition((await runCli(['replay', '--source', 'nginx', '-'], { input: ACCESS + '\n' })).stdout);
    expect(family(asNginx, 'quay_registry_pulls_total')).toEqual({ 'namespace=acme,repository=app': 1 });
    const asDefault = parseExposition((await runCli(['replay', '-'], { input: ACCESS + '\n' })).stdout);
    expect(family(asDefault, 'quay_registry_pulls_total')).toEqual({});
    // No "<program> stdout | " prefix: supervisord's own line, not ours.
    expect(value(asDefault, 'quay_log_exporter_lines_total', { source: 'nginx', result: 'matched' })).toBe(0);
  });

  it('--framing cri joins a CRI partial (P) with its final (F) record into one line', async () => {
    // The access line split in two CRI records: one request, counted once.
    const half = ACCESS.length >> 1;
    const cri = `2026-11-22T10:15:33.1Z stdout P ${ACCESS.slice(0, half)}\n2026-11-22T10:15:33.2Z stdout F ${ACCESS.slice(half)}\n`;
    const s = parseExposition((await runCli(['replay', '--source', 'nginx', '--framing', 'cri', '-'], { input: cri })).stdout);
    expect(family(s, 'quay_registry_pulls_total')).toEqual({ 'namespace=acme,repository=app': 1 });
    expect(family(s, 'quay_log_exporter_lines_total')['source=nginx,result=matched']).toBe(1);
    expect(family(s, 'quay_log_exporter_lines_total')['source=nginx,result=unmatched']).toBe(0);
    // Read raw, the same bytes are two lines that match nothing.
    const raw = parseExposition((await runCli(['replay', '--source', 'nginx', '--framing', 'raw', '-'], { input: cri })).stdout);
    expect(family(raw, 'quay_log_exporter_lines_total')['source=nginx,result=unmatched']).toBe(2);
  });
});

describe('run with a stdin input: partial_line_timeout', () => {
  it('hands over a last line without newline after the timeout while the pipe stays open; its late newline adds no line', async () => {
    const config = join(dir, 'stdin.yaml');
    writeFileSync(config, `state_dir: ${dir}/state\nprometheus: {listen: "127.0.0.1:0"}\ninputs: [{type: stdin, source: nginx, partial_line_timeout: 300ms, poll_interval: 50ms}]\n`);
    const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      await waitFor('the server', () => /"serving metrics"/.test(err));
      const port = Number(/"address":"[^"]*:(\d+)"/.exec(err)![1]);
      const metrics = async () => parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      // One complete line, then one with no newline; the pipe stays open.
      child.stdin.write(`${ACCESS}\n${ACCESS}`);
      // Both pulls, the second only once partial_line_timeout has passed without more bytes.
      await waitFor('the partial line counted', async () => (value(await metrics(), 'quay_registry_pulls_total', { namespace: 'acme', repository: 'app' }) === 2 ? true : undefined));
      // Its newline arrives late, then a third line: that newline is not an (empty, unmatched) line of its own.
      child.stdin.write(`\n${ACCESS}\n`);
      await waitFor('the third line', async () => (value(await metrics(), 'quay_registry_pulls_total', { namespace: 'acme', repository: 'app' }) === 3 ? true : undefined));
      const s = await metrics();
      expect(value(s, 'quay_log_exporter_lines_total', { source: 'nginx', result: 'matched' })).toBe(3);
      expect(value(s, 'quay_log_exporter_lines_total', { source: 'nginx', result: 'unmatched' })).toBe(0);
      child.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(err).toContain('every input ended, draining');
  });
});

/** The CLI as a user meets it: exit codes, messages, the shipped configs. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'qle-cli-'));

describe('check-config', () => {
  it('accepts the shipped example and demo configs', async () => {
    const example = await runCli(['check-config', join(ROOT, 'config.example.yaml')]);
    expect(example.stderr).toBe('');
    expect(example.code).toBe(0);
    expect(example.stdout).toContain('ok (1 input(s): quay [supervisord]; prometheus 0.0.0.0:9464)');
    const demo = await runCli(['check-config', join(ROOT, 'examples/demo.yaml')]);
    expect(demo.code).toBe(0);
  });

  it('checks mirror.repositories, the way to name mirrors for Quay < 3.15: upstream without tag → namespace/repository', async () => {
    const dir = tmp();
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'mirror:\n  repositories:\n    quay.io/prometheus/node-exporter: mirrors/node-exporter\n    registry.local:5000/team/app: mirrors/app\n    docker://docker.io/library/nginx: mirrors/nginx\n');
    expect((await runCli(['check-config', good])).code).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'mirror:\n  repositories:\n    quay.io/prometheus/node-exporter:v1.7.0: mirrors/node-exporter\n    quay.io/prometheus/alertmanager: alertmanager\n    nginx: mirrors/nginx\n');
    const r = await runCli(['check-config', bad]);
    expect(r.code).toBe(2);
    // A tag in the key, a value without namespace, a key without registry: three problems, each by its path.
    expect(r.stderr).toContain('mirror.repositories.quay.io/prometheus/node-exporter:v1.7.0: the key must be the upstream registry/path without tag or digest');
    expect(r.stderr).toContain('mirror.repositories.quay.io/prometheus/alertmanager: namespace/repository');
    expect(r.stderr).toContain('mirror.repositories.nginx: the key must be the upstream registry/path');
  });

  it('names the key path of every problem and exits 2', async () => {
    const file = join(tmp(), 'bad.yaml');
    writeFileSync(file, 'inputs:\n  - paths: [/var/log/quay.log]\n    framing: json\nslow_transfer:\n  min_bytes: -1\n');
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: invalid configuration`);
    expect(r.stderr).toContain('inputs[0].framing: Invalid option: expected one of "raw"|"cri"|"docker"');
    expect(r.stderr).toContain('slow_transfer.min_bytes: Too small: expected number to be >=0');
  });

  it('refuses a pattern file that does not compile, naming the file and line, exit 2', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'site.grok'), '# site patterns\nQUAY_NGINX_ACCESS %{NO_SUCH_PATTERN:x}\n');
    writeFileSync(join(dir, 'c.yaml'), 'grok:\n  pattern_files: [site.grok]\n');
    const r = await runCli(['replay', '--config', join(dir, 'c.yaml'), '-'], { input: 'x\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NO_SUCH_PATTERN/);
    expect(r.stderr).toContain('site.grok:2');
  });

  it('names a file it cannot read, without a stack trace, exit 1', async () => {
    const r = await runCli(['replay', '/nonexistent/quay.log']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('quay-log-exporter: cannot open /nonexistent/quay.log: ENOENT\n');
  });

  it('exits 2 on usage errors', async () => {
    expect((await runCli(['replay'])).code).toBe(2);
    expect((await runCli(['replay', '--format', 'xml', '-'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['run'])).stderr).toContain('run needs --config FILE');
  });
});

describe('grok', () => {
  it('prints what a bundled pattern extracts from a line', async () => {
    const line =
      'nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:32 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.1" 200 1570 "-" "containers/5.30.0" (0.045 380 0.044)';
    const r = await runCli(['grok', '--pattern', '%{QUAY_SUPERVISOR_PREFIX}%{QUAY_NGINX_ACCESS}', line]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { fields: Record<string, unknown> };
    expect(out.fields).toMatchObject({
      program: 'nginx',
      stream: 'stdout',
      client: '10.128.2.14',
      method: 'GET',
      request: '/v2/acme/app/manifests/latest',
      status: 200,
      bytes_sent: 1570,
      request_time: 0.045,
      request_length: 380,
    });
  });

  it('reads lines from stdin and says which did not match', async () => {
    const r = await runCli(['grok', '--pattern', 'QUAY_PYTHON_LOG'], {
      input: '2026-11-22 10:15:40,006 [88] [INFO] [workers.repomirrorworker] Source synced.\nnot a python line\n',
    });
    const [a, b] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({ fields: { pid: 88, level: 'INFO', logger: 'workers.repomirrorworker', message: 'Source synced.' } });
    expect(b).toMatchObject({ line: 'not a python line', match: false });
  });
});

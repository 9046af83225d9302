/**
 * `replay --threads N` (src/threads): the order-free lines parsed in worker
 * threads must give the very bytes one thread gives (--threads 1 is the
 * one-thread path), on the fixtures, on a 100k-line generated corpus whose
 * true counts the generator recorded, with the series cap reached, and across
 * piece boundaries with oversize, CRLF, UTF-8 and unterminated lines.
 * Correctness only: no timing (bench/run.mjs measures speed).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM JavaScript, no declarations
import { generateCorpus, repositories, rng } from '../bench/corpus.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { upstreamOf } from '../bench/corpus-workers.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { checkAgainstTruth } from '../bench/lib/check.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { parsePrometheus } from '../bench/lib/prom.mjs';
import { CATALOGUE } from '../src/metrics/catalogue.js';
import { runCli } from './helpers/cli.js';
import { family, parseExposition } from './helpers/exposition.js';
import { LINES_BY_SOURCE_RESULT } from './fixtures/quay-supervisord.counts.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const THREADS_USED = '"msg":"replay: threads","threads":2';

let dir: string;
let debugConfig: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qle-threads-'));
  debugConfig = join(dir, 'debug.yaml');
  writeFileSync(debugConfig, 'log_level: debug\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same replay on one thread and on two: both outputs, and whether two threads were really used. */
async function oneAndTwo(args: string[]): Promise<{ one: string; two: string; twoStderr: string }> {
  const one = await runCli(['replay', '--threads', '1', ...args]);
  expect(one.code).toBe(0);
  const two = await runCli(['replay', '--threads', '2', ...args]);
  expect(two.code).toBe(0);
  return { one: one.stdout, two: two.stdout, twoStderr: two.stderr };
}

describe('replay --threads 2 gives the bytes of --threads 1', () => {
  const logs = readdirSync(FIXTURES).filter((f) => f.endsWith('.log'));

  it.each(logs)('fixture %s', async (name) => {
    const { one, two, twoStderr } = await oneAndTwo(['--config', debugConfig, join(FIXTURES, name)]);
    expect(twoStderr).toContain(THREADS_USED);
    expect(two).toBe(one);
    expect(two.length).toBeGreaterThan(1000);
  });

  it('several files in one replay: one stream, pieces numbered across files', async () => {
    const files = ['quay-supervisord.log', 'mirror-interleaved.log', 'gc-workers.log'].map((f) => join(FIXTURES, f));
    const { one, two, twoStderr } = await oneAndTwo(['--config', debugConfig, ...files]);
    expect(twoStderr).toContain(THREADS_USED);
    expect(two).toBe(one);
  });

  it('the supervisord fixture keeps its hand counts on two threads', async () => {
    const r = await runCli(['replay', '--threads', '2', join(FIXTURES, 'quay-supervisord.log')]);
    expect(r.code).toBe(0);
    // Hand counts of the 35 lines: test/fixtures/quay-supervisord.counts.ts.
    expect(family(parseExposition(r.stdout), 'quay_log_exporter_lines_total')).toEqual(LINES_BY_SOURCE_RESULT);
  });
});

describe('a 100,000-line generated corpus (23 MB: ~23 pieces over two workers)', () => {
  let log: string;
  let config: string;
  let truth: { lines: number; repos: number; linesBySource: Record<string, number> };
  beforeAll(() => {
    const seed = 42;
    log = join(dir, 'corpus.log');
    truth = generateCorpus({ seed, lines: 100_000, out: log });
    const repos = repositories(truth.repos, rng(seed ^ 0x5bd1e995)) as Array<{ ns: string; repo: string }>;
    const map: Record<string, string> = {};
    for (const r of repos) map[upstreamOf(r)] = `${r.ns}/${r.repo}`;
    config = join(dir, 'corpus.yaml');
    writeFileSync(config, JSON.stringify({ log_level: 'debug', mirror: { repositories: map } }));
  });

  it('same bytes on both, equal to the generator\'s true counts (mirror attempts and GC runs included)', async () => {
    const { one, two, twoStderr } = await oneAndTwo(['--config', config, log]);
    expect(twoStderr).toContain(THREADS_USED);
    expect(two).toBe(one);
    const check = checkAgainstTruth(parsePrometheus(two), truth, CATALOGUE);
    expect(check.mismatches).toEqual([]);
    expect(check.checked).toBeGreaterThan(100);
    // The generator wrote 60,247 nginx, 24,893 gunicorn, 9,855 mirror and 5,009 GC lines with seed 42.
    expect(truth.linesBySource).toEqual({ nginx: 60247, gunicorn: 24893, repomirrorworker: 9855, gcworker: 5009 });
  }, 120_000);

  it('with the series cap reached: the same series admitted with the same values; only series_overflow_total counts differently', async () => {
    const capConfig = join(dir, 'cap.yaml');
    writeFileSync(capConfig, 'log_level: debug\nlimits:\n  max_series_per_metric: 7\n');
    const { one, two, twoStderr } = await oneAndTwo(['--config', capConfig, log]);
    expect(twoStderr).toContain(THREADS_USED);
    const strip = (t: string) => t.split('\n').filter((l) => !l.startsWith('quay_log_exporter_series_overflow_total{')).join('\n');
    expect(strip(two)).toBe(strip(one));
    const pulls = family(parseExposition(two), 'quay_registry_pulls_total');
    // namespace and repository both fold: 7 series admitted, then one __overflow__ series.
    expect(Object.keys(pulls)).toHaveLength(8);
    expect(pulls['namespace=__overflow__,repository=__overflow__']).toBeGreaterThan(0);
  }, 120_000);
});

describe('piece boundaries', () => {
  it('oversize, long, CRLF, UTF-8 and unterminated lines are cut and counted as on one thread', async () => {
    const nginx = (i: number) =>
      `nginx stdout | 10.0.0.${i % 250} () - - [14/Jul/2021:12:23:46 +0000] "GET /v2/acme/app${i % 3}/manifests/latest HTTP/1.1" 200 ${i} "-" "docker/20.10" (0.0${i % 10} ${i % 7} 0.0${i % 10})`;
    const parts: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      parts.push(i % 5 === 0 ? nginx(i) + '\r' : nginx(i));
      if (i === 4000) parts.push(`nginx stdout | ${'x'.repeat(1_500_000)}`); // longer than a read buffer: its head is cut on the main thread
      if (i === 6000) parts.push(`gunicorn-web stdout | ${'é'.repeat(3000)}`); // 6,000 bytes of UTF-8, over max_line_bytes
      if (i === 8000) parts.push(`repomirrorworker stdout | ünïcode ${'y'.repeat(5000)}`); // also over it, an order-dependent source
    }
    const file = join(dir, 'edges.log');
    writeFileSync(file, parts.join('\n') + '\nnginx stdout | no newline at the end');
    const config = join(dir, 'edges.yaml');
    writeFileSync(config, 'log_level: debug\ninputs:\n  - type: stdin\n    max_line_bytes: 4096\n');
    const { one, two, twoStderr } = await oneAndTwo(['--config', config, file]);
    expect(twoStderr).toContain(THREADS_USED);
    expect(two).toBe(one);
    const s = parseExposition(two);
    // Three lines over 4,096 bytes: the 1.5 MB one, the 6,000-byte gunicorn one, the 5,000-byte mirror one.
    expect(family(s, 'quay_log_exporter_lines_truncated_total')).toEqual({ '': 3 });
    // 12,000 access lines (2,400 of them CRLF) are matched; the cut 1.5 MB line and the last one are not.
    expect(family(s, 'quay_log_exporter_lines_total')['source=nginx,result=matched']).toBe(12_000);
    expect(family(s, 'quay_log_exporter_lines_total')['source=nginx,result=unmatched']).toBe(2);
  }, 120_000);
});

describe('pieces of at most 256 KiB', () => {
  it('a read is cut into several pieces; a line longer than a piece (but within max_line_bytes) goes whole', async () => {
    const nginx = (i: number) => `nginx stdout | 10.0.0.${i % 250} () - - [14/Jul/2021:12:23:46 +0000] "GET /v2/acme/app/blobs/sha256:${i} HTTP/1.1" 200 ${i} "-" "docker/20.10" (0.001 1 0.001)`;
    const parts: string[] = [];
    for (let i = 0; i < 9_000; i++) {
      parts.push(nginx(i));
      if (i === 1000) parts.push(`nginx stdout | ${'x'.repeat(300_000)}`); // over a piece, under the 1 MiB default max_line_bytes
      if (i === 5000) parts.push(`gunicorn-web stdout | ${'y'.repeat(700_000)}`);
    }
    const file = join(dir, 'long-lines.log');
    writeFileSync(file, parts.join('\n') + '\n'); // ~1.0 MB of access lines + 1.0 MB in the two long lines
    const { one, two, twoStderr } = await oneAndTwo(['--config', debugConfig, file]);
    expect(twoStderr).toContain(THREADS_USED);
    expect(two).toBe(one);
    const lines = family(parseExposition(two), 'quay_log_exporter_lines_total');
    // 9,000 access lines; the two long lines are no access line of their program; nothing was cut.
    expect(lines['source=nginx,result=matched']).toBe(9_000);
    expect(lines['source=nginx,result=unmatched']).toBe(1);
    expect(lines['source=gunicorn,result=unmatched']).toBe(1);
    expect(family(parseExposition(two), 'quay_log_exporter_lines_truncated_total')).toEqual({ '': 0 });
  }, 120_000);
});

describe('rules in the workers', () => {
  it('a user counter rule on nginx lines counts in the workers what it counts on one thread (the rules come from the main thread)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 6_000; i++) {
      lines.push(`nginx stdout | 10.0.0.1 () - - [14/Jul/2021:12:23:46 +0000] "GET /v2/acme/app/blobs/sha256:${i} HTTP/1.1" 200 ${i} "-" "docker/20.10" (0.001 1 0.001)`);
    }
    const file = join(dir, 'rule-lines.log');
    writeFileSync(file, lines.join('\n') + '\n'); // ~0.9 MB: four pieces
    const rule = {
      name: 'blob_bytes',
      programs: 'nginx',
      include_matched: true,
      match: '/blobs/%{NOTSPACE} HTTP/1.1" %{INT} %{INT:bytes:int} ',
      metrics: [
        { name: 'blob_bytes_total', type: 'counter', value: 'bytes' },
        { name: 'blob_lines_total', type: 'counter' },
      ],
    };
    const config = join(dir, 'rule.yaml');
    writeFileSync(config, JSON.stringify({ log_level: 'debug', rules: [rule] }));
    const { one, two, twoStderr } = await oneAndTwo(['--config', config, file]);
    expect(twoStderr).toContain(THREADS_USED);
    expect(two).toBe(one);
    const s = parseExposition(two);
    // Bytes 0 + 1 + … + 5,999 = 5,999 × 6,000 / 2 = 17,997,000; one match per line.
    expect(family(s, 'blob_bytes_total')).toEqual({ '': 17_997_000 });
    expect(family(s, 'blob_lines_total')).toEqual({ '': 6_000 });
  }, 120_000);
});

describe('when threads would change the result, one thread, said once', () => {
  it('--framing cri: partial lines are joined in order', async () => {
    const file = join(FIXTURES, 'quay-supervisord.log');
    const { one, two, twoStderr } = await oneAndTwo(['--config', debugConfig, '--framing', 'cri', file]);
    expect(twoStderr).not.toContain(THREADS_USED);
    expect(twoStderr.match(/replay: one thread \(framing cri joins partial lines in order\)/g)).toHaveLength(1);
    expect(two).toBe(one);
  });

  it('a rule that sets a gauge from nginx lines: the workers started before the pipeline was built are closed, one thread', async () => {
    // Workers start as soon as the config is read (replayCommand); only the built rules show the gauge.
    const config = join(dir, 'gauge.yaml');
    const rule = { name: 'last_bytes', programs: 'nginx', include_matched: true, match: 'HTTP/1.1" %{INT} %{INT:bytes:int} ', metrics: [{ name: 'last_bytes_sent', type: 'gauge', value: 'bytes' }] };
    writeFileSync(config, JSON.stringify({ log_level: 'debug', rules: [rule] }));
    const file = join(FIXTURES, 'quay-supervisord.log');
    const { one, two, twoStderr } = await oneAndTwo(['--config', config, file]);
    expect(twoStderr).not.toContain(THREADS_USED);
    expect(twoStderr.match(/replay: one thread \(rule last_bytes sets a gauge/g)).toHaveLength(1);
    expect(two).toBe(one);
    // The fixture's last nginx access line sent 1570 bytes (its very last nginx line is not an access line).
    expect(family(parseExposition(two), 'last_bytes_sent')).toEqual({ '': 1570 });
  });

  it('a config refused by the checks exits 2 with its message, though workers had started', async () => {
    const config = join(dir, 'bad-rule.yaml');
    const rule = { name: 'broken', programs: 'nginx', match: '%{NO_SUCH_PATTERN:x}', metrics: [{ name: 'broken_total', type: 'counter' }] };
    writeFileSync(config, JSON.stringify({ rules: [rule] }));
    const r = await runCli(['replay', '--threads', '2', '--config', config, join(FIXTURES, 'quay-supervisord.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('NO_SUCH_PATTERN');
    expect(r.stdout).toBe('');
  });

  it('stdin', async () => {
    const r = await runCli(['replay', '--config', debugConfig, '--threads', '2', '-'], { input: 'nginx stdout | x\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('replay: one thread (stdin is read on one thread)');
  });
});

describe('--threads must be a whole number from 1 to 256', () => {
  it.each(['0', '-1', '1.5', 'two', '', '257'])('"%s" is a usage error (exit 2) naming --threads', async (bad) => {
    const r = await runCli(['replay', `--threads=${bad}`, join(FIXTURES, 'gc-workers.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--threads');
    expect(r.stdout).toBe('');
  });
});

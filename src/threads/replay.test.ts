/**
 * The main thread's side of `replay --threads` in process: pieces, the handed-back lines put through
 * the router in piece order, the merge. With `threads: 1` the pool has no worker, so the main thread's
 * own share parses every piece (the worker threads run the very same OrderFreeShare, tested in
 * share.test.ts; test/replay-threads.test.ts runs real workers through the CLI). The result is checked
 * against the one-thread path (replayStream) byte for byte, and against the fixture's hand counts.
 * Also: when threads would change a result (threadsUnusable), and totalBytes.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { replayStream } from '../inputs/replay.js';
import { silentLogger } from '../log.js';
import { Pipeline } from '../pipeline.js';
import { replayInputConfig } from '../replay.js';
import { family, parseExposition } from '../../test/helpers/exposition.js';
import { LINES_BY_SOURCE_RESULT, PULLS, PUSHES } from '../../test/fixtures/quay-supervisord.counts.js';
import { AUTO_THREADS_MIN_BYTES, replayThreaded, threadsUnusable, totalBytes } from './replay.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));
const SUPERVISORD = fixture('quay-supervisord.log');

const pipelines: Pipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.shutdown()));
});

async function pipelineOf(raw: Record<string, unknown>): Promise<Pipeline> {
  const config = parseConfig({ state_dir: '/nonexistent-state', ...raw });
  const p = await Pipeline.create(config, { log: silentLogger, extraSources: ['supervisord'], records: false });
  pipelines.push(p);
  return p;
}

/** The exposition of `files` replayed on the main thread's own share (threads 1 → no worker) or the one-thread path. */
async function replayed(files: string[], raw: Record<string, unknown>, threaded: boolean): Promise<string> {
  const p = await pipelineOf(raw);
  const input = replayInputConfig(p.config, {});
  if (threaded) await replayThreaded({ files, input, pipeline: p, handlerOf: () => p.handler(input.source), threads: 1 });
  else for (const f of files) await replayStream(f, input, { handler: p.handler(input.source), registry: p.registry, log: silentLogger });
  return p.prometheus.exposition();
}

/** A log of several 1 MiB pieces: the fixtures again and again, each copy with repositories of its own. */
function bigLog(copies: number, tail = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'qle-threads-'));
  const parts = ['quay-supervisord.log', 'gc-workers.log', 'mirror-interleaved.log'].map((f) => readFileSync(fixture(f), 'utf8'));
  let text = '';
  for (let i = 0; i < copies; i++) text += parts[i % 3]!.replaceAll('acme/app', `acme/app${i % 50}`);
  const file = join(dir, 'quay.log');
  writeFileSync(file, text + tail);
  return file;
}

const withoutOverflow = (text: string) =>
  text
    .split('\n')
    .filter((l) => !l.includes('quay_log_exporter_series_overflow_total'))
    .join('\n');

describe('replayThreaded on the main thread alone', () => {
  it('the supervisord fixture: its hand counts, and the one-thread exposition byte for byte', async () => {
    const text = await replayed([SUPERVISORD], {}, true);
    const s = parseExposition(text);
    expect(family(s, 'quay_log_exporter_lines_total')).toEqual(LINES_BY_SOURCE_RESULT);
    expect(family(s, 'quay_registry_pulls_total')).toEqual(PULLS);
    expect(family(s, 'quay_registry_pushes_total')).toEqual(PUSHES);
    expect(text).toBe(await replayed([SUPERVISORD], {}, false));
  });

  it('a 2.6 MiB log in 1 MiB pieces, an oversize line and a last line without newline: the one-thread exposition', async () => {
    // 400 copies of the three fixtures (6.0–6.9 KB each) ≈ 2.6 MB; an nginx line of 70,015 bytes (max_line_bytes 65,536:
    // cut, counted once, its head an unmatched nginx line) and a last pull without a newline.
    const long = `nginx stdout | ${'x'.repeat(70_000)}\n`;
    const last =
      'nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/last/manifests/latest HTTP/1.1" 200 1570 "-" "containers/5.30.0 (github.com/containers/image)" (0.045 380 0.044)';
    const file = bigLog(400, long + last);
    const raw = { inputs: [{ type: 'stdin', max_line_bytes: 65_536 }] };
    const threaded = await replayed([file, SUPERVISORD], raw, true);
    expect(threaded).toBe(await replayed([file, SUPERVISORD], raw, false));
    const s = parseExposition(threaded);
    expect(family(s, 'quay_log_exporter_lines_truncated_total')).toEqual({ '': 1 });
    expect(family(s, 'quay_registry_pulls_total')['namespace=acme,repository=last']).toBe(1);
  });

  it('a cap of 7 series per metric: the same series admitted and the same values folded as one thread', async () => {
    const file = bigLog(300);
    const limits = { limits: { max_series_per_metric: 7 } };
    const threaded = await replayed([file], limits, true);
    // Only the overflow counter differs (merge.ts: folds counted per series folded, not per lookup).
    expect(withoutOverflow(threaded)).toBe(withoutOverflow(await replayed([file], limits, false)));
    expect(Object.keys(family(parseExposition(threaded), 'quay_registry_pulls_total'))).toHaveLength(8); // 7 + __overflow__
  });

  it('a handed-back line is born at its own line, not its piece: the cap admits the first label sets in line order', async () => {
    // One rule over an order-free program (nginx: the share) and an order-dependent one (repomirrorworker: handed
    // back to the main thread). Lines a … e alternate between them; with a cap of 3, a, b, c are admitted by line
    // order and d, e fold. Stamped at its piece's start instead, every handed-back line (b, d) would come first.
    const dir = mkdtempSync(join(tmpdir(), 'qle-threads-'));
    const file = join(dir, 'quay.log');
    writeFileSync(file, ['nginx', 'repomirrorworker', 'nginx', 'repomirrorworker', 'nginx'].map((p, i) => `${p} stdout | tagw ${'abcde'[i]}\n`).join(''));
    const rules = [{ name: 'w', programs: ['nginx', 'repomirrorworker'], include_matched: true, match: 'tagw (?<u>[a-z]+)', metrics: [{ name: 'w_total', type: 'counter', labels: ['u'] }] }];
    const raw = { shipped_rules: false, rules, limits: { max_series_per_metric: 3 } };
    const threaded = await replayed([file], raw, true);
    expect(family(parseExposition(threaded), 'w_total')).toEqual({ 'u=a': 1, 'u=b': 1, 'u=c': 1, 'u=__overflow__': 2 });
    expect(withoutOverflow(threaded)).toBe(withoutOverflow(await replayed([file], raw, false)));
  });

  it('the main thread\'s birth hook is taken off afterwards', async () => {
    const p = await pipelineOf({});
    const input = replayInputConfig(p.config, {});
    await replayThreaded({ files: [SUPERVISORD], input, pipeline: p, handlerOf: () => p.handler(input.source), threads: 1 });
    expect(p.registry.onSlot).toBeUndefined();
  });
});

describe('threadsUnusable: when splitting would change a result', () => {
  const why = async (raw: Record<string, unknown>, files = ['a.log'], input: Record<string, unknown> = {}) => {
    const p = await pipelineOf(raw);
    return threadsUnusable(p.config, { ...replayInputConfig(p.config, {}), ...input }, p, files);
  };

  it('none for the defaults, nginx and gunicorn inputs, and rules of other programs', async () => {
    expect(await why({})).toBeUndefined();
    expect(await why({}, ['a.log'], { source: 'nginx' })).toBeUndefined();
    expect(await why({}, ['a.log'], { source: 'gunicorn' })).toBeUndefined();
    const other = [{ name: 'g', programs: 'repomirrorworker', match: '%{NUMBER:n:float}', metrics: [{ name: 'g', type: 'gauge', value: 'n' }] }];
    expect(await why({ shipped_rules: false, rules: other })).toBeUndefined();
    // a counter adding an integer capture, or a constant, on nginx: order-free
    const ints = [
      { name: 'c', programs: 'nginx', match: ' %{INT:n:int} ', metrics: [{ name: 'c_total', type: 'counter', value: 'n' }] },
      { name: 'k', sources: 'nginx', match: 'GET', metrics: [{ name: 'k_total', type: 'counter' }] },
    ];
    expect(await why({ shipped_rules: false, rules: ints })).toBeUndefined();
  });

  it('stdin, order-dependent sources, framing, multiline, pod_label', async () => {
    expect(await why({}, ['a.log', '-'])).toBe('stdin is read on one thread');
    expect(await why({}, ['a.log'], { source: 'repomirrorworker' })).toBe('source repomirrorworker is order-dependent throughout');
    expect(await why({}, ['a.log'], { framing: 'cri' })).toBe('framing cri joins partial lines in order');
    expect(await why({}, ['a.log'], { multiline: { pattern: '^\\s', what: 'previous' } })).toBe('multiline joins lines in order');
    expect(await why({ limits: { pod_label: true } })).toBe('limits.pod_label');
  });

  it('events written, a gauge rule on nginx, a float or duration capture added to a counter', async () => {
    const p = await pipelineOf({});
    p.events.add({ emit() {} });
    expect(threadsUnusable(p.config, replayInputConfig(p.config, {}), p, ['a.log'])).toBe('events are written (outputs.influxdb.events) in line order');
    const gauge = [{ name: 'g', programs: 'nginx', match: '%{NUMBER:n:float}', metrics: [{ name: 'g', type: 'gauge', value: 'n' }] }];
    expect(await why({ shipped_rules: false, rules: gauge })).toBe('rule g sets a gauge (the last line wins: an order)');
    const float = [{ name: 'f', programs: 'gunicorn-web', match: '%{NUMBER:n:float}', metrics: [{ name: 'f_total', type: 'counter', value: 'n' }] }];
    expect(await why({ shipped_rules: false, rules: float })).toBe('rule f adds fractional numbers to a counter (their sum depends on order)');
    const bySource = [{ name: 's', sources: 'gunicorn', match: '%{NUMBER:n:float}', metrics: [{ name: 's_total', type: 'counter', value: 'n' }] }];
    expect(await why({ shipped_rules: false, rules: bySource })).toBe('rule s adds fractional numbers to a counter (their sum depends on order)');
    // one order-free program among others is enough
    const mixed = [{ name: 'm', programs: ['repomirrorworker', 'nginx'], match: '%{NUMBER:n:float}', metrics: [{ name: 'm', type: 'gauge', value: 'n' }] }];
    expect(await why({ shipped_rules: false, rules: mixed })).toBe('rule m sets a gauge (the last line wins: an order)');
    // a histogram of float captures is fine: its sum is exact in any order (series.ts addToSum)
    const hist = [{ name: 'h', programs: 'nginx', match: '%{NUMBER:n:float}', metrics: [{ name: 'h_seconds', type: 'histogram', value: 'n' }] }];
    expect(await why({ shipped_rules: false, rules: hist })).toBeUndefined();
  });
});

describe('totalBytes', () => {
  it('adds the sizes; a file that cannot be read counts 0', async () => {
    // 6,869 + 6,823 bytes (wc -c of the two fixtures)
    expect(await totalBytes([SUPERVISORD, fixture('gc-workers.log'), '/nonexistent/quay.log'])).toBe(6_869 + 6_823);
    expect(AUTO_THREADS_MIN_BYTES).toBe(8 * 1024 * 1024);
  });
});

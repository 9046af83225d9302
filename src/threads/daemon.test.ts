/**
 * The daemon's pieces in this process (src, no worker thread: with 0 workers
 * every piece goes through the main thread's own TrackedShare, the same
 * answer a worker gives): what a share's answer carries, and that the
 * answers added in order give one thread's exposition and offsets.
 * test/daemon-threads.test.ts runs the real daemon with a worker.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LINES_BY_SOURCE_RESULT } from '../../test/fixtures/quay-supervisord.counts.js';
import { parseConfig } from '../config/load.js';
import { buildLinePath, safeOffset } from '../inputs/chain.js';
import { silentLogger } from '../log.js';
import { Pipeline } from '../pipeline.js';
import { ruleSources } from '../rules/index.js';
import { DaemonThreads } from './daemon.js';
import { TrackedShare } from './tracked-share.js';

const FIXTURE = readFileSync(new URL('../../test/fixtures/quay-supervisord.log', import.meta.url));
const nginx = (path: string, status: string) =>
  `nginx stdout | 10.0.0.1 (-) - - [22/Nov/2026:10:15:32 +0000] "GET ${path} HTTP/1.1" ${status} 100 "-" "docker/24.0.7" (0.010 300 0.010)`;
const MIRROR = 'repomirrorworker stdout | 2026-11-22 10:15:32,000 [88] [INFO] [util.repomirror.skopeomirror] Running skopeo';

function config(extra: Record<string, unknown> = {}) {
  return parseConfig({ inputs: [{ paths: ['/nowhere/quay.log'] }], ...extra });
}

/** The slot id of `name{labels}` from the answers' fresh lists. */
function idsOf(answers: Array<{ fresh: { first: number; names: string[]; labels: string[][] } }>): Map<string, number> {
  const ids = new Map<string, number>();
  for (const a of answers) a.fresh.names.forEach((n, i) => ids.set(`${n}{${a.fresh.labels[i]!.join(',')}}`, a.fresh.first + i));
  return ids;
}

describe('TrackedShare: what a piece counted, sent once', () => {
  // The rules as the main thread hands them over (ShareSetup.rules): the shipped ones.
  const setup = { config: config(), source: 'supervisord' as const, trafficSource: 'nginx' as const, maxLineBytes: 1 << 20, rules: ruleSources(config()) };

  it('the first answer: every slot made (at construction too), each count, the order-dependent line handed back', () => {
    const share = new TrackedShare(setup);
    const a = share.piece(Buffer.from(`${nginx('/v2/acme/app/manifests/latest', '200')}\n${MIRROR}\n${nginx('/v2/acme/app/manifests/latest', '404')}\n`), 3);
    // The mirror line, index 1 of the piece, goes back to the main thread.
    expect([a.lines, a.count, [...a.at]]).toEqual([MIRROR, 1, [1]]);
    const ids = idsOf([a]);
    const counted = new Map([...a.counters.ids].map((id, k) => [id, a.counters.values[k]]));
    const v = (key: string) => counted.get(ids.get(key)!);
    // Two nginx lines matched; one 200 and one 404 request of the registry's GETs.
    expect(v('quay_log_exporter_lines_total{nginx,matched}')).toBe(2);
    expect(v('quay_http_requests_total{registry,GET,200}')).toBe(1);
    expect(v('quay_http_requests_total{registry,GET,404}')).toBe(1);
    // Made by the lines at index 0 and 2 of piece 3 (position piece × 2^27 + line); lines_total at construction (-1).
    const born = (key: string) => a.fresh.born[ids.get(key)! - a.fresh.first];
    expect(born('quay_http_requests_total{registry,GET,200}')).toBe(3 * 2 ** 27);
    expect(born('quay_http_requests_total{registry,GET,404}')).toBe(3 * 2 ** 27 + 2);
    expect(born('quay_log_exporter_lines_total{nginx,matched}')).toBe(-1);
    // The request duration histogram: two observations of 0.010 s.
    const hId = ids.get('quay_http_request_duration_seconds{registry}')!;
    const k = [...a.histograms.ids].indexOf(hId);
    expect(k).toBe(0);
    const width = a.histograms.data.length / a.histograms.ids.length;
    const [sum, sumLow, count, min, max] = a.histograms.data.slice(width - 5, width);
    expect([sum, sumLow, count, min, max]).toEqual([0.02, 0, 2, 0.01, 0.01]);
  });

  it('the next answer: only what came since (the share zeroed what it sent), and only the new slots', () => {
    const share = new TrackedShare(setup);
    const a = share.piece(Buffer.from(`${nginx('/v2/acme/app/manifests/latest', '200')}\n`), 0);
    const b = share.piece(Buffer.from(`${nginx('/v2/acme/app/manifests/latest', '200')}\n${nginx('/v2/acme/app/manifests/latest', '200')}\n${nginx('/v2/acme/app/manifests/v1', '500')}\n`), 1);
    const ids = idsOf([a, b]);
    const counted = new Map([...b.counters.ids].map((id, k) => [id, b.counters.values[k]]));
    expect(counted.get(ids.get('quay_http_requests_total{registry,GET,200}')!)).toBe(2);
    expect(counted.get(ids.get('quay_http_requests_total{registry,GET,500}')!)).toBe(1);
    expect(counted.get(ids.get('quay_log_exporter_lines_total{nginx,matched}')!)).toBe(3);
    // b made the 500 series (after a's slots) and no 200 one again.
    expect(b.fresh.first).toBe(a.fresh.first + a.fresh.names.length);
    expect(b.fresh.labels.filter((l, i) => b.fresh.names[i] === 'quay_http_requests_total')).toEqual([['registry', 'GET', '500']]);
    // Nothing counted since: an empty piece answers nothing.
    const c = share.piece(Buffer.alloc(0), 2);
    expect([c.counters.ids.length, c.histograms.ids.length, c.fresh.names.length, c.count]).toEqual([0, 0, 0, 0]);
  });
});

describe('DaemonThreads, pieces through the main thread\'s own share', () => {
  async function exposition(p: Pipeline): Promise<string> {
    return p.prometheus.exposition();
  }

  it('the supervisord fixture in uneven reads: one thread\'s exposition byte for byte and its hand counts', async () => {
    const cfg = config();
    const input = cfg.inputs[0]!;
    const one = new Pipeline(cfg, { log: silentLogger });
    const onePath = buildLinePath(input, one.openStream('supervisord', { id: 'file:1' }).line, one.registry);
    onePath.splitter.write(FIXTURE);
    const two = new Pipeline(cfg, { log: silentLogger });
    const threads = DaemonThreads.start(two, silentLogger, 0)!;
    const path = threads.linePathFor(input)!(input, two.openStream('supervisord', { id: 'file:1' }).line, two.registry);
    // Reads that end mid-line: 1,000 bytes, then the rest.
    path.splitter.write(FIXTURE.subarray(0, 1000));
    const cut = FIXTURE.lastIndexOf(10, 999) + 1;
    // Saved offset: the start of the partial line, every whole line before it added.
    expect(safeOffset(path)).toBe(cut);
    expect(path.stages[0]!.heldFrom()).toBe(Infinity);
    path.splitter.write(FIXTURE.subarray(1000));
    expect(safeOffset(path)).toBe(FIXTURE.length);
    expect(await exposition(two)).toBe(await exposition(one));
    const lines = (await exposition(two)).split('\n').filter((l) => l.startsWith('quay_log_exporter_lines_total{'));
    const byKey = Object.fromEntries(lines.map((l) => [/source="([^"]+)",result="([^"]+)"/.exec(l)!.slice(1).join(','), Number(l.split(' ')[1])]));
    for (const [k, v] of Object.entries(LINES_BY_SOURCE_RESULT)) expect(byKey[k.replace('source=', '').replace('result=', '')]).toBe(v);
    await threads.close();
  });

  it('a family fed by both threads (a rule on gunicorn-web and gcworker): its series in the order one thread makes them', async () => {
    const rule = {
      name: 'boom',
      programs: ['gunicorn-web', 'gcworker'],
      match: 'boom',
      metrics: [{ name: 'test_boom_total', type: 'counter', help: 'Booms by program.', labels: ['program'] }],
    };
    const cfg = config({ rules: [rule], shipped_rules: false });
    const input = cfg.inputs[0]!;
    // gunicorn-web's line (parsed by the share) comes before gcworker's (handed back), in one piece.
    const first = 'gunicorn-web stdout | boom\ngcworker stdout | boom\n';
    const one = new Pipeline(cfg, { log: silentLogger });
    buildLinePath(input, one.openStream('supervisord', { id: 'file:1' }).line, one.registry).splitter.write(Buffer.from(first));
    const two = new Pipeline(cfg, { log: silentLogger });
    const threads = DaemonThreads.start(two, silentLogger, 0)!;
    threads.linePathFor(input)!(input, two.openStream('supervisord', { id: 'file:1' }).line, two.registry).splitter.write(Buffer.from(first));
    const booms = async (p: Pipeline) => (await exposition(p)).split('\n').filter((l) => l.startsWith('test_boom_total'));
    // One thread: gunicorn-web's series first (its line came first).
    expect(await booms(one)).toEqual(['test_boom_total{program="gunicorn-web"} 1', 'test_boom_total{program="gcworker"} 1']);
    expect(await booms(two)).toEqual(await booms(one));
    await threads.close();
  });

  it('a last line without its newline, handed over on the main thread, keeps its place after the pieces', async () => {
    const cfg = config();
    const input = cfg.inputs[0]!;
    const p = new Pipeline(cfg, { log: silentLogger });
    const threads = DaemonThreads.start(p, silentLogger, 0)!;
    const seen: string[] = [];
    const stream = p.openStream('supervisord', { id: 'file:1' });
    const path = threads.linePathFor(input)!(input, (l) => {
      seen.push(l);
      stream.line(l);
    }, p.registry);
    path.splitter.write(Buffer.from(`${MIRROR}\n${nginx('/v2/a/b/manifests/x', '200')}\n${MIRROR} again`));
    // Handed back: the mirror line (the nginx one is the share's); the partial is still held by the splitter.
    expect(seen).toEqual([MIRROR]);
    path.splitter.flushPartial();
    expect(seen).toEqual([MIRROR, `${MIRROR} again`]);
    expect(safeOffset(path)).toBe(Buffer.byteLength(`${MIRROR}\n${nginx('/v2/a/b/manifests/x', '200')}\n${MIRROR} again`));
    await threads.close();
  });

  it('inputs that cannot be split stay on the main thread, each said once', () => {
    const cfg = parseConfig({
      inputs: [
        { paths: ['/a.log'] },
        { name: 'gc', paths: ['/gc.log'], source: 'gcworker' },
        { name: 'cri', paths: ['/c.log'], framing: 'cri' },
        { name: 'in', type: 'stdin' },
      ],
    });
    const said: string[] = [];
    const log = { ...silentLogger, info: (m: string, f?: Record<string, unknown>) => said.push(`${m} ${f?.['input'] ?? ''}`.trim()) };
    const threads = DaemonThreads.start(new Pipeline(cfg, { log: silentLogger }), log, 0)!;
    expect(said).toEqual([
      'pipeline.threads: input parsed on one thread (source gcworker is order-dependent throughout) gc',
      'pipeline.threads: input parsed on one thread (framing cri joins partial lines in order) cri',
      'pipeline.threads: input parsed on one thread (a stdin input is read on the main thread) in',
      'pipeline.threads: order-free lines of file inputs parsed in worker threads',
    ]);
    expect(threads.linePathFor(cfg.inputs[0]!)).toBeDefined();
    expect(cfg.inputs.slice(1).map((i) => threads.linePathFor(i))).toEqual([undefined, undefined, undefined]);
  });
});

/**
 * OrderFreeShare in process: what a worker records of a piece and what it hands back, with the
 * position every slot is born at. The worker thread itself (worker.ts) runs this same class; the
 * CLI tests (test/replay-threads.test.ts) compare whole replays, which a mutation run cannot see.
 * Lines from test/fixtures/quay-supervisord.log; every count worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { ValueSlot } from '../metrics/series.js';
import { ruleSources } from '../rules/index.js';
import { LINE_BITS, OrderFreeShare, SHARE_SERIES_BOUND } from './share.js';

const PULL = (repo: string) =>
  `nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/${repo}/manifests/latest HTTP/1.1" 200 1570 "-" "containers/5.30.0 (github.com/containers/image)" (0.045 380 0.044)`;
const MIRROR =
  'repomirrorworker stdout | 2026-11-22 10:15:40,006 [88] [INFO] [workers.repomirrorworker] Source \'docker://quay.io/prometheus/node-exporter:v1.7.0\' failed to sync.';
const NGINX_JUNK = 'nginx stdout | this is not an access line';
const GUNICORN_JUNK = 'gunicorn-registry stdout | an unparseable gunicorn line';
const GUNICORN_PULL =
  'gunicorn-registry stdout | 2026-11-22 10:15:33,120 [301] [INFO] [gunicorn.access] 10.128.2.14 - - [22/Nov/2026:10:15:33 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.0" 200 1570 "-" "containers/5.30.0 (github.com/containers/image)"';

const piece = (...lines: string[]) => new TextEncoder().encode(lines.map((l) => l + '\n').join(''));

function share(extra: Record<string, unknown> = {}, source: 'supervisord' | 'nginx' | 'gunicorn' | 'repomirrorworker' = 'supervisord', trafficSource: 'nginx' | 'gunicorn' = 'nginx', maxLineBytes = 65_536) {
  const config = parseConfig({ state_dir: '/nonexistent', shipped_rules: false, ...extra });
  return new OrderFreeShare({ config, source, trafficSource, maxLineBytes, rules: ruleSources(config) });
}

const series = (s: OrderFreeShare, name: 'quay_registry_pulls_total' | 'quay_log_exporter_lines_total') =>
  [...s.registry.counter(name).slots.values()].map((slot: ValueSlot) => [Object.values(slot.attributes).join('/'), slot.value]);

describe('OrderFreeShare.piece (supervisord)', () => {
  it('records nginx and gunicorn lines, hands back every other line with its index in the piece', () => {
    const s = share();
    const r = s.piece(piece(PULL('app'), MIRROR, GUNICORN_JUNK, NGINX_JUNK, 'no prefix at all', PULL('web'), 'nginx!'), 3);
    // Lines 1 (mirror: order-dependent), 4 and 6 (no supervisord prefix; "nginx!" is not "nginx") go back, in order.
    expect(r.seq).toBe(3);
    expect(r.count).toBe(3);
    expect(r.lines).toBe(`${MIRROR}\nno prefix at all\nnginx!`);
    expect(Array.from(r.at)).toEqual([1, 4, 6]);
    // Two nginx pulls (lines 0 and 5); gunicorn is not the traffic source here.
    expect(series(s, 'quay_registry_pulls_total')).toEqual([
      ['acme/app', 1],
      ['acme/web', 1],
    ]);
    // lines_total: the share's own six series (nginx, gunicorn × matched, unmatched, ignored), made at start;
    // nginx: 2 matched (lines 0, 5) + 1 unmatched (line 3); gunicorn: 1 unmatched (line 2). Handed-back lines: not counted here.
    expect(series(s, 'quay_log_exporter_lines_total')).toEqual([
      ['nginx/matched', 2],
      ['nginx/unmatched', 1],
      ['nginx/ignored', 0],
      ['gunicorn/matched', 0],
      ['gunicorn/unmatched', 1],
      ['gunicorn/ignored', 0],
    ]);
  });

  it('every slot is stamped with its line\'s position: piece × 2^27 + index; slots made before any line: -1', () => {
    const s = share();
    s.piece(piece(MIRROR, PULL('app')), 0);
    s.piece(piece(PULL('web'), PULL('app'), MIRROR, MIRROR, PULL('db')), 2);
    const snap = s.snapshot();
    const pulls = snap.find((f) => f.name === 'quay_registry_pulls_total')!;
    // app: piece 0 line 1; web: piece 2 line 0; db: piece 2 line 4 (app again in piece 2 adds, keeps its birth).
    expect(pulls.labels).toEqual([
      ['acme', 'app'],
      ['acme', 'web'],
      ['acme', 'db'],
    ]);
    expect(Array.from(pulls.born)).toEqual([1, 2 * LINE_BITS, 2 * LINE_BITS + 4]);
    expect(Array.from(pulls.data)).toEqual([2, 1, 1]);
    const lines = snap.find((f) => f.name === 'quay_log_exporter_lines_total')!;
    expect(Array.from(lines.born)).toEqual([-1, -1, -1, -1, -1, -1]);
    // lines_truncated_total's slot is made after the stamping starts, before any line: -1 too
    expect(Array.from(snap.find((f) => f.name === 'quay_log_exporter_lines_truncated_total')!.born)).toEqual([-1]);
  });

  it('a line longer than max_line_bytes is cut and counted in the share; the cut part is its own line', () => {
    const s = share({}, 'supervisord', 'nginx', 64);
    // NGINX_JUNK is 42 bytes + newline: fits; PULL is over 200: cut to 64 bytes, counted once, and that head is an
    // nginx line that does not parse (unmatched).
    const r = s.piece(piece(NGINX_JUNK, PULL('app')), 0);
    expect(r.count).toBe(0);
    expect(s.registry.counter('quay_log_exporter_lines_truncated_total').at().value).toBe(1);
    expect(s.registry.counter('quay_log_exporter_lines_total').at('nginx', 'unmatched').value).toBe(2);
    expect(s.registry.counter('quay_registry_pulls_total').slots.size).toBe(0);
  });

  it('an empty line and a CRLF line: one empty line handed back; the CR is not part of a line', () => {
    const s = share();
    const r = s.piece(new TextEncoder().encode(`\n${PULL('app')}\r\n`), 0);
    // Line 0 is empty (no prefix: handed back, count 1 with text ''); line 1 the pull without its CR.
    expect([r.count, r.lines, Array.from(r.at)]).toEqual([1, '', [0]]);
    expect(series(s, 'quay_registry_pulls_total')).toEqual([['acme/app', 1]]);
  });

  it('gunicorn as the traffic source: gunicorn access lines count pulls, nginx access lines are ignored', () => {
    const s = share({}, 'supervisord', 'gunicorn');
    s.piece(piece(GUNICORN_PULL, PULL('web')), 0);
    expect(series(s, 'quay_registry_pulls_total')).toEqual([['acme/app', 1]]);
    expect(s.registry.counter('quay_log_exporter_lines_total').at('nginx', 'ignored').value).toBe(1);
    expect(s.registry.counter('quay_log_exporter_lines_total').at('gunicorn', 'matched').value).toBe(1);
  });

  it('a rule that reads nginx lines is applied in the share, told whether the built-in parser matched the line', () => {
    const rules = [
      { name: 'junk', programs: 'nginx', match: 'not an access', metrics: [{ name: 'junk_lines_total', type: 'counter' }] },
      { name: 'any_get', programs: 'nginx', match: 'GET /v2/', metrics: [{ name: 'gets_total', type: 'counter' }] },
      { name: 'any_get_too', programs: 'nginx', match: 'GET /v2/', include_matched: true, metrics: [{ name: 'all_gets_total', type: 'counter' }] },
    ];
    const s = share({ rules });
    s.piece(piece(NGINX_JUNK, PULL('app'), PULL('web'), GUNICORN_JUNK, 'nginx stdout | GET /v2/ by hand'), 0);
    // junk: line 0 only. GETs: lines 1 and 2 are matched by the nginx parser, so only the include_matched rule
    // counts them (2 + line 4 = 3); line 4 is unmatched by the parser: both GET rules count it (1 and 3).
    expect(s.registry.definedCounter('junk_lines_total').at().value).toBe(1);
    expect(s.registry.definedCounter('gets_total').at().value).toBe(1);
    expect(s.registry.definedCounter('all_gets_total').at().value).toBe(3);
    expect(s.registry.counter('quay_log_exporter_rule_matches_total').at('junk').value).toBe(1);
  });
});

describe('OrderFreeShare for a whole order-free input', () => {
  it('source nginx: every line goes through the router, nothing is handed back', () => {
    const s = share({}, 'nginx');
    const r = s.piece(piece(PULL('app').slice('nginx stdout | '.length), 'not an access line'), 5);
    expect([r.seq, r.count, r.lines, Array.from(r.at)]).toEqual([5, 0, '', []]);
    expect(series(s, 'quay_registry_pulls_total')).toEqual([['acme/app', 1]]);
    expect(s.registry.counter('quay_log_exporter_lines_total').at('nginx', 'unmatched').value).toBe(1);
    expect(Array.from(s.snapshot().find((f) => f.name === 'quay_registry_pulls_total')!.born)).toEqual([5 * LINE_BITS]);
  });

  it('an order-dependent source is refused', () => {
    expect(() => share({}, 'repomirrorworker')).toThrow('source repomirrorworker is not order-free');
  });

  it('its registry folds nothing below a million series per metric', () => {
    expect(share().registry.maxSeriesPerMetric).toBe(SHARE_SERIES_BOUND);
    expect(SHARE_SERIES_BOUND).toBe(1_000_000);
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { EventBus, type QuayEvent } from '../../events.js';
import { PatternLibrary } from '../../grok/index.js';
import { silentLogger } from '../../log.js';
import { MetricRegistry } from '../../metrics/series.js';
import { LineFields } from '../../records/fields.js';
import { LineResult, type ParserContext } from '../types.js';
import { createMirrorTracker, UNKNOWN, type MirrorTracker } from './index.js';
import { mirrorRoutes } from './routes.js';
import { STATE_FILE } from './status.js';

const FIXTURES = new URL('../../../test/fixtures/', import.meta.url);
const PREFIX = 'repomirrorworker stdout | ';
const grok = PatternLibrary.bundled();
const secs = (text: string) => Date.parse(text.replace(' ', 'T').replace(',', '.') + 'Z') / 1000;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mirror-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function setup(mirror: Record<string, unknown> = {}) {
  const config = parseConfig({ state_dir: dir, mirror });
  const registry = new MetricRegistry();
  const events = new EventBus();
  const got: QuayEvent[] = [];
  events.add({ emit: (e) => got.push(e) });
  const ctx: ParserContext = { config, registry, events, grok, log: silentLogger };
  const tracker = createMirrorTracker(ctx);
  const results: LineResult[] = [];
  const feed = (lines: string[]) => {
    for (const l of lines) results.push(tracker.parser.parse(l, l.startsWith(PREFIX) ? PREFIX.length : 0));
  };
  const fixture = (name: string) => feed(readFileSync(new URL(name, FIXTURES), 'utf8').split('\n').filter((l) => l !== ''));
  const counter = (name: Parameters<MetricRegistry['counter']>[0], ...labels: string[]) =>
    registry.counter(name).has(...labels) ? registry.counter(name).at(...labels).value : 0;
  const status = (ns: string, repo: string) => {
    const out: Record<string, number> = {};
    for (const slot of registry.gauge('quay_log_repository_mirror_last_sync_status').slots.values()) {
      const a = slot.attributes;
      if (a['namespace'] === ns && a['repository'] === repo) out[`${a['status']}/${a['last_error_reason']}`] = slot.value;
    }
    return out;
  };
  return { tracker, registry, got, results, feed, fixture, counter, status };
}

const line = (time: string, pid: number, level: string, logger: string, msg: string) =>
  `${PREFIX}2026-11-22 ${time} [${pid}] [${level}] [${logger}] ${msg}`;
const jobLine = (time: string, pid: number, upstream: string, tag: string, local: string) =>
  line(time, pid, 'DEBUG', 'util.repomirror.skopeomirror', `Creating mirroring job: upstream image docker://${upstream}:${tag}, local repository docker://quay.example.com/${local}:${tag}`);
const tagLine = (time: string, pid: number, upstream: string, tag: string, ok: boolean) =>
  line(time, pid, 'INFO', 'workers.repomirrorworker', `Source 'docker://${upstream}:${tag}' ${ok ? 'successful sync' : 'failed to sync'}.`);

describe('mirror tracker: replay of interleaved workers (test/fixtures/mirror-interleaved.log)', () => {
  it('counts tags, attempts, failures and reasons as the attempt rule says', () => {
    const s = setup();
    s.fixture('mirror-interleaved.log');

    // 29 lines: one is not a Python log line; all others are.
    expect(s.results.filter((r) => r === LineResult.Unmatched)).toHaveLength(1);
    expect(s.results.filter((r) => r === LineResult.Matched)).toHaveLength(28);

    // Tag lines by repository (counted by hand in the fixture):
    // node-exporter: failed v1.7.0 10:15:40; ok v1.8.0 10:15:50, v1.7.0 10:31:40, v1.8.0 10:31:50.
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'node-exporter', 'success')).toBe(3);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'node-exporter', 'failed')).toBe(1);
    // alpine: ok 3.19 10:15:41, 3.20 10:15:52, 3.19 10:46:10; failed 3.20 10:58:00.
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'team', 'alpine', 'success')).toBe(3);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'team', 'alpine', 'failed')).toBe(1);
    // nginx: failed 10:16:05 and 10:30:10 (the second has no job line of its own: pid 88's last job names it).
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'nginx', 'failed')).toBe(2);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'nginx', 'success')).toBe(0);

    // Attempts. alpine: #1 pid 91 10:15:31–10:15:52 ok,ok (ended by its run's end) = success;
    // #2 10:30:00 cancelled; #3 10:46:00–10:46:10 ok, ended by the idle gap (next pid-91 line at 10:58:00,
    // 11m50s later) = success; #4 10:58:00 failed, ended by the run's end = failed.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'alpine', 'success')).toBe(2);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'alpine', 'cancelled')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'alpine', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'alpine', 'partial')).toBe(0);
    // node-exporter: #1 pid 88 failed+ok, ended by pid 88's next repository (nginx, 10:16:00) = partial;
    // #2 pid 88 10:31:00 job only, ended when the restarted worker (pid 120) took the repository = failed;
    // #3 pid 120 ok,ok, ended by the idle gap (10:45:00 line of pid 121, 13m10s later) = success.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'partial')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'success')).toBe(1);
    // nginx: two attempts of one failed tag each.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'nginx', 'failed')).toBe(2);

    // Failures by reason: the tag line counts, with the pid's skopeo error before it.
    // mirrors: rate_limited (10:15:40), auth_failed (10:16:05), unknown_error ×2 (10:30:10 has no skopeo
    // line; the 10:31:00 attempt had no tag result at all). team: unknown_error (10:58:00).
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'rate_limited')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'auth_failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'unknown_error')).toBe(2);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'team', 'unknown_error')).toBe(1);
    let total = 0;
    for (const slot of s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.values()) total += slot.value;
    expect(total).toBe(5);

    // State sets: exactly one series is 1 per repository; old reasons are back to 0.
    expect(s.status('team', 'alpine')).toEqual({ 'success/': 0, 'syncing/': 0, 'cancelled/': 0, 'failed/': 0, 'failed/unknown_error': 1 });
    expect(s.status('mirrors', 'node-exporter')).toEqual({
      'success/': 1,
      'syncing/': 0,
      'cancelled/': 0,
      'failed/': 0,
      'failed/rate_limited': 0,
      'failed/unknown_error': 0,
    });
    expect(s.status('mirrors', 'nginx')).toEqual({
      'success/': 0,
      'syncing/': 0,
      'cancelled/': 0,
      'failed/': 0,
      'failed/auth_failed': 0,
      'failed/unknown_error': 1,
    });

    const complete = s.registry.gauge('quay_log_repository_mirror_sync_complete');
    expect(complete.at('mirrors', 'node-exporter').value).toBe(1);
    expect(complete.at('team', 'alpine').value).toBe(0);
    expect(complete.at('mirrors', 'nginx').value).toBe(0);
    const ts = s.registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds');
    expect(ts.at('team', 'alpine').value).toBe(secs('2026-11-22 10:58:00,000'));
    expect(ts.at('mirrors', 'node-exporter').value).toBe(secs('2026-11-22 10:31:50,000'));
    expect(ts.at('mirrors', 'nginx').value).toBe(secs('2026-11-22 10:30:10,000'));

    // Durations (first to last line of each attempt): mirrors 20, 0, 20, 5.001, 0 s; team 21, 5, 10, 0 s.
    const h = s.registry.histogram('quay_log_repository_mirror_sync_duration_seconds');
    expect(h.at('mirrors').count).toBe(5);
    expect(h.at('mirrors').sum).toBeCloseTo(45.001, 6);
    expect(h.at('team').count).toBe(4);
    expect(h.at('team').sum).toBeCloseTo(36, 6);
    expect(Array.from(h.at('team').counts)).toEqual([4, 0, 0, 0, 0]);

    // Events: one per tag line (10) and one for the cancelled sync …
    const sync = s.got.filter((e) => e.measurement === 'quay_mirror_sync');
    expect(sync).toHaveLength(11);
    // … and one quay_mirror_attempt per attempt counted above.
    let attempts = 0;
    for (const slot of s.registry.counter('quay_log_repository_mirror_sync_attempts_total').slots.values()) attempts += slot.value;
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt')).toHaveLength(attempts);
    const first = sync[0]!;
    expect(first).toEqual({
      measurement: 'quay_mirror_sync',
      time: Date.UTC(2026, 10, 22, 10, 15, 40, 6),
      tags: { namespace: 'mirrors', repository: 'node-exporter', result: 'failed', reason: 'rate_limited' },
      fields: {
        upstream: 'quay.io/prometheus/node-exporter',
        tag: 'v1.7.0',
        error: expect.stringContaining('toomanyrequests: too many requests'),
      },
    });
    expect(sync.filter((e) => e.tags['result'] === 'cancelled')).toEqual([
      expect.objectContaining({ tags: { namespace: 'team', repository: 'alpine', result: 'cancelled', reason: 'cancelled' } }),
    ]);
  });

  it('health: 503 while repositories fail, 200 after they recover, 503 again when the worker goes quiet', () => {
    const s = setup();
    s.fixture('mirror-interleaved.log');
    const now = Date.now();
    const q = new URLSearchParams();

    const bad = s.tracker.health(q, now);
    expect(bad.status).toBe(503);
    const body = bad.body as { healthy: boolean; repositories: Array<Record<string, unknown>>; worker: { last_seen: string; stale: boolean } };
    expect(body.healthy).toBe(false);
    expect(body.worker.stale).toBe(false);
    // nginx failed twice in a row, alpine once since its last success; node-exporter recovered.
    expect(body.repositories).toEqual([
      { namespace: 'mirrors', repository: 'nginx', status: 'failed', last_error_reason: 'unknown_error', last_attempt: '2026-11-22T10:30:10.000Z', consecutive_failures: 2 },
      { namespace: 'mirrors', repository: 'node-exporter', status: 'success', last_error_reason: '', last_attempt: '2026-11-22T10:31:50.000Z', consecutive_failures: 0 },
      { namespace: 'team', repository: 'alpine', status: 'failed', last_error_reason: 'unknown_error', last_attempt: '2026-11-22T10:58:00.000Z', consecutive_failures: 1 },
    ]);
    // A filter on the healthy repository alone answers 200.
    expect(s.tracker.health(new URLSearchParams('namespace=mirrors&repository=node-exporter'), now).status).toBe(200);
    expect((s.tracker.health(new URLSearchParams('namespace=team'), now).body as { repositories: unknown[] }).repositories).toHaveLength(1);

    // With unhealthy_after_failures 2 only nginx (2 in a row) makes it unhealthy.
    const lenient = setup({ unhealthy_after_failures: 2 });
    lenient.fixture('mirror-interleaved.log');
    expect(lenient.tracker.health(new URLSearchParams('repository=alpine'), Date.now()).status).toBe(200);
    expect(lenient.tracker.health(new URLSearchParams('repository=nginx'), Date.now()).status).toBe(503);

    // Both failing repositories succeed once: healthy.
    s.fixture('mirror-recovery.log');
    const good = s.tracker.health(q, Date.now());
    expect(good.status).toBe(200);
    expect((good.body as { repositories: Array<{ status: string }> }).repositories.map((r) => r.status)).toEqual(['success', 'success', 'success']);

    // No mirror-worker line for stale_after (15 min) while mirrors are known: unhealthy.
    const later = Date.now();
    expect(s.tracker.health(q, later + 14 * 60_000).status).toBe(200);
    const stale = s.tracker.health(q, later + 15 * 60_000 + 1000);
    expect(stale.status).toBe(503);
    expect((stale.body as { worker: { stale: boolean } }).worker.stale).toBe(true);
  });

  it('saves the last status per repository and a new tracker restores it', () => {
    const s = setup();
    s.fixture('mirror-interleaved.log');
    s.tracker.save();
    const saved = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { repositories: unknown[] };
    expect(saved.repositories).toHaveLength(3);

    const r = setup();
    expect(r.status('mirrors', 'nginx')).toEqual({ 'success/': 0, 'syncing/': 0, 'cancelled/': 0, 'failed/unknown_error': 1 });
    expect(r.status('mirrors', 'node-exporter')).toEqual({ 'success/': 1, 'syncing/': 0, 'cancelled/': 0, 'failed/': 0 });
    expect(r.registry.gauge('quay_log_repository_mirror_sync_complete').at('mirrors', 'node-exporter').value).toBe(1);
    expect(r.registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds').at('team', 'alpine').value).toBe(secs('2026-11-22 10:58:00,000'));
    const h = r.tracker.health(new URLSearchParams(), Date.now());
    expect(h.status).toBe(503);
    expect((h.body as { repositories: Array<{ consecutive_failures: number }> }).repositories.map((x) => x.consecutive_failures)).toEqual([2, 0, 1]);

    // The restored count continues: one more nginx failure makes 3.
    r.feed([tagLine('12:00:00,000', 300, 'docker.io/library/nginx', '1.25', false)]);
    r.tracker.tick(Date.now() + 10 * 60_000);
    // Without a job line or mapping the repository is unknown: nginx keeps its restored status.
    expect(r.status('unknown', 'unknown')['failed/unknown_error']).toBe(1);
    expect(r.status('mirrors', 'nginx')['failed/unknown_error']).toBe(1);
  });

  it('restores only well-formed entries of a saved file, each field checked', () => {
    const T = Date.UTC(2026, 10, 22, 10, 0, 0);
    writeFileSync(
      join(dir, STATE_FILE),
      JSON.stringify({
        version: 1,
        worker_last_seen_ms: T,
        repositories: [
          { namespace: 'm', repository: 'a', status: 'failed', last_error_reason: 'auth_failed', last_attempt_ms: T, last_sync_ms: T, consecutive_failures: 3.7, complete: false },
          { namespace: 'm', repository: 'b', status: 'failed', last_error_reason: '', consecutive_failures: -2 }, // empty reason: unknown_error; negative count: 0
          { namespace: 'm', repository: 'c', status: 'success', last_error_reason: 'auth_failed', complete: 'true' }, // a reason on success is dropped; "true" is not true
          { namespace: 'm', repository: 'd', status: 'syncing' }, // not a finished status
          { namespace: 'm', repository: 7, status: 'success' },
          { namespace: null, repository: 'e', status: 'success' },
          'not an object',
          ['m', 'f', 'success'],
          null,
        ],
      }),
    );
    const s = setup();
    const h = s.tracker.health(new URLSearchParams(), T + 60_000);
    expect((h.body as { repositories: unknown[] }).repositories).toEqual([
      { namespace: 'm', repository: 'a', status: 'failed', last_error_reason: 'auth_failed', last_attempt: new Date(T).toISOString(), consecutive_failures: 3 },
      { namespace: 'm', repository: 'b', status: 'failed', last_error_reason: 'unknown_error', last_attempt: null, consecutive_failures: 0 },
      { namespace: 'm', repository: 'c', status: 'success', last_error_reason: '', last_attempt: null, consecutive_failures: 0 },
    ]);
    // The worker was last seen 1 minute before "now": not stale (stale_after 15m).
    expect((h.body as { worker: unknown }).worker).toEqual({ last_seen: new Date(T).toISOString(), stale: false });
    expect(s.status('m', 'c')).toEqual({ 'success/': 1, 'syncing/': 0, 'cancelled/': 0, 'failed/': 0 });
    expect(s.registry.gauge('quay_log_repository_mirror_sync_complete').at('m', 'c').value).toBe(0);
    expect(s.registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds').at('m', 'a').value).toBe(T / 1000);
    // a failed its last 3 (3.7 truncated): a problem; b's count came back as 0, which is none.
    expect((h.body as { problems: string[] }).problems).toEqual(['m/a failed its last 3 sync attempt(s) (auth_failed)']);
  });

  it('refuses a saved file of another version or layout, and restores no worker time from a non-number', () => {
    for (const doc of [{ version: 2, repositories: [] }, { version: 1, repositories: {} }, [1], { version: 1, worker_last_seen_ms: '5', repositories: [] }]) {
      writeFileSync(join(dir, STATE_FILE), JSON.stringify(doc));
      const s = setup();
      expect((s.tracker.health(new URLSearchParams(), Date.now()).body as { worker: unknown }).worker).toEqual({ last_seen: null, stale: false });
    }
  });

  it('health: filters by namespace and repository, empty filters select all, sorted by namespace then repository; stale at exactly stale_after', () => {
    const T = Date.UTC(2026, 10, 22, 10, 0, 0);
    const repos = [
      ['z', 'a', 'success'],
      ['a', 'z', 'failed'],
      ['a', 'b', 'success'],
    ].map(([namespace, repository, status]) => ({ namespace, repository, status, last_error_reason: status === 'failed' ? 'not_found' : '', last_attempt_ms: T, last_sync_ms: T, consecutive_failures: status === 'failed' ? 1 : 0, complete: true }));
    writeFileSync(join(dir, STATE_FILE), JSON.stringify({ version: 1, worker_last_seen_ms: T, repositories: repos }));
    const s = setup({ stale_after: '15m' });
    const names = (q: string, now = T) => (s.tracker.health(new URLSearchParams(q), now).body as { repositories: { namespace: string; repository: string }[] }).repositories.map((r) => `${r.namespace}/${r.repository}`);
    expect(names('')).toEqual(['a/b', 'a/z', 'z/a']);
    expect(names('namespace=&repository=')).toEqual(['a/b', 'a/z', 'z/a']);
    expect(names('namespace=a')).toEqual(['a/b', 'a/z']);
    expect(names('repository=a')).toEqual(['z/a']);
    expect(names('namespace=a&repository=b')).toEqual(['a/b']);
    expect(s.tracker.health(new URLSearchParams('repository=b'), T).status).toBe(200);
    expect(s.tracker.health(new URLSearchParams('namespace=a'), T).status).toBe(503);
    // Stale: 15 min after the last worker line exactly, not a millisecond before.
    const fresh = s.tracker.health(new URLSearchParams('repository=b'), T + 15 * 60_000 - 1);
    expect(fresh.status).toBe(200);
    const stale = s.tracker.health(new URLSearchParams('repository=b'), T + 15 * 60_000);
    expect(stale.status).toBe(503);
    expect((stale.body as { problems: string[] }).problems).toEqual(['no mirror worker line for 900s or more']);
  });

  it('ignores a corrupt state file', () => {
    writeFileSync(join(dir, STATE_FILE), '{"version":1,"repositories":[{"namespace":');
    const s = setup();
    expect(s.tracker.health(new URLSearchParams(), Date.now()).status).toBe(200);
    expect(s.registry.gauge('quay_log_repository_mirror_last_sync_status').slots.size).toBe(0);
  });
});

describe('mirror tracker: attempt edges', () => {
  const NE = 'quay.io/prometheus/node-exporter';

  it('an attempt left open is syncing until tick() sees idle_gap of wall time', () => {
    const s = setup({ idle_gap: '10m' });
    s.feed([jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'), tagLine('10:00:05,000', 7, NE, 'v1', true)]);
    expect(s.status('mirrors', 'node-exporter')['syncing/']).toBe(1);
    expect(s.tracker.health(new URLSearchParams(), Date.now()).body).toMatchObject({ repositories: [{ status: 'syncing' }] });
    s.tracker.tick(Date.now() + 9 * 60_000);
    expect(s.status('mirrors', 'node-exporter')['syncing/']).toBe(1);
    s.tracker.tick(Date.now() + 10 * 60_000 + 1000);
    expect(s.status('mirrors', 'node-exporter')).toMatchObject({ 'syncing/': 0, 'success/': 1 });
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'success')).toBe(1);
  });

  it('the same pid after less than idle_gap continues the attempt; after idle_gap starts a new one', () => {
    const s = setup({ idle_gap: '5m' });
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      tagLine('10:00:05,000', 7, NE, 'v1', true),
      tagLine('10:04:59,000', 7, NE, 'v2', false), // 4m54s later: same attempt
      tagLine('10:10:00,000', 7, NE, 'v3', true), // 5m01s later: a new attempt
    ]);
    // The first attempt (ok, failed) closed as partial when the 10:10:00 line came; the second is open.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'partial')).toBe(1);
    expect(s.status('mirrors', 'node-exporter')['syncing/']).toBe(1);
  });

  it('uses mirror.repositories when no job line names the repository', () => {
    const s = setup({ repositories: { 'docker://docker.io/library/nginx': 'mirrors/nginx' } });
    s.feed([tagLine('10:00:00,000', 7, 'docker.io/library/nginx', '1.25', true), tagLine('10:00:01,000', 7, 'docker.io/library/redis', '7', true)]);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'nginx', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'unknown', 'unknown', 'success')).toBe(1);
    // Another upstream on the same pid ended the nginx attempt.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'nginx', 'success')).toBe(1);
  });

  it('mirror.repositories keys are read as Quay prints upstreams: no docker://, no trailing slashes', () => {
    const s = setup({ repositories: { 'docker://docker.io/library/nginx//': 'mirrors/nginx', 'quay.io/a/b': 'team/b' } });
    s.feed([tagLine('10:00:00,000', 7, 'docker.io/library/nginx', '1.25', true), tagLine('10:00:01,000', 8, 'quay.io/a/b', '1', false)]);
    // One line each, mapped through the table: mirrors/nginx synced, team/b failed.
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'nginx', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'team', 'b', 'failed')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_tag_syncs_total').slots.size).toBe(2);
  });

  it('a skopeo error idle_gap old is stale: the pid\'s next tag failure has no reason from it', () => {
    const s = setup({ idle_gap: '5m' });
    const FATAL = 'Skopeo command failed (exit code 1): time="x" level=fatal msg="toomanyrequests: rate limit"';
    s.feed([
      line('10:00:00,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', FATAL),
      line('10:00:00,000', 8, 'DEBUG', 'util.repomirror.skopeomirror', FATAL),
      tagLine('10:04:59,000', 8, NE, 'v1', false), // 4m59s after its error: the error's
      tagLine('10:05:00,000', 7, NE, 'v1', false), // exactly 5m after: stale, no reason
    ]);
    // No job line named the repository: unknown/unknown. One rate_limited (pid 8), one unknown_error (pid 7).
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'unknown', 'rate_limited')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'unknown', 'unknown_error')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.size).toBe(2);
  });

  it('a pid with no open attempt is forgotten 24 h (log time) after its last line, with the repository its job line named', () => {
    const s = setup();
    const day2 = (l: string) => l.replace(' 2026-11-22 ', ' 2026-11-23 ');
    const RUN_END = 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully';
    const OTHER = 'quay.io/prometheus/alertmanager';
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      jobLine('10:00:00,000', 9, OTHER, 'v1', 'mirrors/alertmanager'),
      line('10:00:01,000', 7, 'INFO', 'apscheduler.executors.default', RUN_END),
      line('10:00:01,000', 9, 'INFO', 'apscheduler.executors.default', RUN_END),
      // pid 9: 23h59m59s after its last line (the job line; a run's end line does not touch a pid): still known.
      day2(tagLine('09:59:59,000', 9, OTHER, 'v2', true)),
      // pid 7: exactly 24 h after its job line: forgotten, so its tag line names no repository.
      day2(tagLine('10:00:00,000', 7, NE, 'v2', true)),
    ]);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'alertmanager', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'unknown', 'unknown', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'node-exporter', 'success')).toBe(0);
  });

  it('a JSONLOG record (no time of its own): the time it was read, or the last logged time seen', () => {
    // The clock is set, not waited on: two records read 5 minutes apart.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const s = setup();
      const json = (message: string) => `${PREFIX}${JSON.stringify({ data: {}, message })}`;
      vi.setSystemTime(Date.UTC(2026, 10, 30, 12, 0, 0));
      s.feed([json(`Source 'docker://quay.io/x/a:1' successful sync.`)]);
      vi.setSystemTime(Date.UTC(2026, 10, 30, 12, 5, 0));
      s.feed([json(`Source 'docker://quay.io/x/a:2' successful sync.`)]);
      // A text line logged at 10:00:00 on the 22nd, then two more JSONLOG records.
      s.feed([jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'), json(`Source 'docker://${NE}:v1' successful sync.`)]);
      vi.setSystemTime(Date.UTC(2026, 10, 30, 12, 9, 0));
      s.feed([json(`Source 'docker://${NE}:v2' successful sync.`)]);
      const times = s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => e.time);
      expect(times).toEqual([
        // No logged time seen yet: each its own read time (12:00, then 12:05: not the first one's time kept).
        Date.UTC(2026, 10, 30, 12, 0, 0),
        Date.UTC(2026, 10, 30, 12, 5, 0),
        // After the text line: its 10:00:00 (the read times before it are no log time).
        Date.UTC(2026, 10, 22, 10, 0, 0),
        Date.UTC(2026, 10, 22, 10, 0, 0),
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a JSONLOG record takes the newest logged time seen, not the last: an older text line read later does not move it back', () => {
    const s = setup();
    const json = (message: string) => `${PREFIX}${JSON.stringify({ data: {}, message })}`;
    // Text lines logged at 10:00:05 (pid 7) and then 10:00:01 (pid 8, read later); then a JSONLOG tag result.
    s.feed([jobLine('10:00:05,000', 7, NE, 'v1', 'mirrors/node-exporter'), jobLine('10:00:01,000', 8, NE, 'v1', 'mirrors/node-exporter'), json(`Source 'docker://${NE}:v1' successful sync.`)]);
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => e.time)).toEqual([Date.UTC(2026, 10, 22, 10, 0, 5)]);
  });

  it('a probe error before the copy is not the copy\'s: the job line clears it', () => {
    const s = setup();
    s.feed([
      line('10:00:00,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo command failed (exit code 1): time="x" level=fatal msg="reading manifest v1: manifest unknown"'),
      jobLine('10:00:01,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      tagLine('10:00:09,000', 7, NE, 'v1', false),
    ]);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'unknown_error')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'not_found')).toBe(0);
  });

  it('counts source validation, pre-emption and decryption failures once each', () => {
    const s = setup();
    s.feed([
      line('10:00:00,000', 7, 'WARNING', 'workers.repomirrorworker', 'Repository mirror source validation failed for repository mirrors/evil'),
      line('10:00:01,000', 7, 'INFO', 'workers.repomirrorworker', 'Another repository mirror worker pre-empted us for repository: 17'),
      jobLine('10:00:02,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      line('10:00:03,000', 7, 'ERROR', 'workers.repomirrorworker', 'Failed to decrypt username or password for mirroring 5\nTraceback (most recent call last):\n  File "x.py", line 1\nDecryptionFailureException'),
      line('10:00:04,000', 7, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully'),
    ]);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'invalid_source_registry')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'unknown', 'preempted')).toBe(1);
    // The decryption failure is the attempt's one failure: closing it adds no unknown_error.
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'decryption_failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'unknown_error')).toBe(0);
    expect(s.status('mirrors', 'evil')['failed/invalid_source_registry']).toBe(1);
    expect(s.status('mirrors', 'node-exporter')['failed/decryption_failed']).toBe(1);
  });

  it('the events of each failure kind, field by field, and of the attempts they end', () => {
    const s = setup();
    const PREEMPT = 'Another repository mirror worker pre-empted us for repository: 17';
    const INVALID = 'Repository mirror source validation failed for repository mirrors/evil';
    const DECRYPT = 'Failed to decrypt username or password for mirroring 5';
    const RUN_END = 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully';
    const FATAL = 'Skopeo command failed (exit code 1): time="x" level=fatal msg="toomanyrequests: rate limit"';
    s.feed([
      line('10:00:00,000', 7, 'WARNING', 'workers.repomirrorworker', INVALID),
      line('10:00:01,000', 7, 'INFO', 'workers.repomirrorworker', PREEMPT),
      jobLine('10:00:02,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      line('10:00:03,000', 7, 'ERROR', 'workers.repomirrorworker', DECRYPT),
      line('10:00:04,000', 7, 'INFO', 'apscheduler.executors.default', RUN_END),
      // No attempt open now: a decryption failure of no known repository.
      line('10:00:05,000', 7, 'ERROR', 'workers.repomirrorworker', DECRYPT),
      line('10:00:06,000', 7, 'INFO', 'workers.repomirrorworker', 'Sync cancelled on repo team/app.'),
      jobLine('10:00:10,000', 7, NE, 'v2', 'mirrors/node-exporter'),
      line('10:00:11,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', FATAL),
      tagLine('10:00:12,000', 7, NE, 'v2', false),
      tagLine('10:00:13,000', 7, NE, 'v3', true),
      line('10:00:14,000', 7, 'INFO', 'apscheduler.executors.default', RUN_END),
    ]);
    const at = (t: string) => secs(`2026-11-22 ${t}`) * 1000;
    const sync = (t: string, namespace: string, repository: string, result: string, reason: string, upstream: string, tag: string, error: string) => ({
      measurement: 'quay_mirror_sync',
      time: at(t),
      tags: { namespace, repository, result, reason },
      fields: { upstream, tag, error },
    });
    const attempt = (t: string, namespace: string, repository: string, result: string, failed: number, reason: string, upstream: string, seconds: number) => ({
      measurement: 'quay_mirror_attempt',
      time: at(t),
      tags: { namespace, repository, result },
      fields: { failed, reason, upstream, duration_seconds: seconds },
    });
    expect(s.got).toEqual([
      // The validation failure is an attempt of its own, failed at once (0 s).
      sync('10:00:00,000', 'mirrors', 'evil', 'failed', 'invalid_source_registry', '', '', INVALID),
      attempt('10:00:00,000', 'mirrors', 'evil', 'failed', 1, 'invalid_source_registry', '', 0),
      // Pre-emption names a mirror id, not a repository.
      sync('10:00:01,000', 'unknown', 'unknown', 'failed', 'preempted', '', '', PREEMPT),
      // Decryption fails the open attempt (job at :02), which the run's end closes at its last line (:03), 1 s.
      sync('10:00:03,000', 'mirrors', 'node-exporter', 'failed', 'decryption_failed', NE, '', DECRYPT),
      attempt('10:00:03,000', 'mirrors', 'node-exporter', 'failed', 1, 'decryption_failed', NE, 1),
      sync('10:00:05,000', 'unknown', 'unknown', 'failed', 'decryption_failed', '', '', DECRYPT),
      // A cancel: the attempt (not failed, no reason) first, then the sync event.
      attempt('10:00:06,000', 'team', 'app', 'cancelled', 0, '', '', 0),
      sync('10:00:06,000', 'team', 'app', 'cancelled', 'cancelled', '', '', ''),
      // v2 failed with the skopeo error before it (its core: the one fatal line, the whole message here); v3 synced.
      sync('10:00:12,000', 'mirrors', 'node-exporter', 'failed', 'rate_limited', NE, 'v2', FATAL),
      sync('10:00:13,000', 'mirrors', 'node-exporter', 'success', '', NE, 'v3', ''),
      // One failed and one synced tag: partial, failed with the first failure's reason, :10 → :13 = 3 s.
      attempt('10:00:13,000', 'mirrors', 'node-exporter', 'partial', 1, 'rate_limited', NE, 3),
    ]);
  });

  it('a cancel with no open attempt is a cancelled attempt of its own', () => {
    const s = setup();
    s.feed([line('10:00:00,000', 7, 'INFO', 'workers.repomirrorworker', 'Sync cancelled on repo team/app.v2.')]);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'app.v2', 'cancelled')).toBe(1);
    expect(s.status('team', 'app.v2')['cancelled/']).toBe(1);
  });
});

describe('mirror tracker: texts of older and newer Quay releases', () => {
  const NE = 'quay.io/prometheus/node-exporter';
  const skopeo = (time: string, pid: number, kind: 'STDERR' | 'STDOUT', text: string) =>
    line(time, pid, 'DEBUG', 'util.repomirror.skopeomirror', `Skopeo [${kind}]: ${text}`);

  it('v3.8–3.16: the failure reason comes from the lines after `Skopeo [STDERR]`, with or without time=', () => {
    const s = setup({ repositories: { [NE]: 'mirrors/node-exporter' } });
    s.feed([
      skopeo('10:00:01,000', 7, 'STDERR', 'time="2026-11-22T10:00:01Z" level=debug msg="Ping https://quay.io/v2/ status 401"'),
      PREFIX + 'level=fatal msg="initializing source docker://quay.io/prometheus/node-exporter:v1: pinging container registry quay.io: Get \\"https://quay.io/v2/\\": dial tcp 10.0.0.1:443: connect: connection refused"',
      skopeo('10:00:01,001', 7, 'STDOUT', ''),
      tagLine('10:00:01,002', 7, NE, 'v1', false),
    ]);
    // Not auth_failed (the debug ping's 401): the fatal line says connection refused.
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'connection_error')).toBe(1);
    expect(s.results).toEqual([LineResult.Matched, LineResult.Matched, LineResult.Matched, LineResult.Matched]);
  });

  it('v3.5–3.7: a successful run\'s stderr is no error; stdout lines count as matched', () => {
    const s = setup({ repositories: { [NE]: 'mirrors/node-exporter' } });
    s.feed([
      skopeo('10:00:01,000', 7, 'STDERR', 'time="2026-11-22T10:00:01Z" level=debug msg="Ping https://quay.io/v2/ status 401"'),
      skopeo('10:00:01,001', 7, 'STDOUT', 'Getting image source signatures'),
      PREFIX + 'Copying blob sha256:aa2a8d90b84cb2a9c422e7005cd166a008ccf22ef5d7d4f07128478585ce35ea',
      PREFIX + 'Writing manifest to image destination',
      tagLine('10:00:01,002', 7, NE, 'v1', true),
    ]);
    expect(s.results.every((r) => r === LineResult.Matched)).toBe(true);
    expect(s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.size).toBe(0);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'node-exporter', 'success')).toBe(1);
  });

  it('v3.17: a failure on the architecture-filter path belongs to the repository the filter line names', () => {
    const s = setup();
    const info = (time: string, msg: string) => line(time, 9, 'INFO', 'workers.repomirrorworker', msg);
    s.feed([
      info('10:00:00,000', "Architecture filter for team/busybox: ['arm64']"),
      info('10:00:00,500', "Mirroring 1 architectures for docker://docker.io/library/busybox:1.36: ['arm64']"),
      info('10:00:00,600', 'Copying architecture arm64 (sha256:6e9f7aab3e6f4fac6d1f1f5e7f8d9cab1f2e3d4c5b6a79889807b6c5d4e3f2a0)'),
      line('10:00:02,000', 9, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo command failed (exit code 1): time="2026-11-22T10:00:02Z" level=fatal msg="reading blob sha256:6e9f: fetching blob: unknown blob"'),
      line('10:00:02,001', 9, 'ERROR', 'workers.repomirrorworker', 'Failed to copy arch arm64'),
      tagLine('10:00:02,002', 9, 'docker.io/library/busybox', '1.36', false),
      // The next sync of the same repository, at a later run, has its tag line only: the learned upstream names it.
      line('10:05:00,000', 9, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:05:30 UTC)" executed successfully'),
    ]);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'team', 'busybox', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'team', 'unknown_blob')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'busybox', 'failed')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_tag_syncs_total').has('unknown', 'unknown', 'failed')).toBe(false);
  });

  it('v3.17: org mirror tag results are tag results, its cancel a cancel', () => {
    const s = setup({ repositories: { 'harbor.example.com/proj/app': 'orgmirror/app' } });
    const info = (time: string, msg: string) => line(time, 9, 'INFO', 'workers.repomirrorworker', msg);
    s.feed([
      info('10:00:01,000', "Org mirror: Source 'docker://harbor.example.com/proj/app:v1' successful sync."),
      info('10:00:02,000', "Org mirror: Source 'docker://harbor.example.com/proj/app:v2' failed to sync."),
      info('10:00:03,000', 'Org mirror sync cancelled on repo orgmirror/app.'),
    ]);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'orgmirror', 'app', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'orgmirror', 'app', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'orgmirror', 'app', 'cancelled')).toBe(1);
  });

  it('v3.18: "Unexpected error during tag sync for org mirror <ns>/<repo>" is one failure of that repository', () => {
    const s = setup({ repositories: { 'harbor.example.com/proj/app': 'orgmirror/app' } });
    const err = (time: string, repo: string) => line(time, 9, 'ERROR', 'workers.repomirrorworker', `Unexpected error during tag sync for org mirror orgmirror/${repo}`);
    s.feed([
      line('10:00:01,000', 9, 'INFO', 'workers.repomirrorworker', "Org mirror: Source 'docker://harbor.example.com/proj/app:v1' successful sync."),
      // Joined by a multiline stage: the reason comes from the traceback's last line.
      err('10:00:02,000', 'app') + '\nTraceback (most recent call last):\n  File "/quay-registry/workers/repomirrorworker/__init__.py", line 1700, in _sync\nrequests.exceptions.ConnectionError: Connection refused',
      // Not joined: unknown_error, and the traceback lines count as matched.
      err('10:01:00,000', 'tool'),
      PREFIX + 'Traceback (most recent call last):',
      PREFIX + 'peewee.OperationalError: (2006, "MySQL server has gone away")',
    ]);
    expect(s.results.every((r) => r === LineResult.Matched)).toBe(true);
    // app: v1 synced, then the error → partial, connection_error. tool: failed, unknown_error.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'orgmirror', 'app', 'partial')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'orgmirror', 'tool', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'orgmirror', 'connection_error')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'orgmirror', 'unknown_error')).toBe(1);
    expect(s.status('orgmirror', 'tool')['failed/unknown_error']).toBe(1);
  });

  it('an unchanged tag is a synced tag of the open attempt; a run end or unchanged tag of a pid with none changes nothing', () => {
    const s = setup();
    const RUN_END = 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully';
    const info = (time: string, pid: number, msg: string) => line(time, pid, 'INFO', 'workers.repomirrorworker', msg);
    s.feed([
      line('10:00:00,000', 5, 'INFO', 'apscheduler.executors.default', RUN_END), // pid 5 never seen
      info('10:00:01,000', 6, "Skipping unchanged tag 'v1' (digest sha256:ab)"), // pid 6 has no attempt
      jobLine('10:00:02,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      info('10:00:03,000', 7, "Skipping unchanged tag 'v1' (digest sha256:ab)"),
      line('10:00:05,000', 7, 'INFO', 'apscheduler.executors.default', RUN_END),
    ]);
    expect(s.results.every((r) => r === LineResult.Matched)).toBe(true);
    // One attempt, one tag ok (unchanged), 10:00:02 → 10:00:03 = 1 s; no failure anywhere.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'success')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_sync_attempts_total').slots.size).toBe(1);
    const d = s.registry.histogram('quay_log_repository_mirror_sync_duration_seconds').at('mirrors');
    expect([d.count, d.sum]).toEqual([1, 1]);
    expect(s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.size).toBe(0);
  });

  it('v3.17 sparse manifest path: the repository from its own line, the upstream from the architectures line', () => {
    const s = setup();
    const info = (time: string, msg: string) => line(time, 9, 'INFO', 'workers.repomirrorworker', msg);
    const RUN_END = 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully';
    s.feed([
      info('10:00:00,000', 'Pushed sparse manifest list for team/busybox:1.35'),
      info('10:00:01,000', 'Copying architecture arm64 (sha256:6e9f7aab3e6f4fac6d1f1f5e7f8d9cab1f2e3d4c5b6a79889807b6c5d4e3f2a0)'),
      info('10:00:02,000', "Mirroring 1 architectures for docker://docker.io/library/busybox:1.36: ['arm64']"),
      // The same repository named again: the same attempt.
      info('10:00:03,000', 'Pushed sparse manifest list for team/busybox:1.36'),
      tagLine('10:00:03,500', 9, 'docker.io/library/busybox', '1.36', true),
      line('10:00:04,000', 9, 'INFO', 'apscheduler.executors.default', RUN_END),
    ]);
    // One attempt of team/busybox, 10:00:00 → 10:00:03.5 = 3.5 s, its upstream learned from the architectures line.
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt')).toEqual([
      {
        measurement: 'quay_mirror_attempt',
        time: secs('2026-11-22 10:00:03,500') * 1000,
        tags: { namespace: 'team', repository: 'busybox', result: 'success' },
        fields: { failed: 0, reason: '', upstream: 'docker.io/library/busybox', duration_seconds: 3.5 },
      },
    ]);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'team', 'busybox', 'success')).toBe(1);
  });

  it("skopeo's stderr lines that no multiline stage joined are the error text, kept up to 64 KiB", () => {
    const FAILED = 'Skopeo command failed (exit code 1): x';
    const fatal = PREFIX + 'time="x" level=fatal msg="toomanyrequests: rate limit"';
    // The filler brings the kept text to 65,535 (the fatal line is added) or 65,536 characters (it is not).
    const run = (keptBeforeFatal: number) => {
      const s = setup();
      const filler = PREFIX + 'y'.repeat(keptBeforeFatal - FAILED.length - 1);
      s.feed([line('10:00:00,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', FAILED), filler, fatal, tagLine('10:00:01,000', 7, NE, 'v1', false)]);
      expect(s.results).toEqual([LineResult.Matched, LineResult.Matched, LineResult.Matched, LineResult.Matched]);
      const failures = s.registry.counter('quay_log_repository_mirror_sync_failures_total');
      return [...failures.slots.values()].map((slot) => `${slot.attributes['reason']}=${slot.value}`);
    };
    expect(run(65_535)).toEqual(['rate_limited=1']);
    // Without a fatal line the text says nothing a reason knows.
    expect(run(65_536)).toEqual(['unknown_error=1']);
  });

  it('a joined skopeo error (a multiline stage joined its stderr) is kept up to 64 KiB too, its later lines included', () => {
    const FAILED = 'Skopeo command failed (exit code 1): x';
    // The record line and its joined lines: FAILED's text after the prefix is "x", then "\n" + each line.
    const run = (fillerChars: number) => {
      const s = setup();
      const joined = line('10:00:00,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', FAILED) + '\n' + 'y'.repeat(fillerChars) + '\ntime="x" level=fatal msg="toomanyrequests: rate limit"';
      s.feed([joined, tagLine('10:00:01,000', 7, NE, 'v1', false)]);
      const failures = s.registry.counter('quay_log_repository_mirror_sync_failures_total');
      return [...failures.slots.values()].map((slot) => `${slot.attributes['reason']}=${slot.value}`);
    };
    // Kept: the message (38 characters) + "\n" + filler + "\n" + the fatal line (54): 38 + 1 + 65,442 + 55 = 65,536, all of it.
    expect(run(65_442)).toEqual(['rate_limited=1']);
    // 38 more filler characters: only 65,536 - 38 - 1 - 65,480 = 17 of the fatal part are kept ("\ntime=\"x\" level=f"):
    // no fatal line, no known text: unknown_error.
    expect(run(65_480)).toEqual(['unknown_error=1']);
  });

  it('a joined skopeo error cut short by the multiline stage takes its later lines unjoined: the joined part is kept once, so they still fit', () => {
    const s = setup();
    const FAILED = 'Skopeo command failed (exit code 1): x';
    // The joined part: the message (38) + "\n" + 40,000 filler = 40,039 characters, under 64 KiB (65,536) once;
    // kept twice (the message capture already spans the joined lines) it was 80,078, cut to 65,536, and the
    // fatal line that came after as an unjoined stderr line found no room: unknown_error instead of rate_limited.
    s.feed([
      line('10:00:00,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', FAILED) + '\n' + 'y'.repeat(40_000),
      'time="x" level=fatal msg="toomanyrequests: rate limit"',
      tagLine('10:00:01,000', 7, NE, 'v1', false),
    ]);
    const failures = s.registry.counter('quay_log_repository_mirror_sync_failures_total');
    expect([...failures.slots.values()].map((slot) => `${slot.attributes['reason']}=${slot.value}`)).toEqual(['rate_limited=1']);
  });

  it('only a run of _process_mirrors / _process_org_mirrors ends an attempt, executed or raised; an architecture copy prolongs it', () => {
    const s = setup();
    const aps = (time: string, pid: number, job: string, outcome: string) =>
      line(time, pid, 'INFO', 'apscheduler.executors.default', `Job "${job} (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:30 UTC)" ${outcome}`);
    const info = (time: string, pid: number, msg: string) => line(time, pid, 'INFO', 'workers.repomirrorworker', msg);
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      tagLine('10:00:01,000', 7, NE, 'v1', true),
      aps('10:00:02,000', 7, 'RepoMirrorWorker._cleanup_stale', 'executed successfully'), // another job: not the sync run
      tagLine('10:00:03,000', 7, NE, 'v2', true),
      aps('10:00:04,000', 7, 'RepoMirrorWorker._process_mirrors', 'raised an exception'),
      info('10:00:00,000', 8, "Architecture filter for team/busybox: ['arm64']"),
      info('10:00:05,000', 8, 'Copying architecture arm64 (sha256:6e9f7aab3e6f4fac6d1f1f5e7f8d9cab1f2e3d4c5b6a79889807b6c5d4e3f2a0)'),
      aps('10:00:06,000', 8, 'RepoMirrorWorker._process_org_mirrors', 'executed successfully'),
    ]);
    // node-exporter: one attempt of two tags, 10:00:00 → 10:00:03 = 3 s, ended by the raised run.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'success')).toBe(1);
    // busybox: no tag result (failed), 10:00:00 → the copy at 10:00:05 = 5 s, ended by the org mirror run.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'busybox', 'failed')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_sync_attempts_total').slots.size).toBe(2);
    const d = (ns: string) => s.registry.histogram('quay_log_repository_mirror_sync_duration_seconds').at(ns);
    expect([d('mirrors').count, d('mirrors').sum]).toEqual([1, 3]);
    expect([d('team').count, d('team').sum]).toEqual([1, 5]);
  });

  it('v3.8–3.16: a reason stated on the `Skopeo [STDERR]` line itself', () => {
    const s = setup();
    s.feed([
      jobLine('10:00:00,000', 9, NE, 'v1', 'mirrors/node-exporter'),
      line('10:00:01,000', 9, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo [STDERR]: time="2026-11-22T10:00:01Z" level=fatal msg="toomanyrequests: rate limit"'),
      tagLine('10:00:02,000', 9, NE, 'v1', false),
    ]);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'rate_limited')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.size).toBe(1);
  });

  it('GET /mirror/health through its route: the tracker\'s answer as JSON', async () => {
    const s = setup();
    const reply = await mirrorRoutes(s.tracker)['/mirror/health']!({ method: 'GET', path: '/mirror/health', query: new URLSearchParams(), raw: undefined as never });
    // No mirror known: healthy, nothing listed.
    expect(reply.status).toBe(200);
    expect(reply.contentType).toBe('application/json');
    expect(JSON.parse(String(reply.body))).toMatchObject({ healthy: true, repositories_total: 0, repositories: [], problems: [] });
  });

  it("a tag failure's event carries the pid's skopeo error before it, once; none after a job line or for a new pid", () => {
    const s = setup();
    const FATAL = 'Skopeo command failed (exit code 1): time="x" level=fatal msg="toomanyrequests: rate limit"';
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      tagLine('10:00:01,000', 7, NE, 'v1', false), // no error logged
      line('10:00:02,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', FATAL),
      tagLine('10:00:03,000', 7, NE, 'v2', false), // FATAL's
      tagLine('10:00:04,000', 7, NE, 'v3', false), // FATAL was used up
      tagLine('10:00:05,000', 8, 'quay.io/x/y', '1', false), // a pid never seen
    ]);
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => [e.tags['reason'], e.fields['error']])).toEqual([
      ['unknown_error', ''],
      ['rate_limited', FATAL],
      ['unknown_error', ''],
      ['unknown_error', ''],
    ]);
  });

  it('an attempt with no tag result takes its reason from a skopeo error logged during it, not from debug lines', () => {
    const s = setup();
    const RUN_END = 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully';
    s.feed([
      jobLine('10:00:00,000', 11, NE, 'v1', 'mirrors/node-exporter'),
      line('10:00:01,000', 11, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo command failed (exit code 1): time="x" level=fatal msg="toomanyrequests: rate limit"'),
      line('10:00:02,000', 11, 'INFO', 'apscheduler.executors.default', RUN_END),
      jobLine('10:00:00,000', 12, 'quay.io/prometheus/alertmanager', 'v1', 'mirrors/alertmanager'),
      line('10:00:01,000', 12, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo [STDERR]: time="x" level=debug msg="Ping https://quay.io/v2/ status 401"'),
      line('10:00:02,000', 12, 'INFO', 'apscheduler.executors.default', RUN_END),
    ]);
    // Each attempt is one failure: node-exporter rate_limited (the fatal line), alertmanager unknown_error (debug only).
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'alertmanager', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'rate_limited')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'unknown_error')).toBe(1);
    expect(s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.size).toBe(2);
    // The fatal line is part of its attempt (10:00:00 → 10:00:01 = 1 s); a STDERR line is not (0 s): 1 s in all.
    const d = s.registry.histogram('quay_log_repository_mirror_sync_duration_seconds').at('mirrors');
    expect([d.count, d.sum]).toEqual([2, 1]);
    // Which one is which (the sum alone would not tell them apart swapped).
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['repository']} ${e.fields['duration_seconds']}`)).toEqual([
      'node-exporter 1',
      'alertmanager 0',
    ]);
  });

  it('attempt ends: another pid taking the repository, idle_gap exactly, an older line that does not shorten it; ends with no attempt open', () => {
    const s = setup({ idle_gap: '10m' });
    const RUN_END = 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully';
    const attempts = () => s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['repository']} ${e.tags['result']} ${e.fields['duration_seconds']}`);
    s.feed([jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'), jobLine('10:00:30,000', 8, NE, 'v1', 'mirrors/node-exporter')]);
    // pid 8 took the repository: pid 7's attempt (job line only) ended there, failed, 0 s.
    expect(attempts()).toEqual(['node-exporter failed 0']);
    s.feed([tagLine('10:00:35,000', 8, NE, 'v1', true), tagLine('10:00:31,000', 8, NE, 'v2', true)]);
    // 10:10:35 is exactly idle_gap after pid 8's last line (10:00:35; the 10:00:31 line is older and does not move it back).
    s.feed([jobLine('10:10:35,000', 9, 'quay.io/x/y', '1', 'team/y')]);
    expect(attempts()).toEqual(['node-exporter failed 0', 'node-exporter success 5']);
    // pid 9's (and the pod's pid 10) attempt ends with its run, 0 s (a run's end line is not part of it); then a tick
    // and the stream's end find pids with no attempt open.
    s.feed([line('10:10:36,000', 9, 'INFO', 'apscheduler.executors.default', RUN_END)]);
    s.tracker.tick(Date.now() + 3_600_000);
    const p = s.tracker.parser;
    const pod = p.openStream!({ id: 'file:a', pod: 'quay-a', namespace: 'quay' });
    p.parse(jobLine('10:10:40,000', 10, 'quay.io/x/z', '1', 'team/z'), PREFIX.length, pod);
    p.parse(line('10:10:41,000', 10, 'INFO', 'apscheduler.executors.default', RUN_END), PREFIX.length, pod);
    p.endStream!(pod);
    expect(attempts()).toEqual(['node-exporter failed 0', 'node-exporter success 5', 'y failed 0', 'z failed 0']);
  });

  it("lines that end the pid's open attempt first: pre-emption, a validation failure, a v3.18 sync error of another namespace", () => {
    const s = setup();
    const W = (time: string, level: string, msg: string) => line(time, 7, level, 'workers.repomirrorworker', msg);
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      tagLine('10:00:01,000', 7, NE, 'v1', true),
      W('10:00:05,000', 'INFO', 'Another repository mirror worker pre-empted us for repository: 17'),
    ]);
    const attempts = () => s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['namespace']}/${e.tags['repository']} ${e.tags['result']}`);
    // Ended at the pre-emption line (its last line 10:00:01: success, one tag).
    expect(attempts()).toEqual(['mirrors/node-exporter success']);
    s.feed([jobLine('10:00:06,000', 7, NE, 'v1', 'mirrors/node-exporter'), W('10:00:07,000', 'WARNING', 'Repository mirror source validation failed for repository mirrors/evil')]);
    expect(attempts().slice(1)).toEqual(['mirrors/node-exporter failed', 'mirrors/evil failed']);
    s.feed([jobLine('10:00:08,000', 7, 'quay.io/x/tool', 'v1', 'mirrors/tool'), W('10:00:09,000', 'ERROR', 'Unexpected error during tag sync for org mirror orgmirror/tool')]);
    // Same repository name, another namespace: mirrors/tool ends, orgmirror/tool fails on its own.
    expect(attempts().slice(3)).toEqual(['mirrors/tool failed', 'orgmirror/tool failed']);
  });

  it('an attempt opened by a filter line adopts the upstream of its first tag line; a failure with no skopeo error has no error text', () => {
    const s = setup();
    const info = (time: string, msg: string) => line(time, 8, 'INFO', 'workers.repomirrorworker', msg);
    s.feed([
      info('10:00:00,000', "Architecture filter for team/busybox: ['arm64']"),
      info('10:00:01,000', "Source 'docker://docker.io/library/busybox:1.36' successful sync."),
      info('10:00:02,000', "Source 'docker://docker.io/library/busybox:1.37' failed to sync."),
    ]);
    s.tracker.parser.endStream!(s.tracker.parser.openStream!({ id: 'unused' }));
    const sync = s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => [e.tags['namespace'], e.tags['repository'], e.tags['result'], e.fields['upstream'], e.fields['error']]);
    expect(sync).toEqual([
      ['team', 'busybox', 'success', 'docker.io/library/busybox', ''],
      ['team', 'busybox', 'failed', 'docker.io/library/busybox', ''],
    ]);
    // One attempt for both tags (still open: partial when it ends); no second attempt of an "unknown" repository.
    expect(s.registry.counter('quay_log_repository_mirror_sync_attempts_total').slots.size).toBe(0);
    expect(s.registry.counter('quay_log_repository_mirror_tag_syncs_total').slots.size).toBe(2);
  });

  it("a decryption failure during an attempt that already failed keeps the attempt's first reason", () => {
    const s = setup();
    s.feed([
      jobLine('10:00:00,000', 7, 'quay.io/prometheus/node-exporter', 'v1', 'mirrors/node-exporter'),
      line('10:00:01,000', 7, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo command failed (exit code 1): time="x" level=fatal msg="toomanyrequests: rate limit"'),
      tagLine('10:00:02,000', 7, 'quay.io/prometheus/node-exporter', 'v1', false),
      line('10:00:03,000', 7, 'ERROR', 'workers.repomirrorworker', 'Failed to decrypt username or password for mirroring 5'),
      line('10:00:04,000', 7, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:34 UTC)" executed successfully'),
    ]);
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['result']} ${e.fields['reason']}`)).toEqual(['failed rate_limited']);
  });

  it('repositories a/bc and ab/c are two repositories (the key keeps the "/")', () => {
    const s = setup();
    s.feed([jobLine('10:00:00,000', 7, 'quay.io/x/one', 'v1', 'a/bc'), jobLine('10:00:01,000', 8, 'quay.io/x/two', 'v1', 'ab/c')]);
    // pid 8 does not take pid 7's repository: no attempt ends.
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt')).toEqual([]);
  });

  it('a job or architecture-filter line continues the open attempt only when it names the same upstream, namespace and repository', () => {
    const s = setup();
    const X = 'quay.io/other/x';
    const filter = (time: string, target: string) => line(time, 7, 'INFO', 'workers.repomirrorworker', `Architecture filter for ${target}: ['arm64']`);
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      jobLine('10:00:01,000', 7, NE, 'v2', 'mirrors/node-exporter'), // the same: one attempt, 10:00:00 → 10:00:01
      jobLine('10:00:02,000', 7, X, 'v1', 'mirrors/node-exporter'), // another upstream
      jobLine('10:00:03,000', 7, X, 'v1', 'team/node-exporter'), // another namespace
      jobLine('10:00:04,000', 7, X, 'v1', 'team/other'), // another repository
      filter('10:00:05,000', 'team/busybox'),
      filter('10:00:06,000', 'team/busybox'), // the same: one attempt, 10:00:05 → 10:00:06
      filter('10:00:07,000', 'mirrors/busybox'),
      filter('10:00:08,000', 'mirrors/alpine'),
    ]);
    s.tracker.parser.endStream!(s.tracker.parser.openStream!({ id: 'unused' }));
    const attempts = () => s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['namespace']}/${e.tags['repository']} ${e.fields['duration_seconds']}`);
    // Each ended by the next line that names another: no tag result, so each failed.
    expect(attempts()).toEqual(['mirrors/node-exporter 1', 'mirrors/node-exporter 0', 'team/node-exporter 0', 'team/other 0', 'team/busybox 1', 'mirrors/busybox 0']);
  });

  it("a cancel of another repository ends the pid's open attempt first, then cancels its own", () => {
    const s = setup();
    s.feed([
      jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'),
      line('10:00:02,000', 7, 'INFO', 'workers.repomirrorworker', 'Sync cancelled on repo mirrors/busybox.'),
    ]);
    const attempts = s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['repository']} ${e.tags['result']}`);
    // node-exporter: a job line and no tag result: failed; busybox: cancelled.
    expect(attempts).toEqual(['node-exporter failed', 'busybox cancelled']);
  });

  it('v3.17 architecture lines of a pid with no attempt open open none and end none', () => {
    const s = setup();
    const info = (time: string, msg: string) => line(time, 8, 'INFO', 'workers.repomirrorworker', msg);
    s.feed([
      info('10:00:00,000', "Mirroring 1 architectures for docker://docker.io/library/busybox:1.36: ['arm64']"),
      info('10:00:01,000', 'Copying architecture arm64 (sha256:6e9f7aab3e6f4fac6d1f1f5e7f8d9cab1f2e3d4c5b6a79889807b6c5d4e3f2a0)'),
    ]);
    s.tracker.parser.endStream!(s.tracker.parser.openStream!({ id: 'x' }));
    expect(s.results).toEqual([LineResult.Matched, LineResult.Matched]);
    expect(s.got).toEqual([]);
    expect(s.registry.counter('quay_log_repository_mirror_sync_attempts_total').slots.size).toBe(0);
  });

  it('v3.18 sync errors: the reason is read from the traceback\'s last line only, and not from an unjoined line at all', () => {
    const s = setup();
    // A repository whose name holds a reason word ("timeouts" → network_timeout if the whole text were read).
    const err = (time: string, joined: boolean) =>
      line(time, 9, 'ERROR', 'workers.repomirrorworker', 'Unexpected error during tag sync for org mirror orgmirror/timeouts') +
      (joined ? `\nTraceback (most recent call last):\n  File "/quay-registry/workers/repomirrorworker/__init__.py", line 1700, in _sync\nKeyError: 'digest'` : '');
    s.feed([err('10:00:02,000', true), err('10:00:03,000', false)]);
    const events = s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => [e.tags['reason'], e.fields['error']]);
    expect(events).toEqual([
      // The last line says nothing a reason knows; the error field is that line.
      ['unknown_error', "KeyError: 'digest'"],
      // No traceback: unknown_error, the error field the message.
      ['unknown_error', 'Unexpected error during tag sync for org mirror orgmirror/timeouts'],
    ]);
  });

  it('v3.18 sync errors, event by event: another repository\'s attempt ends, the first reason stays the attempt\'s', () => {
    const HARBOR = 'harbor.example.com/proj/app';
    const s = setup({ repositories: { [HARBOR]: 'orgmirror/app' } });
    const CAUSE = 'requests.exceptions.ConnectionError: Connection refused';
    const err = (time: string, pid: number, repo: string, joined: boolean) =>
      line(time, pid, 'ERROR', 'workers.repomirrorworker', `Unexpected error during tag sync for org mirror orgmirror/${repo}`) +
      (joined ? `\nTraceback (most recent call last):\n  File "/quay-registry/workers/repomirrorworker/__init__.py", line 1700, in _sync\n${CAUSE}` : '');
    const FATAL = 'Skopeo command failed (exit code 1): time="x" level=fatal msg="toomanyrequests: rate limit"';
    s.feed([
      line('10:00:01,000', 9, 'INFO', 'workers.repomirrorworker', `Org mirror: Source 'docker://${HARBOR}:v1' successful sync.`),
      err('10:00:02,000', 9, 'tool', true),
      err('10:00:03,000', 9, 'tool', false),
      line('10:00:04,000', 10, 'DEBUG', 'util.repomirror.skopeomirror', FATAL),
      line('10:00:04,500', 10, 'INFO', 'workers.repomirrorworker', `Org mirror: Source 'docker://${HARBOR}:v2' failed to sync.`),
      err('10:00:05,000', 10, 'app', true),
    ]);
    const at = (t: string) => secs(`2026-11-22 ${t}`) * 1000;
    const sync = (t: string, repository: string, result: string, reason: string, upstream: string, tag: string, error: string) => ({
      measurement: 'quay_mirror_sync',
      time: at(t),
      tags: { namespace: 'orgmirror', repository, result, reason },
      fields: { upstream, tag, error },
    });
    const attempt = (t: string, repository: string, result: string, failed: number, reason: string, upstream: string, seconds: number) => ({
      measurement: 'quay_mirror_attempt',
      time: at(t),
      tags: { namespace: 'orgmirror', repository, result },
      fields: { failed, reason, upstream, duration_seconds: seconds },
    });
    expect(s.got).toEqual([
      sync('10:00:01,000', 'app', 'success', '', HARBOR, 'v1', ''),
      // pid 9's error names tool: its app attempt ends (success), tool's fails with the traceback's last line.
      attempt('10:00:01,000', 'app', 'success', 0, '', HARBOR, 0),
      sync('10:00:02,000', 'tool', 'failed', 'connection_error', '', '', CAUSE),
      attempt('10:00:02,000', 'tool', 'failed', 1, 'connection_error', '', 0),
      // Not joined: no cause to read; the event's error is the message.
      sync('10:00:03,000', 'tool', 'failed', 'unknown_error', '', '', 'Unexpected error during tag sync for org mirror orgmirror/tool'),
      attempt('10:00:03,000', 'tool', 'failed', 1, 'unknown_error', '', 0),
      sync('10:00:04,500', 'app', 'failed', 'rate_limited', HARBOR, 'v2', FATAL),
      // The same repository's error: its attempt's second failure; the attempt keeps the first reason. 4.5 → 5 s.
      sync('10:00:05,000', 'app', 'failed', 'connection_error', HARBOR, '', CAUSE),
      attempt('10:00:05,000', 'app', 'failed', 1, 'rate_limited', HARBOR, 0.5),
    ]);
  });

  it('/mirror/health lists pods by namespace, then name, each with the newest line of its open streams', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const s = setup();
      const p = s.tracker.parser;
      const open = (id: string, pod: string, namespace: string) => p.openStream!({ id, pod, namespace });
      const streams = [open('1', 'quay-b', 'q2'), open('2', 'quay-a', 'q2'), open('3', 'quay-z', 'q1'), open('4', 'quay-b', 'q2')];
      const read = (i: number, minute: number) => {
        vi.setSystemTime(Date.UTC(2026, 10, 30, 12, minute, 0));
        p.parse(jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'), PREFIX.length, streams[i]);
      };
      // quay-b's two streams: read at 12:03 and 12:01; quay-a at 12:02; quay-z at 12:00.
      read(0, 3);
      read(1, 2);
      read(2, 0);
      read(3, 1);
      type Body = { pods: { pod: string; namespace: string; last_seen: string }[] };
      const body = s.tracker.health(new URLSearchParams(), Date.UTC(2026, 10, 30, 12, 4, 0)).body as Body;
      expect(body.pods.map((x) => `${x.namespace}/${x.pod} ${x.last_seen}`)).toEqual([
        'q1/quay-z 2026-11-30T12:00:00.000Z',
        'q2/quay-a 2026-11-30T12:02:00.000Z',
        'q2/quay-b 2026-11-30T12:03:00.000Z',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('/mirror/health pods: the newest line whichever stream comes first, three namespaces, none without a pod', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const s = setup();
      const p = s.tracker.parser;
      const streams = [
        p.openStream!({ id: '1', pod: 'quay-b', namespace: 'q3' }),
        p.openStream!({ id: '2', pod: 'quay-a', namespace: 'q1' }),
        p.openStream!({ id: '3', pod: 'quay-b', namespace: 'q3' }),
        p.openStream!({ id: '4', pod: 'quay-c' }),
        p.openStream!({ id: '5', pod: 'quay-d', namespace: 'q2' }),
      ];
      const read = (stream: (typeof streams)[number] | undefined, minute: number) => {
        vi.setSystemTime(Date.UTC(2026, 10, 30, 12, minute, 0));
        p.parse(jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter'), PREFIX.length, stream);
      };
      // quay-b: its first stream at 12:01, its second at 12:03 (the newer comes second); the others once;
      // a line without a stream (no pod) at 12:06 is in no pod's entry.
      read(streams[0], 1);
      read(streams[2], 3);
      read(streams[1], 2);
      read(streams[3], 4);
      read(streams[4], 5);
      read(undefined, 6);
      type Body = { pods: { pod: string; namespace: string; last_seen: string }[] };
      const body = s.tracker.health(new URLSearchParams(), Date.UTC(2026, 10, 30, 12, 7, 0)).body as Body;
      // By namespace ("" first), then pod.
      expect(body.pods.map((x) => `${x.namespace}/${x.pod} ${x.last_seen}`)).toEqual([
        '/quay-c 2026-11-30T12:04:00.000Z',
        'q1/quay-a 2026-11-30T12:02:00.000Z',
        'q2/quay-d 2026-11-30T12:05:00.000Z',
        'q3/quay-b 2026-11-30T12:03:00.000Z',
      ]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a newer success seen by the same exporter always wins over an older failure read later', () => {
    const s = setup();
    const end = (time: string, pid: number) =>
      line(time, pid, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:30:00 UTC)" executed successfully');
    // Pod b's stream first: success at 10:05:01. Then pod a's stream, read late: a failure at 10:00:01.
    s.feed([jobLine('10:05:00,000', 8, NE, 'v1', 'mirrors/node-exporter'), tagLine('10:05:01,000', 8, NE, 'v1', true), end('10:05:02,000', 8)]);
    s.feed([jobLine('10:00:00,000', 7, NE, 'v1', 'mirrors/node-exporter')]);
    // The older line does not show the repository as syncing …
    expect(s.status('mirrors', 'node-exporter')['success/']).toBe(1);
    s.feed([tagLine('10:00:01,000', 7, NE, 'v1', false), end('10:00:02,000', 7)]);
    // … and its failure is counted, but the status, the timestamp and the health stay with the newer success.
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'unknown_error')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'failed')).toBe(1);
    expect(s.status('mirrors', 'node-exporter')).toEqual({ 'success/': 1, 'syncing/': 0, 'cancelled/': 0, 'failed/': 0 });
    expect(s.registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds').at('mirrors', 'node-exporter').value).toBe(secs('2026-11-22 10:05:01,000'));
    const h = s.tracker.health(new URLSearchParams(), Date.now());
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ scope: 'pod', healthy: true, repositories: [{ status: 'success', consecutive_failures: 0 }] });
    // One quay_mirror_attempt point per attempt, at its last line's log time: the newest (success) is the state.
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => [e.tags['result'], e.fields['failed'], e.fields['reason'], e.time])).toEqual([
      ['success', 0, '', secs('2026-11-22 10:05:01,000') * 1000],
      ['failed', 1, 'unknown_error', secs('2026-11-22 10:00:01,000') * 1000],
    ]);
  });
});

describe('mirror tracker: bad input', () => {
  it('never throws on huge, binary or near-miss lines', () => {
    const s = setup();
    const head = '2026-11-22 10:00:00,000 [7] [INFO] [workers.repomirrorworker] ';
    const bad = [
      PREFIX + 'x'.repeat(1 << 20),
      PREFIX + '\u0000\u0001\uFFFD\u001b[31m binary',
      PREFIX + head + "Source 'docker://" + 'a:'.repeat(200_000),
      PREFIX + head + 'Creating mirroring job: upstream image docker://' + 'a:b,'.repeat(100_000),
      PREFIX + head + "Source 'docker://quay.io/a/b' successful sync.", // no tag: not a tag line
      PREFIX + '2026-13-45 99:99:99,999 [7] [INFO] [x] Sync cancelled on repo a/b.', // impossible time
      '',
    ];
    for (const l of bad) expect(() => s.feed([l])).not.toThrow();
    expect(s.results.slice(0, 2)).toEqual([LineResult.Unmatched, LineResult.Unmatched]);
    expect(s.registry.counter('quay_log_repository_mirror_tag_syncs_total').slots.size).toBe(0);
  });
});

describe('mirror tracker: skopeo --debug output (DEBUGLOG=true)', () => {
  it('classifies the fatal line, takes unjoined stderr lines, and counts a failed list-tags (test/fixtures/mirror-skopeo-debug.log)', () => {
    const s = setup();
    s.fixture('mirror-skopeo-debug.log');
    // 15 lines: 6 Python lines (1, 2, 7, 8, 9, 15), 9 skopeo lines that were not joined to their record
    // (3-6, 10-14): every one matched.
    expect(s.results).toEqual(Array.from({ length: 15 }, () => LineResult.Matched));
    // The copy failed with "manifest unknown" in its fatal line; the debug lines' "status 401" is a normal ping.
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'not_found')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'auth_failed')).toBe(0);
    // The 10:00:40 list-tags failure has no tag line: counted once, as a failed attempt of the repository
    // its debug output names (…/v2/prometheus/node-exporter/tags/list, learned from the 10:00:00 job line).
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'rate_limited')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'failed')).toBe(2);
    expect(s.status('mirrors', 'node-exporter')).toEqual({
      'success/': 0,
      'syncing/': 0,
      'cancelled/': 0,
      'failed/': 0,
      'failed/not_found': 0,
      'failed/rate_limited': 1,
    });
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => [e.tags['result'], e.tags['reason'], e.fields['tag'], e.fields['error']])).toEqual([
      ['failed', 'not_found', 'v1.7.0', 'time="2026-11-22T10:00:09Z" level=fatal msg="initializing source docker://quay.io/prometheus/node-exporter:v1.7.0: reading manifest v1.7.0 in quay.io/prometheus/node-exporter: manifest unknown"'],
      ['failed', 'rate_limited', '', 'time="2026-11-22T10:00:40Z" level=fatal msg="Error listing repository tags: fetching tags list: toomanyrequests: too many requests"'],
    ]);
    const h = s.tracker.health(new URLSearchParams(), Date.now()).body as { repositories: Array<Record<string, unknown>> };
    expect(h.repositories).toEqual([
      { namespace: 'mirrors', repository: 'node-exporter', status: 'failed', last_error_reason: 'rate_limited', last_attempt: '2026-11-22T10:00:40.500Z', consecutive_failures: 2 },
    ]);
  });

  it("a list-tags failure of the next repository ends the pid's open attempt before its own", () => {
    const s = setup({ repositories: { 'docker.io/library/redis': 'mirrors/redis' } });
    s.feed([
      jobLine('09:59:58,000', 41, 'quay.io/prometheus/node-exporter', 'v1', 'mirrors/node-exporter'),
      tagLine('09:59:59,000', 41, 'quay.io/prometheus/node-exporter', 'v1', true),
      line('10:00:00,000', 41, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo command failed (exit code 1): time="2026-11-22T10:00:00Z" level=debug msg="GET https://registry-1.docker.io/v2/"') +
        '\ntime="2026-11-22T10:00:00Z" level=debug msg="GET https://registry-1.docker.io/v2/library/redis/tags/list"' +
        '\ntime="2026-11-22T10:00:00Z" level=fatal msg="Error listing repository tags: fetching tags list: requested access to the resource is denied"',
      line('10:00:01,000', 41, 'INFO', 'workers.repomirrorworker', "Architecture filter for team/other: ['arm64']"),
    ]);
    // node-exporter (one tag synced) ends as a success; redis's list-tags failure is an attempt of its own.
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_attempt').map((e) => `${e.tags['repository']} ${e.tags['result']} ${e.fields['reason']}`)).toEqual([
      'node-exporter success ',
      'redis failed auth_failed',
    ]);
  });

  it('reads a joined list-tags failure; Docker Hub API hosts map to docker.io for mirror.repositories', () => {
    const s = setup({ repositories: { 'docker.io/library/redis': 'mirrors/redis' } });
    s.feed([
      line('10:00:00,000', 41, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo command failed (exit code 1): time="2026-11-22T10:00:00Z" level=debug msg="GET https://registry-1.docker.io/v2/"') +
        '\ntime="2026-11-22T10:00:00Z" level=debug msg="GET https://registry-1.docker.io/v2/library/redis/tags/list"' +
        '\ntime="2026-11-22T10:00:00Z" level=fatal msg="Error listing repository tags: fetching tags list: requested access to the resource is denied"',
      line('10:00:01,000', 41, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:31 UTC)" executed successfully'),
    ]);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'auth_failed')).toBe(1);
    expect(s.status('mirrors', 'redis')['failed/auth_failed']).toBe(1);
  });
});

describe('mirror tracker: streams (two pods, one exporter)', () => {
  const REDIS = 'docker.io/library/redis';
  const NODE = 'quay.io/prometheus/node-exporter';
  const ALPINE = 'docker.io/library/alpine';
  const runEnd = (time: string, pid: number) =>
    line(time, pid, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:30 UTC)" executed successfully');
  const skopeoLimited = (time: string, pid: number) =>
    line(time, pid, 'DEBUG', 'util.repomirror.skopeomirror', `Skopeo command failed (exit code 1): time="2026-11-22T10:00:06Z" level=fatal msg="initializing source docker://${NODE}:v1.7.0: reading manifest v1.7.0 in ${NODE}: toomanyrequests: too many requests"`);

  // Both pods' mirror workers are pid 88 (each container numbers its processes from 1).
  // Pod A syncs redis (both tags); pod B fails node-exporter (rate limited), then syncs alpine.
  const podA = [
    jobLine('10:00:00,000', 88, REDIS, '7.2', 'mirrors/redis'),
    tagLine('10:00:05,000', 88, REDIS, '7.2', true),
    jobLine('10:00:07,000', 88, REDIS, '7.4', 'mirrors/redis'),
    tagLine('10:00:10,000', 88, REDIS, '7.4', true),
    runEnd('10:00:12,000', 88),
  ];
  const podB = [
    jobLine('10:00:01,000', 88, NODE, 'v1.7.0', 'mirrors/node-exporter'),
    skopeoLimited('10:00:06,000', 88),
    tagLine('10:00:06,001', 88, NODE, 'v1.7.0', false),
    jobLine('10:00:11,000', 88, ALPINE, '3.19', 'team/alpine'),
    tagLine('10:00:15,000', 88, ALPINE, '3.19', true),
    runEnd('10:00:16,000', 88),
  ];
  // Interleaved in log-time order, as one exporter reads the two files.
  const order = ['A', 'B', 'A', 'B', 'B', 'A', 'A', 'B', 'A', 'B', 'B'];

  it('interleaved lines of two pods with the same pid: every attempt right', () => {
    const s = setup();
    const p = s.tracker.parser;
    const a = p.openStream!({ id: 'file:a', pod: 'quay-a', namespace: 'quay' });
    const b = p.openStream!({ id: 'file:b', pod: 'quay-b', namespace: 'quay' });
    const ia = podA.values();
    const ib = podB.values();
    for (const who of order) {
      const l = (who === 'A' ? ia : ib).next().value!;
      s.results.push(p.parse(l, PREFIX.length, who === 'A' ? a : b));
    }
    expect(s.results).toHaveLength(11);
    expect(s.results.every((r) => r === LineResult.Matched)).toBe(true);
    // By hand: redis 1 attempt, 2 tags synced, no failure; node-exporter 1 failed attempt,
    // 1 failure (rate_limited); alpine 1 success. Nothing on unknown.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'redis', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'redis', 'failed')).toBe(0);
    expect(s.counter('quay_log_repository_mirror_tag_syncs_total', 'mirrors', 'redis', 'success')).toBe(2);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'mirrors', 'rate_limited')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'alpine', 'success')).toBe(1);
    const onUnknown = [...s.registry.counter('quay_log_repository_mirror_sync_attempts_total').slots.values()].filter((x) => x.attributes['namespace'] === UNKNOWN);
    expect(onUnknown).toEqual([]);
    const failures = [...s.registry.counter('quay_log_repository_mirror_sync_failures_total').slots.values()].reduce((n, x) => n + x.value, 0);
    expect(failures).toBe(1);
    // Each event carries its pod: 2 redis + 1 alpine successes from their pods, the failure from B.
    expect(s.got.filter((e) => e.measurement === 'quay_mirror_sync').map((e) => `${e.tags['repository']}/${e.tags['result']}@${e.stream?.pod}`)).toEqual([
      'redis/success@quay-a',
      'node-exporter/failed@quay-b',
      'redis/success@quay-a',
      'alpine/success@quay-b',
    ]);
  });

  it('the same lines with no streams (pid alone) get it wrong: the test above can fail', () => {
    const s = setup();
    const ia = podA.values();
    const ib = podB.values();
    s.feed(order.map((who) => (who === 'A' ? ia : ib).next().value!));
    // Pid 88's attempts are cut by the other pod's lines: redis's first tag lands on unknown.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', UNKNOWN, UNKNOWN, 'success')).toBeGreaterThan(0);
  });

  it('/mirror/health lists each pod with an open stream; ?pod= judges that pod alone; an ended pod is gone', () => {
    const s = setup();
    const p = s.tracker.parser;
    const a = p.openStream!({ id: 'file:a', pod: 'quay-a', namespace: 'quay' });
    const b = p.openStream!({ id: 'file:b', pod: 'quay-b', namespace: 'quay' });
    p.parse(jobLine('10:00:00,000', 88, REDIS, '7.2', 'mirrors/redis'), PREFIX.length, a);
    p.parse(jobLine('10:00:01,000', 88, NODE, 'v1.7.0', 'mirrors/node-exporter'), PREFIX.length, b);
    type Body = { worker: { stale: boolean }; pods?: { pod: string; namespace: string; stale: boolean }[] };
    const now = Date.now();
    const body = (q: string, at = now) => s.tracker.health(new URLSearchParams(q), at).body as Body;
    expect(body('').pods!.map((x) => `${x.namespace}/${x.pod} ${x.stale}`)).toEqual(['quay/quay-a false', 'quay/quay-b false']);
    expect(body('pod=quay-b').pods!.map((x) => x.pod)).toEqual(['quay-b']);
    // The answer covers what this exporter reads: two pods here ("pods"), one pod with ?pod= ("pod").
    expect(s.tracker.health(new URLSearchParams(''), now).body).toMatchObject({ scope: 'pods' });
    expect(s.tracker.health(new URLSearchParams('pod=quay-b'), now).body).toMatchObject({ scope: 'pod' });
    // A pod this exporter does not read: no entry, and its worker counts as not seen (stale, 503).
    expect(body('pod=quay-z').pods).toEqual([]);
    expect(s.tracker.health(new URLSearchParams('pod=quay-z'), now).status).toBe(503);
    // stale_after (15 m) later with no new line: both stale.
    expect(body('', now + 15 * 60_000).pods!.map((x) => x.stale)).toEqual([true, true]);
    p.endStream!(a);
    expect(body('').pods!.map((x) => x.pod)).toEqual(['quay-b']);
  });

  it('a stream that ends closes its open attempt as an idle gap would; the other stream is untouched', () => {
    const s = setup();
    const p = s.tracker.parser;
    const a = p.openStream!({ id: 'file:a', pod: 'quay-a' });
    const b = p.openStream!({ id: 'file:b', pod: 'quay-b' });
    // Both pods' pid 88 start a job; pod A's synced one tag of redis when its pod is deleted.
    p.parse(jobLine('10:00:00,000', 88, REDIS, '7.2', 'mirrors/redis'), PREFIX.length, a);
    p.parse(tagLine('10:00:05,000', 88, REDIS, '7.2', true), PREFIX.length, a);
    p.parse(jobLine('10:00:06,000', 88, NODE, 'v1.7.0', 'mirrors/node-exporter'), PREFIX.length, b);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'redis', 'success')).toBe(0); // still open
    p.endStream!(a);
    // redis: 1 tag synced, none failed → 1 success; node-exporter (pod B) is still open.
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'redis', 'success')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'failed')).toBe(0);
    p.parse(tagLine('10:00:09,000', 88, NODE, 'v1.7.0', true), PREFIX.length, b);
    p.endStream!(b);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'mirrors', 'node-exporter', 'success')).toBe(1);
    // A worker that died mid-copy (job line, no tag result) counts one failed attempt when its pod goes.
    const c = p.openStream!({ id: 'file:c', pod: 'quay-c' });
    p.parse(jobLine('10:01:00,000', 88, ALPINE, '3.19', 'team/alpine'), PREFIX.length, c);
    p.endStream!(c);
    expect(s.counter('quay_log_repository_mirror_sync_attempts_total', 'team', 'alpine', 'failed')).toBe(1);
    expect(s.counter('quay_log_repository_mirror_sync_failures_total', 'team', 'unknown_error')).toBe(1);
  });
});

describe('mirror status store: capped at mirror.max_repositories (issue 10)', () => {
  it('forgets the least recently attempted repository, counts it, and bounds the gauges, /mirror/health and the state file', () => {
    const { tracker, feed, registry, status, counter } = setup({ max_repositories: 3 });
    // 5 repositories synced in turn by one worker pid, one sync each: r0 … r4
    const sync = (i: number, second: number, ok = true) => {
      const t = `11:00:${String(second).padStart(2, '0')},000`;
      feed([jobLine(t, 7, `docker.io/library/r${i}`, 'v1', `mirrors/r${i}`), tagLine(t, 7, `docker.io/library/r${i}`, 'v1', ok)]);
    };
    sync(0, 0);
    sync(1, 10);
    sync(2, 20);
    sync(0, 30); // r0 attempted again: now r1 is the least recently attempted
    sync(3, 40);
    sync(4, 50, false);
    tracker.tick(Date.parse('2026-11-22T12:00:00Z')); // closes the last attempt (idle)
    feed([line('11:59:00,000', 8, 'INFO', 'workers.repomirrorworker', 'nothing')]);
    // r1 then r2 went (5 repositories, room for 3): evicted 2
    expect(counter('quay_log_exporter_mirror_repositories_evicted_total')).toBe(2);
    expect(status('mirrors', 'r1')).toEqual({});
    expect(status('mirrors', 'r2')).toEqual({});
    expect(status('mirrors', 'r0')['success/']).toBe(1);
    // 3 repositories × 5 series (success, syncing, cancelled, failed/<reason>…) at most; r4 has failed/'' and failed/<reason>
    const names = new Set([...registry.gauge('quay_log_repository_mirror_last_sync_status').slots.values()].map((s) => s.attributes['repository']));
    expect([...names].sort()).toEqual(['r0', 'r3', 'r4']);
    const health = tracker.health(new URLSearchParams(), Date.parse('2026-11-22T12:00:00Z')).body as { repositories: { repository: string }[]; repositories_total: number };
    expect(health.repositories.map((r) => r.repository)).toEqual(['r0', 'r3', 'r4']);
    expect(health.repositories_total).toBe(3);
    tracker.save();
    const saved = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { repositories: { repository: string }[] };
    expect(saved.repositories.map((r) => r.repository).sort()).toEqual(['r0', 'r3', 'r4']);
  });
});

describe('records out: the fields of each mirror line kind (test/fixtures/line-records.ts has the job, tag result, skopeo failure, run end and cancel)', () => {
  it('v3.17 architecture lines, skopeo stdout and stderr, tracebacks, pre-emption, validation, decryption and v3.18 sync errors', () => {
    const fields = new LineFields();
    fields.active = true;
    const ctx: ParserContext = { config: parseConfig({ state_dir: dir }), registry: new MetricRegistry(), events: new EventBus(), grok, log: silentLogger, fields };
    const tracker = createMirrorTracker(ctx);
    const got = (l: string) => {
      const r = tracker.parser.parse(l, l.startsWith(PREFIX) ? PREFIX.length : 0);
      return [r, fields.take()];
    };
    const M = LineResult.Matched;
    const W = { pid: 8, level: 'INFO', logger: 'workers.repomirrorworker' };
    const SK = { pid: 8, level: 'DEBUG', logger: 'util.repomirror.skopeomirror' };
    const TEAM = { namespace: 'team', repository: 'busybox' };
    const info = (time: string, msg: string) => line(time, 8, 'INFO', 'workers.repomirrorworker', msg);
    // Names the repository (no tag: not the "Pushed" form); opens the attempt, upstream not known yet.
    expect(got(info('10:00:00,000', "Architecture filter for team/busybox: ['arm64']"))).toEqual([M, { ...W, kind: 'arch_repository', ...TEAM }]);
    // Names upstream and tag; the open attempt adopts the upstream and gives namespace and repository.
    expect(got(info('10:00:00,500', "Mirroring 1 architectures for docker://docker.io/library/busybox:1.36: ['arm64']"))).toEqual([
      M,
      { ...W, kind: 'arch_mirroring', upstream: 'docker.io/library/busybox', tag: '1.36', ...TEAM },
    ]);
    const D = 'sha256:6e9f7aab3e6f4fac6d1f1f5e7f8d9cab1f2e3d4c5b6a79889807b6c5d4e3f2a0';
    // Names nothing of the repository: the open attempt's namespace, repository and upstream.
    expect(got(info('10:00:00,600', `Copying architecture arm64 (${D})`))).toEqual([M, { ...W, kind: 'arch_copying', ...TEAM, upstream: 'docker.io/library/busybox' }]);
    // The "Pushed" form names the tag too.
    expect(got(info('10:00:01,000', 'Pushed sparse manifest list for team/busybox:1.36'))).toEqual([M, { ...W, kind: 'arch_repository', ...TEAM, tag: '1.36' }]);
    // v3.5–3.16 skopeo stdout: the record line, then unprefixed lines of its output.
    expect(got(line('10:00:02,000', 8, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo [STDOUT]: Getting image source signatures'))).toEqual([M, { ...SK, kind: 'skopeo_stdout' }]);
    expect(got(`${PREFIX}Copying blob sha256:abc`)).toEqual([M, { kind: 'skopeo_stdout' }]);
    // skopeo stderr: the record line, then its unjoined lines.
    expect(got(line('10:00:03,000', 8, 'DEBUG', 'util.repomirror.skopeomirror', 'Skopeo [STDERR]: time="2026-11-22T10:00:03Z" level=debug msg="Ping"'))).toEqual([
      M,
      { ...SK, kind: 'skopeo_stderr' },
    ]);
    expect(got(`${PREFIX}time="2026-11-22T10:00:03Z" level=fatal msg="toomanyrequests: rate limit"`)).toEqual([M, { kind: 'skopeo_stderr' }]);
    // Pre-empted: the open attempt ends; the line's outcome names no repository (an id only).
    const PREEMPT = 'Another repository mirror worker pre-empted us for repository: 17';
    expect(got(info('10:00:04,000', PREEMPT))).toEqual([
      M,
      { ...W, kind: 'preempted', namespace: UNKNOWN, repository: UNKNOWN, sync_result: 'failed', reason: 'preempted', error: PREEMPT },
    ]);
    // After a Python line that is no skopeo line: a traceback line is a traceback, other text unmatched.
    expect(got(`${PREFIX}Traceback (most recent call last):`)).toEqual([M, { kind: 'traceback' }]);
    expect(got(`${PREFIX}hello`)).toEqual([LineResult.Unmatched, {}]);
    const INVALID = 'Repository mirror source validation failed for repository mirrors/evil';
    expect(got(line('10:00:05,000', 8, 'WARNING', 'workers.repomirrorworker', INVALID))).toEqual([
      M,
      { ...W, level: 'WARNING', kind: 'source_invalid', namespace: 'mirrors', repository: 'evil', sync_result: 'failed', reason: 'invalid_source_registry', error: INVALID },
    ]);
    // No attempt open (the validation failure closed its own): unknown namespace and repository, no upstream.
    const DECRYPT = 'Failed to decrypt username or password for mirroring 5';
    expect(got(line('10:00:06,000', 8, 'ERROR', 'workers.repomirrorworker', DECRYPT))).toEqual([
      M,
      { ...W, level: 'ERROR', kind: 'decrypt_failed', namespace: UNKNOWN, repository: UNKNOWN, sync_result: 'failed', reason: 'decryption_failed', error: DECRYPT },
    ]);
    const SYNC = 'Unexpected error during tag sync for org mirror orgmirror/tool';
    expect(got(line('10:00:07,000', 8, 'ERROR', 'workers.repomirrorworker', SYNC))).toEqual([
      M,
      { ...W, level: 'ERROR', kind: 'sync_error', namespace: 'orgmirror', repository: 'tool', sync_result: 'failed', reason: 'unknown_error', error: SYNC },
    ]);
    // apscheduler chatter: the header only.
    expect(got(line('10:00:08,000', 8, 'INFO', 'apscheduler.scheduler', 'Scheduler started'))).toEqual([M, { pid: 8, level: 'INFO', logger: 'apscheduler.scheduler' }]);
    // The filter line names no tag, whatever tag the line before named (the Pushed line's 1.36).
    expect(got(info('10:00:08,500', 'Pushed sparse manifest list for team/busybox:1.36'))).toEqual([M, { ...W, kind: 'arch_repository', ...TEAM, tag: '1.36' }]);
    expect(got(info('10:00:08,600', "Architecture filter for team/busybox: ['arm64']"))).toEqual([M, { ...W, kind: 'arch_repository', ...TEAM }]);
    // Inactive: nothing.
    fields.active = false;
    expect(got(info('10:00:09,000', PREEMPT))).toEqual([M, {}]);
    expect(got(`${PREFIX}Traceback (most recent call last):`)).toEqual([M, {}]);
  });
});

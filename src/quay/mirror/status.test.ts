/** The status store on its own: the state set's edges and what is saved when. Values worked out by hand. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../log.js';
import { MetricRegistry } from '../../metrics/series.js';
import { RepoStatusStore, STATE_FILE } from './status.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mirror-status-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function store() {
  const registry = new MetricRegistry();
  const s = new RepoStatusStore(registry, dir, silentLogger);
  const series = (ns: string, repo: string) => {
    const out: Record<string, number> = {};
    for (const slot of registry.gauge('quay_log_repository_mirror_last_sync_status').slots.values()) {
      const a = slot.attributes;
      if (a['namespace'] === ns && a['repository'] === repo) out[`${a['status']}/${a['last_error_reason']}`] = slot.value;
    }
    return out;
  };
  const timestamp = (ns: string, repo: string) => registry.gauge('quay_log_repository_mirror_last_sync_timestamp_seconds').at(ns, repo).value;
  return { s, registry, series, timestamp };
}
const file = () => join(dir, STATE_FILE);
const saved = () => JSON.parse(readFileSync(file(), 'utf8')) as { worker_last_seen_ms: unknown; repositories: Record<string, unknown>[] };

describe('RepoStatusStore', () => {
  it('a line at the very millisecond the last attempt ended, or an attempt ending then, is not older: it counts', () => {
    const { s, series } = store();
    const r = s.get('m', 'a');
    s.markFinished(r, 'failed', 'tls_error', false, 1000);
    s.markSyncing(r, 1000);
    expect(r.status).toBe('syncing');
    s.markFinished(r, 'success', '', true, 1000);
    expect(series('m', 'a')).toEqual({ 'success/': 1, 'syncing/': 0, 'cancelled/': 0, 'failed/tls_error': 0 });
    // Older than the last end (999 < 1000): ignored.
    s.markSyncing(r, 999);
    s.markFinished(r, 'failed', 'auth_failed', false, 999);
    expect(r.status).toBe('success');
  });

  it('a cancel keeps no reason and is no failure in a row; syncing has no sync time yet', () => {
    const { s, series, timestamp } = store();
    const r = s.get('m', 'b');
    s.markSyncing(r, 500);
    // No attempt finished yet: the timestamp gauge is still 0, not NaN.
    expect(timestamp('m', 'b')).toBe(0);
    s.markFinished(r, 'failed', 'tls_error', false, 1000);
    s.markFinished(r, 'cancelled', 'tls_error', false, 2000);
    expect([r.reason, r.consecutiveFailures]).toEqual(['', 1]);
    expect(series('m', 'b')).toEqual({ 'success/': 0, 'syncing/': 0, 'cancelled/': 1, 'failed/': 0, 'failed/tls_error': 0 });
    expect(timestamp('m', 'b')).toBe(2);
  });

  it('a repository restored as failed and then synced gets no (failed, "") series', () => {
    writeFileSync(file(), JSON.stringify({ version: 1, repositories: [{ namespace: 'm', repository: 'c', status: 'failed', last_error_reason: 'tls_error' }] }));
    const { s, series } = store();
    s.load();
    s.markFinished(s.get('m', 'c'), 'success', '', true, 1000);
    expect(series('m', 'c')).toEqual({ 'success/': 1, 'syncing/': 0, 'cancelled/': 0, 'failed/tls_error': 0 });
  });

  it('restores cancelled entries; a failed entry with no text reason is unknown_error; version 2 or null is refused', () => {
    writeFileSync(
      file(),
      JSON.stringify({
        version: 1,
        repositories: [
          { namespace: 'm', repository: 'x', status: 'cancelled' },
          { namespace: 'm', repository: 'y', status: 'failed', last_error_reason: 5 },
        ],
      }),
    );
    const a = store();
    a.s.load();
    expect([...a.s.all()].map((r) => [r.repository, r.status, r.reason])).toEqual([
      ['x', 'cancelled', ''],
      ['y', 'failed', 'unknown_error'],
    ]);
    for (const text of [JSON.stringify({ version: 2, worker_last_seen_ms: 5, repositories: [{ namespace: 'm', repository: 'z', status: 'success' }] }), 'null']) {
      writeFileSync(file(), text);
      const b = store();
      b.s.load();
      expect([b.s.size, b.s.workerLastSeenMs]).toEqual([0, undefined]);
    }
  });

  it('saves only when something changed, finished repositories only, with the worker time and the failed reason', () => {
    const { s } = store();
    s.save();
    // Nothing happened: no file.
    expect(existsSync(file())).toBe(false);
    s.seen(1234);
    s.markSyncing(s.get('m', 'syncing-only'), 10);
    s.markFinished(s.get('m', 'bad'), 'failed', 'tls_error', false, 20);
    s.save();
    expect(saved()).toEqual({
      version: 1,
      worker_last_seen_ms: 1234,
      repositories: [{ namespace: 'm', repository: 'bad', status: 'failed', last_error_reason: 'tls_error', last_attempt_ms: 20, last_sync_ms: 20, consecutive_failures: 1, complete: false }],
    });
    // Saved and unchanged since: a second save writes nothing (the file removed stays removed).
    rmSync(file());
    s.save();
    expect(existsSync(file())).toBe(false);
    // Loading is no change either.
    writeFileSync(file(), JSON.stringify({ version: 1, repositories: [] }));
    const t = store();
    t.s.load();
    rmSync(file());
    t.s.save();
    expect(existsSync(file())).toBe(false);
  });
});

describe('RepoStatusStore: a save that fails', () => {
  it('is counted in quay_log_exporter_state_save_failures_total and kept dirty, so the next save tries again', () => {
    // state_dir is a file: mkdir and the write fail.
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const registry = new MetricRegistry();
    const s = new RepoStatusStore(registry, file, silentLogger);
    s.seen(Date.UTC(2026, 10, 30, 12, 0, 0));
    s.save();
    expect(registry.counter('quay_log_exporter_state_save_failures_total').at().value).toBe(1);
    // Still dirty: a second save tries (and fails) again: 2.
    s.save();
    expect(registry.counter('quay_log_exporter_state_save_failures_total').at().value).toBe(2);
  });
});

/**
 * Issue 9 (mirror and GC; test/quay-versions.test.ts has nginx/gunicorn): one mirror and one GC fixture per Quay version family, written from the texts the release
 * tags print (test/fixtures/quay-versions/SOURCES.md, "Mirror and GC fixtures", names the tag of each text), replayed through the
 * real CLI. Every expected value was counted by hand from the fixture; the comments say which lines.
 * Each fixture also proves that no line of it is unmatched.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { family, parseExposition, type Sample } from './helpers/exposition.js';

const dir = mkdtempSync(join(tmpdir(), 'quay-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The documented way to name repositories for Quay before v3.15.0 (no job line). */
const CONFIG = `mirror:
  repositories:
    quay.io/prometheus/node-exporter: mirrors/node-exporter
    docker.io/library/nginx: mirrors/nginx
`;

async function replay(name: string, multiline = false): Promise<Sample[]> {
  const state = mkdtempSync(join(dir, 'state-'));
  const config = join(state, 'config.yaml');
  const input = multiline ? 'inputs:\n  - paths: [/dev/null]\n    source: supervisord\n    multiline: {preset: python-traceback}\n' : '';
  writeFileSync(config, `state_dir: ${state}\n${input}${CONFIG}`);
  const r = await runCli(['replay', '--config', config, fileURLToPath(new URL(`./fixtures/quay-versions/${name}`, import.meta.url))]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseExposition(r.stdout);
}

/** The non-zero samples of a family (a state set's 0 series are checked apart). */
const nonZero = (s: Sample[], name: string) => Object.fromEntries(Object.entries(family(s, name)).filter(([, v]) => v !== 0));
const lines = (s: Sample[], source: string) => nonZero(s, 'quay_log_exporter_lines_total')[`source=${source},result=matched`];
const ts = (iso: string) => Date.parse(iso) / 1000;

describe('Quay ≤ 3.7: Skopeo [STDERR]/[STDOUT] after every skopeo run, no job line (v3.7-mirror.log)', () => {
  it('attributes through mirror.repositories and reads failure reasons from the unprefixed stderr lines', async () => {
    const s = await replay('v3.7-mirror.log');
    // 32 lines, all matched: 15 Python lines, 17 skopeo stderr/stdout lines without the Python header.
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=repomirrorworker,result=matched': 32 });
    // node-exporter v1.1.0 ok, v1.2.0 failed; etcd (not in mirror.repositories) v3.5.0 ok → unknown.
    expect(nonZero(s, 'quay_log_repository_mirror_tag_syncs_total')).toEqual({
      'namespace=mirrors,repository=node-exporter,result=success': 1,
      'namespace=mirrors,repository=node-exporter,result=failed': 1,
      'namespace=unknown,repository=unknown,result=success': 1,
    });
    // v1.2.0: "unauthorized" on the level=fatal line after the STDERR line; nginx list-tags: toomanyrequests.
    // The successful runs' stderr (debug lines, "Ping … status 401") counts nothing.
    expect(nonZero(s, 'quay_log_repository_mirror_sync_failures_total')).toEqual({
      'namespace=mirrors,reason=auth_failed': 1,
      'namespace=mirrors,reason=rate_limited': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_attempts_total')).toEqual({
      'namespace=mirrors,repository=node-exporter,result=partial': 1,
      'namespace=mirrors,repository=nginx,result=failed': 1, // list-tags: registry-1.docker.io → docker.io/library/nginx
      'namespace=unknown,repository=unknown,result=success': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_last_sync_status')).toEqual({
      'namespace=mirrors,repository=node-exporter,status=failed,last_error_reason=auth_failed': 1,
      'namespace=mirrors,repository=nginx,status=failed,last_error_reason=rate_limited': 1,
      'namespace=unknown,repository=unknown,status=success,last_error_reason=': 1,
    });
    expect(family(s, 'quay_log_repository_mirror_sync_complete')).toEqual({
      'namespace=mirrors,repository=node-exporter': 0,
      'namespace=mirrors,repository=nginx': 0,
      'namespace=unknown,repository=unknown': 1,
    });
    expect(family(s, 'quay_log_repository_mirror_last_sync_timestamp_seconds')).toEqual({
      'namespace=mirrors,repository=node-exporter': ts('2021-07-14T12:00:09.002Z'), // its failed tag line
      'namespace=mirrors,repository=nginx': ts('2021-07-14T12:00:12.000Z'), // the list-tags stderr line
      'namespace=unknown,repository=unknown': ts('2021-07-14T12:00:31.002Z'),
    });
  });

  it('GC: a run that raised is an error, the interrupted namespace is not purged, blobs by location (v3.7-gc.log)', async () => {
    const s = await replay('v3.7-gc.log');
    expect(lines(s, 'gcworker')).toBe(46);
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=gcworker,result=matched': 46 });
    // Runs 12:00:00 (did work) and 12:01:00 (nothing to do) succeed; 12:00:30 logged "Operation raised
    // exception" before apscheduler's "executed successfully"; the namespace poll ended in "GC interrupted"
    // (its traceback's frame after _operation_func is poll_queue), and the watchdog run that ended in
    // between, on the same pid, is a success.
    expect(nonZero(s, 'quay_log_gc_job_runs_total')).toEqual({
      'job=GarbageCollectionWorker._garbage_collection_repos,result=success': 2,
      'job=GarbageCollectionWorker._garbage_collection_repos,result=error': 1,
      'job=QueueWorker.poll_queue,result=error': 1,
      'job=QueueWorker.run_watchdog,result=success': 1,
    });
    expect(family(s, 'quay_log_gc_iterations_total')).toEqual({ '': 2 });
    expect(nonZero(s, 'quay_log_gc_table_rows_deleted_total')).toEqual({ 'table=Tag': 3, 'table=UploadedBlob': 1 }); // 101, 102, 900; 7
    expect(nonZero(s, 'quay_log_gc_candidates_found_total')).toEqual({ 'kind=tags': 3, 'kind=uploaded_blobs': 1 }); // 2 + 1; 1
    // Three DEBUG "Removing … from local_us" lines (data.model.storage).
    expect(nonZero(s, 'quay_log_gc_storage_blobs_deleted_total')).toEqual({ 'namespace=,location=local_us': 3 });
    expect(family(s, 'quay_log_gc_repos_purged_total')).toEqual({ '': 1 }); // repository 77
    // marker 12: purged (the poll reached marker 13); marker 13: "GC interrupted; will retry" → not.
    expect(family(s, 'quay_log_gc_namespaces_purged_total')).toEqual({ '': 1 });
  });
});

describe('Quay 3.8–3.14: Skopeo [STDERR]/[STDOUT] after failed runs only, no job line', () => {
  it('mirror (v3.12-mirror.log)', async () => {
    const s = await replay('v3.12-mirror.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=repomirrorworker,result=matched': 17 });
    expect(nonZero(s, 'quay_log_repository_mirror_tag_syncs_total')).toEqual({
      'namespace=mirrors,repository=node-exporter,result=success': 1, // v1.7.0
      'namespace=mirrors,repository=node-exporter,result=failed': 1, // v1.8.0
      'namespace=mirrors,repository=nginx,result=success': 2, // 1.25, 1.26
    });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_failures_total')).toEqual({
      'namespace=mirrors,reason=not_found': 1, // "manifest unknown" on the fourth stderr line, not the "401" ping
      'namespace=unknown,reason=auth_failed': 1, // list-tags of ghcr.io/acme/tool: not mapped
      'namespace=unknown,reason=preempted': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_attempts_total')).toEqual({
      'namespace=mirrors,repository=node-exporter,result=partial': 1,
      'namespace=unknown,repository=unknown,result=failed': 1,
      'namespace=mirrors,repository=nginx,result=success': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_last_sync_status')).toEqual({
      'namespace=mirrors,repository=node-exporter,status=failed,last_error_reason=not_found': 1,
      'namespace=unknown,repository=unknown,status=failed,last_error_reason=auth_failed': 1,
      'namespace=mirrors,repository=nginx,status=success,last_error_reason=': 1,
    });
  });

  it('GC (v3.12-gc.log)', async () => {
    const s = await replay('v3.12-gc.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=gcworker,result=matched': 28 });
    expect(nonZero(s, 'quay_log_gc_job_runs_total')).toEqual({
      'job=GarbageCollectionWorker._garbage_collection_repos,result=success': 1, // 08:00:00
      'job=GarbageCollectionWorker._garbage_collection_repos,result=missed': 1,
      'job=GarbageCollectionWorker._garbage_collection_repos,result=skipped': 1,
      'job=GarbageCollectionWorker._garbage_collection_repos,result=error': 1, // 08:01:30, psycopg2 error
      'job=QueueWorker.poll_queue,result=success': 1,
    });
    expect(family(s, 'quay_log_gc_iterations_total')).toEqual({ '': 1 });
    expect(nonZero(s, 'quay_log_gc_storage_blobs_deleted_total')).toEqual({
      'namespace=,location=s3_us_east': 2,
      'namespace=,location=s3_eu_west': 1,
    });
    expect(family(s, 'quay_log_gc_repos_purged_total')).toEqual({ '': 2 }); // 81, 82
    // marker 21: lock busy (back to the queue); marker 22: the poll ended successfully → purged.
    expect(family(s, 'quay_log_gc_namespaces_purged_total')).toEqual({ '': 1 });
  });
});

describe('Quay 3.15–3.16: job lines name the repository (DEBUG), Skopeo [STDERR], Sync cancelled', () => {
  it('mirror (v3.15-mirror.log)', async () => {
    const s = await replay('v3.15-mirror.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=repomirrorworker,result=matched': 10 });
    // team/alpine is in no config: the job lines name it.
    expect(nonZero(s, 'quay_log_repository_mirror_tag_syncs_total')).toEqual({
      'namespace=team,repository=alpine,result=success': 1,
      'namespace=team,repository=alpine,result=failed': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_failures_total')).toEqual({ 'namespace=team,reason=tls_error': 1 });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_attempts_total')).toEqual({
      'namespace=team,repository=alpine,result=partial': 1,
      'namespace=mirrors,repository=node-exporter,result=cancelled': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_last_sync_status')).toEqual({
      'namespace=team,repository=alpine,status=failed,last_error_reason=tls_error': 1,
      'namespace=mirrors,repository=node-exporter,status=cancelled,last_error_reason=': 1,
    });
  });

  it('GC: manifests (v3.15-gc.log)', async () => {
    const s = await replay('v3.15-gc.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=gcworker,result=matched': 8 });
    expect(nonZero(s, 'quay_log_gc_table_rows_deleted_total')).toEqual({ 'table=Tag': 1, 'table=Manifest': 2 });
    expect(nonZero(s, 'quay_log_gc_candidates_found_total')).toEqual({ 'kind=tags': 1, 'kind=manifests': 2 });
    expect(nonZero(s, 'quay_log_gc_storage_blobs_deleted_total')).toEqual({ 'namespace=,location=default': 1 });
    expect(family(s, 'quay_log_gc_iterations_total')).toEqual({ '': 1 });
  });
});

describe('Quay ≥ 3.17: Skopeo command failed, architecture filter, organization mirrors', () => {
  it('mirror (v3.17-mirror.log)', async () => {
    const s = await replay('v3.17-mirror.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=repomirrorworker,result=matched': 16 });
    expect(nonZero(s, 'quay_log_repository_mirror_tag_syncs_total')).toEqual({
      'namespace=mirrors,repository=nginx,result=failed': 1,
      // Named only by "Architecture filter for team/busybox" (no job line on that path), not unknown.
      'namespace=team,repository=busybox,result=success': 1,
      // "Org mirror: Source '…' successful sync." is a success.
      'namespace=orgmirror,repository=app,result=success': 1,
    });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_failures_total')).toEqual({ 'namespace=mirrors,reason=rate_limited': 1 });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_attempts_total')).toEqual({
      'namespace=mirrors,repository=nginx,result=failed': 1,
      'namespace=team,repository=busybox,result=success': 1,
      'namespace=orgmirror,repository=app,result=success': 1,
    });
    expect(family(s, 'quay_log_repository_mirror_last_sync_timestamp_seconds')).toEqual({
      'namespace=mirrors,repository=nginx': ts('2026-02-02T10:00:02.001Z'),
      'namespace=team,repository=busybox': ts('2026-02-02T10:00:07.001Z'),
      'namespace=orgmirror,repository=app': ts('2026-02-02T10:01:04.000Z'),
    });
  });

  it('GC: immutable tags skipped (v3.17-gc.log)', async () => {
    const s = await replay('v3.17-gc.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=gcworker,result=matched': 9 });
    expect(family(s, 'quay_log_gc_immutable_tags_skipped_total')).toEqual({ '': 1 });
    expect(nonZero(s, 'quay_log_gc_table_rows_deleted_total')).toEqual({ 'table=Tag': 1, 'table=Manifest': 1 });
    expect(nonZero(s, 'quay_log_gc_storage_blobs_deleted_total')).toEqual({ 'namespace=,location=default': 2 });
  });
});

describe("Quay's main branch", () => {
  it('mirror at INFO only: tag results through mirror.repositories (main-mirror.log)', async () => {
    const s = await replay('main-mirror.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=repomirrorworker,result=matched': 8 });
    expect(nonZero(s, 'quay_log_repository_mirror_sync_attempts_total')).toEqual({
      'namespace=mirrors,repository=node-exporter,result=partial': 1, // run 1: v1.8.0 ok, v1.9.0 failed
      'namespace=mirrors,repository=node-exporter,result=success': 1, // run 2: both ok
    });
    // Without DEBUG there is no skopeo text: the reason is unknown_error.
    expect(nonZero(s, 'quay_log_repository_mirror_sync_failures_total')).toEqual({ 'namespace=mirrors,reason=unknown_error': 1 });
    // The newer success wins.
    expect(nonZero(s, 'quay_log_repository_mirror_last_sync_status')).toEqual({
      'namespace=mirrors,repository=node-exporter,status=success,last_error_reason=': 1,
    });
  });

  it('GC: "Removed blob … under namespace …" keeps the namespace (main-gc.log)', async () => {
    const s = await replay('main-gc.log');
    expect(nonZero(s, 'quay_log_exporter_lines_total')).toEqual({ 'source=gcworker,result=matched': 4 });
    expect(nonZero(s, 'quay_log_gc_storage_blobs_deleted_total')).toEqual({
      'namespace=acme,location=local_us': 1,
      'namespace=acme,location=s3_us_east': 1, // with a delete marker
    });
  });
});

describe('the same numbers with the README\'s multiline preset (python-traceback) as without', () => {
  const fixtures = ['v3.7', 'v3.12', 'v3.15', 'v3.17', 'main'].flatMap((v) => [`${v}-mirror.log`, `${v}-gc.log`]);
  for (const name of fixtures) {
    it(name, async () => {
      const [plain, joined] = await Promise.all([replay(name), replay(name, true)]);
      // Joined tracebacks and skopeo output make fewer, longer lines: every other metric is equal.
      const metrics = (s: Sample[]) => s.filter((x) => !x.name.startsWith('quay_log_exporter_'));
      expect(metrics(joined)).toEqual(metrics(plain));
      expect(Object.keys(nonZero(joined, 'quay_log_exporter_lines_total')).filter((k) => k.includes('unmatched'))).toEqual([]);
    });
  }
});

describe('a mixed log of each family (nginx, gunicorn, supervisord, mirror and GC together) has no unmatched line', () => {
  // The nginx/gunicorn fixtures are quay-nginx's (test/quay-versions.test.ts); 3.8–3.14 is their v3.8.
  const families: [string, string][] = [['v3.7', 'v3.7'], ['v3.8', 'v3.12'], ['v3.15', 'v3.15'], ['v3.17', 'v3.17'], ['main', 'main']];
  for (const [web, workers] of families) {
    it(`${web}-nginx.log + ${workers}-mirror.log + ${workers}-gc.log`, async () => {
      const state = mkdtempSync(join(dir, 'mixed-'));
      const config = join(state, 'config.yaml');
      writeFileSync(config, `state_dir: ${state}\n${CONFIG}`);
      const file = (n: string) => fileURLToPath(new URL(`./fixtures/quay-versions/${n}`, import.meta.url));
      const r = await runCli(['replay', '--config', config, file(`${web}-nginx.log`), file(`${workers}-mirror.log`), file(`${workers}-gc.log`)]);
      expect(r.code).toBe(0);
      const s = parseExposition(r.stdout);
      expect(Object.keys(nonZero(s, 'quay_log_exporter_lines_total')).filter((k) => k.includes('unmatched'))).toEqual([]);
      // The workers' numbers are those of their own replays.
      const [mirror, gc] = await Promise.all([replay(`${workers}-mirror.log`), replay(`${workers}-gc.log`)]);
      const of = (x: Sample[], prefix: string) => x.filter((m) => m.name.startsWith(prefix));
      expect(of(s, 'quay_log_repository_mirror_')).toEqual(of(mirror, 'quay_log_repository_mirror_'));
      expect(of(s, 'quay_log_gc_')).toEqual(of(gc, 'quay_log_gc_'));
    });
  }
});

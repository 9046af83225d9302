import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { EventBus, type QuayEvent } from '../../events.js';
import { PatternLibrary } from '../../grok/index.js';
import { silentLogger } from '../../log.js';
import { MetricRegistry, type CounterFamily } from '../../metrics/series.js';
import { LineFields } from '../../records/fields.js';
import { LineResult } from '../types.js';
import { createGcParser } from './index.js';

const grok = PatternLibrary.bundled();

function setup() {
  const registry = new MetricRegistry();
  const events = new EventBus();
  const got: QuayEvent[] = [];
  events.add({ emit: (e) => got.push(e) });
  const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events, grok, log: silentLogger });
  const results: LineResult[] = [];
  const feed = (line: string) => {
    const bar = line.indexOf(' | ');
    results.push(parser.parse(line, bar < 0 ? 0 : bar + 3));
  };
  const value = (f: CounterFamily, ...labels: string[]) => (f.has(...labels) ? f.at(...labels).value : 0);
  return { registry, got, results, feed, value };
}

describe('GC parser (test/fixtures/gc-workers.log)', () => {
  const lines = readFileSync(new URL('../../../test/fixtures/gc-workers.log', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
  // Fed before each test, not once: Stryker's vitest runner (perTest coverage) records what a
  // describe's beforeAll reaches as "static" coverage belonging to no test, so with --ignoreStatic
  // these tests were never run against the mutants only the fixture reaches (they survived).
  let s: ReturnType<typeof setup>;
  let r: MetricRegistry;
  beforeEach(() => {
    s = setup();
    for (const l of lines) s.feed(l);
    r = s.registry;
  });

  it('classifies lines: only the garbage line is unmatched (traceback lines belong to their event)', () => {
    expect(lines).toHaveLength(41);
    expect(s.results.filter((x) => x === LineResult.Unmatched)).toHaveLength(1);
    expect(s.results.filter((x) => x === LineResult.Matched)).toHaveLength(40);
  });

  it('counts apscheduler job runs by job and result', () => {
    const runs = r.counter('quay_log_gc_job_runs_total');
    // _garbage_collection_repos: executed 18:46:52 and 18:49:22, raised 18:47:22, missed 18:48:23, skipped 18:48:53.
    expect(s.value(runs, 'GarbageCollectionWorker._garbage_collection_repos', 'success')).toBe(2);
    expect(s.value(runs, 'GarbageCollectionWorker._garbage_collection_repos', 'error')).toBe(1);
    expect(s.value(runs, 'GarbageCollectionWorker._garbage_collection_repos', 'missed')).toBe(1);
    expect(s.value(runs, 'GarbageCollectionWorker._garbage_collection_repos', 'skipped')).toBe(1);
    expect(s.value(runs, 'GarbageCollectionWorker._scan_notifications', 'success')).toBe(1);
    expect(s.value(runs, 'QueueWorker.poll_queue', 'success')).toBe(1);
    expect(s.value(runs, 'QueueWorker.poll_queue', 'error')).toBe(1);
    expect(runs.slots.size).toBe(7);
    // Only successful _garbage_collection_repos runs are iterations.
    expect(r.counter('quay_log_gc_iterations_total').at().value).toBe(2);
  });

  it('counts rows, candidates, blobs, purges and skipped immutable tags', () => {
    const rows = r.counter('quay_log_gc_table_rows_deleted_total');
    // Tag: 101, 102 (repo 42) and 900 (repo 77); Manifest: 501, 502; UploadedBlob: 7.
    expect(s.value(rows, 'Tag')).toBe(3);
    expect(s.value(rows, 'Manifest')).toBe(2);
    expect(s.value(rows, 'UploadedBlob')).toBe(1);
    const found = r.counter('quay_log_gc_candidates_found_total');
    // "Found 2 tags" + "Found 1 tags"; "Found 2 manifests"; "Found 1 uploaded blobs".
    expect(s.value(found, 'tags')).toBe(3);
    expect(s.value(found, 'manifests')).toBe(2);
    expect(s.value(found, 'uploaded_blobs')).toBe(1);
    const blobs = r.counter('quay_log_gc_storage_blobs_deleted_total');
    // main-branch lines: acme from local_us and from s3_us_east (with a delete marker), acme-old from local_us.
    expect(s.value(blobs, 'acme', 'local_us')).toBe(1);
    expect(s.value(blobs, 'acme', 's3_us_east')).toBe(1);
    expect(s.value(blobs, 'acme-old', 'local_us')).toBe(1);
    expect(blobs.slots.size).toBe(3);
    expect(r.counter('quay_log_gc_repos_purged_total').at().value).toBe(1);
    expect(r.counter('quay_log_gc_immutable_tags_skipped_total').at().value).toBe(1);
    // Marker 12: the next item came → deleted; 13: lock busy, back to the queue; 14: poll ended
    // successfully → deleted; 15: the poll raised → not deleted.
    expect(r.counter('quay_log_gc_namespaces_purged_total').at().value).toBe(2);
  });

  it('emits one quay_gc_run event per apscheduler job line, with what the pid did since its previous one', () => {
    expect(s.got.map((e) => `${e.tags['job']} ${e.tags['result']}`)).toEqual([
      'GarbageCollectionWorker._garbage_collection_repos success',
      'GarbageCollectionWorker._scan_notifications success',
      'GarbageCollectionWorker._garbage_collection_repos error',
      'GarbageCollectionWorker._garbage_collection_repos missed',
      'GarbageCollectionWorker._garbage_collection_repos skipped',
      'GarbageCollectionWorker._garbage_collection_repos success',
      'QueueWorker.poll_queue success',
      'QueueWorker.poll_queue error',
    ]);
    expect(s.got[0]).toEqual({
      measurement: 'quay_gc_run',
      time: Date.UTC(2022, 10, 14, 18, 46, 52, 458),
      tags: { job: 'GarbageCollectionWorker._garbage_collection_repos', result: 'success' },
      fields: { blobs_removed: 2, rows_Tag: 2, rows_Manifest: 0, rows_UploadedBlob: 1 },
    });
    expect(s.got[1]!.fields).toEqual({ blobs_removed: 0, rows_Tag: 0, rows_Manifest: 0, rows_UploadedBlob: 0 });
    expect(s.got[6]!.fields).toEqual({ blobs_removed: 1, rows_Tag: 1, rows_Manifest: 2, rows_UploadedBlob: 0 });
  });
});

describe('GC parser, single lines', () => {
  it('reads the first line of a joined traceback event', () => {
    const s = setup();
    s.feed(
      'gcworker stdout | 2022-11-14 18:47:22,500 [63] [ERROR] [apscheduler.executors.default] Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2022-11-14 18:47:52 UTC)" raised an exception\nTraceback (most recent call last):\n  File "/quay-registry/workers/gc/gcworker.py", line 60, in _garbage_collection_repos\npeewee.OperationalError: (2006, \'MySQL server has gone away\')',
    );
    expect(s.results).toEqual([LineResult.Matched]);
    expect(s.registry.counter('quay_log_gc_job_runs_total').at('GarbageCollectionWorker._garbage_collection_repos', 'error').value).toBe(1);
  });

  it('leaves row counts out of the event when the worker logs no DEBUG (they are unknown, not 0)', () => {
    const s = setup();
    s.feed('gcworker stdout | 2022-11-14 18:46:22,100 [5] [INFO] [data.model.storage] Removed blob sha256:ab from local_us (path: sha256/ab/ab) under namespace acme (repo: app)');
    s.feed('gcworker stdout | 2022-11-14 18:46:52,458 [5] [INFO] [apscheduler.executors.default] Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2022-11-14 18:47:22 UTC)" executed successfully');
    expect(s.got.map((e) => e.fields)).toEqual([{ blobs_removed: 1 }]);
  });
});

const APS = (pid: number, job: string, time: string) =>
  `gcworker stdout | 2024-03-01 ${time},000 [${pid}] [INFO] [apscheduler.executors.default] Job "${job} (trigger: interval[0:00:30], next run at: 2024-03-01 10:00:30 UTC)" executed successfully`;
const GC_JOB = 'GarbageCollectionWorker._garbage_collection_repos';

describe("GC parser: Quay's Worker wrapper swallows exceptions (workers/worker.py, v3.5.1 … v3.18.0)", () => {
  it('a run whose operation raised is an error and no iteration, though apscheduler says executed successfully', () => {
    const s = setup();
    s.feed('gcworker stdout | 2024-03-01 10:00:00,100 [63] [ERROR] [workers.worker] Operation raised exception');
    s.feed('gcworker stdout | Traceback (most recent call last):');
    s.feed('gcworker stdout |   File "/quay-registry/workers/worker.py", line 87, in _operation_func');
    s.feed("gcworker stdout | peewee.OperationalError: (2006, 'MySQL server has gone away')");
    s.feed(APS(63, GC_JOB, '10:00:00'));
    // The next run of the same pid is clean: a success and an iteration.
    s.feed(APS(63, GC_JOB, '10:00:30'));
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    expect(s.value(runs, GC_JOB, 'error')).toBe(1);
    expect(s.value(runs, GC_JOB, 'success')).toBe(1);
    expect(s.registry.counter('quay_log_gc_iterations_total').at().value).toBe(1);
    expect(s.results.every((r) => r === LineResult.Matched)).toBe(true);
    expect(s.got.map((e) => e.tags['result'])).toEqual(['error', 'success']);
  });

  it("the retrying variant marks the run too; another pid's run is not touched", () => {
    const s = setup();
    s.feed('gcworker stdout | 2024-03-01 10:00:00,100 [63] [ERROR] [workers.worker] Operation raised exception, retrying in 40 seconds');
    s.feed(APS(64, GC_JOB, '10:00:01')); // pid 64: success
    s.feed(APS(63, GC_JOB, '10:00:02')); // pid 63: error
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    expect(s.value(runs, GC_JOB, 'error')).toBe(1);
    expect(s.value(runs, GC_JOB, 'success')).toBe(1);
    expect(s.registry.counter('quay_log_gc_iterations_total').at().value).toBe(1);
  });

  it('a namespace GC that ends in "GC interrupted; will retry" purges nothing', () => {
    const s = setup();
    const ns = (t: string, lvl: string, logger: string, m: string) => `namespacegcworker stdout | 2024-03-01 ${t},000 [70] [${lvl}] [${logger}] ${m}`;
    s.feed(ns('10:01:00', 'DEBUG', 'workers.namespacegcworker', "Got namespace GC queue item: {'marker_id': 3, 'original_username': 'old'}"));
    s.feed(ns('10:01:01', 'ERROR', 'workers.worker', 'Operation raised exception'));
    s.feed('namespacegcworker stdout | Traceback (most recent call last):');
    s.feed('namespacegcworker stdout |   File "/quay-registry/workers/namespacegcworker.py", line 41, in _perform_gc');
    s.feed('namespacegcworker stdout | Exception: GC interrupted; will retry');
    s.feed(ns('10:01:01', 'INFO', 'apscheduler.executors.default', 'Job "QueueWorker.poll_queue (trigger: interval[0:01:00], next run at: 2024-03-01 10:02:00 UTC)" executed successfully'));
    expect(s.registry.counter('quay_log_gc_namespaces_purged_total').at().value).toBe(0);
    expect(s.value(s.registry.counter('quay_log_gc_job_runs_total'), 'QueueWorker.poll_queue', 'error')).toBe(1);
    expect(s.results.every((r) => r === LineResult.Matched)).toBe(true);
  });
});

describe('GC parser: blobs removed', () => {
  it('counts released Quay\'s DEBUG `Removing <path> from <location>` (data.model.storage) by location', () => {
    const s = setup();
    const rm = (loc: string, logger = 'data.model.storage') =>
      `gcworker stdout | 2024-03-01 10:00:00,100 [63] [DEBUG] [${logger}] Removing sha256/6c/6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b from ${loc}`;
    s.feed(rm('local_us'));
    s.feed(rm('local_us'));
    s.feed(rm('s3_eu'));
    // Another logger's "Removing … from …" is not a blob.
    s.feed(rm('local_us', 'data.model.oci.tag'));
    s.feed(APS(63, GC_JOB, '10:00:01'));
    const blobs = s.registry.counter('quay_log_gc_storage_blobs_deleted_total');
    // 2 from local_us, 1 from s3_eu; no namespace in these lines.
    expect(s.value(blobs, '', 'local_us')).toBe(2);
    expect(s.value(blobs, '', 's3_eu')).toBe(1);
    expect(blobs.slots.size).toBe(2);
    expect(s.got[0]!.fields['blobs_removed']).toBe(3);
  });
});

describe('GC parser, bad input', () => {
  it('never throws on huge, binary or near-miss lines', () => {
    const s = setup();
    const head = 'gcworker stdout | 2022-11-14 18:46:22,001 [63] [DEBUG] [data.model.gc] ';
    for (const l of [
      'gcworker stdout | ' + 'x'.repeat(1 << 20),
      'gcworker stdout | \u0000\u0001\uFFFD binary',
      head + 'Found 99999999999999999999999 tags to GC under repository 1',
      head + 'Found -3 tags to GC under repository 1',
      head + 'Removed blob ' + '(path: '.repeat(100_000),
      head + 'Job "' + '('.repeat(100_000),
    ]) {
      expect(() => s.feed(l)).not.toThrow();
    }
    expect(s.results.slice(0, 2)).toEqual([LineResult.Unmatched, LineResult.Unmatched]);
    // An absurd or negative N adds nothing.
    expect(s.registry.counter('quay_log_gc_candidates_found_total').slots.size).toBe(0);
  });
});

describe('GC parser: streams (two pods, both workers pid 63)', () => {
  const P = 'gcworker stdout | 2022-11-14 ';
  const tag = (t: string, id: number) => `${P}${t} [63] [DEBUG] [data.model.gc] Deleting tag ${id} under repository 42`;
  const blob = (t: string, loc: string) =>
    `${P}${t} [63] [INFO] [data.model.storage] Removed blob sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b from ${loc} (path: sha256/6c/6c3c) under namespace acme (repo: app)`;
  const done = (t: string) =>
    `${P}${t} [63] [INFO] [apscheduler.executors.default] Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2022-11-14 18:47:22 UTC)" executed successfully`;

  it("each pod's job run carries its own rows and blobs, interleaved or not", () => {
    const s = setup();
    const events = new EventBus();
    const got: QuayEvent[] = [];
    events.add({ emit: (e) => got.push(e) });
    const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry: s.registry, events, grok, log: silentLogger });
    const a = parser.openStream!({ id: 'a', pod: 'quay-a', namespace: 'quay' });
    const b = parser.openStream!({ id: 'b', pod: 'quay-b', namespace: 'quay' });
    const feed = (line: string, st: typeof a) => parser.parse(line, P.indexOf(' | ') + 3, st);
    feed(tag('18:46:22,001', 1), a);
    feed(blob('18:46:22,002', 'local_us'), b);
    feed(tag('18:46:22,003', 2), a);
    feed(blob('18:46:22,004', 'local_us'), a);
    feed(blob('18:46:22,005', 'local_us'), b);
    feed(done('18:46:22,006'), a);
    feed(tag('18:46:22,007', 3), b);
    feed(done('18:46:22,008'), b);
    // By hand: pod A deleted tags 1, 2 and one blob; pod B two blobs and tag 3.
    expect(got.map((e) => [e.stream?.pod, e.fields])).toEqual([
      ['quay-a', { blobs_removed: 1, rows_Tag: 2, rows_Manifest: 0, rows_UploadedBlob: 0 }],
      ['quay-b', { blobs_removed: 2, rows_Tag: 1, rows_Manifest: 0, rows_UploadedBlob: 0 }],
    ]);
    // The counters add both pods: 3 tags, 3 blobs, 2 iterations.
    expect(s.value(s.registry.counter('quay_log_gc_table_rows_deleted_total'), 'Tag')).toBe(3);
    expect(s.registry.counter('quay_log_gc_iterations_total').at().value).toBe(2);
  });
});

describe('GC parser: fields of each line for records out (src/records/README.md, "Fields of a line")', () => {
  // Built in each test, not while the file is collected (mutation testing switches mutants on later).
  function withFields() {
    const fields = new LineFields();
    fields.active = true;
    const registry = new MetricRegistry();
    const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events: new EventBus(), grok, log: silentLogger, fields });
    const read = (line: string) => {
      const bar = line.indexOf(' | ');
      parser.parse(line, bar + 3);
      return fields.take();
    };
    return { read, registry };
  }
  const L = (pid: number, level: string, logger: string, msg: string) => `gcworker stdout | 2022-11-14 18:46:22,021 [${pid}] [${level}] [${logger}] ${msg}`;
  const JOB = (verb: string) => `Job "QueueWorker.poll_queue (trigger: interval[0:01:00], next run at: 2022-11-14 18:51:00 UTC)" ${verb}`;

  it('row deletions: table, rows 1, row, digest when logged, repository (test/fixtures/gc-workers.log lines)', () => {
    const { read } = withFields();
    expect(read(L(63, 'DEBUG', 'data.model.gc', 'Deleting tag 101 under repository 42'))).toStrictEqual({
      pid: 63, level: 'DEBUG', logger: 'data.model.gc', kind: 'row_deleted', row: '101', repository: '42', table: 'Tag', rows: 1,
    });
    const digest = 'sha256:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988';
    expect(read(L(70, 'DEBUG', 'data.model.gc', `Deleting manifest 501 with digest ${digest} under repository 77`))).toStrictEqual({
      pid: 70, level: 'DEBUG', logger: 'data.model.gc', kind: 'row_deleted', row: '501', digest, repository: '77', table: 'Manifest', rows: 1,
    });
    expect(read(L(63, 'DEBUG', 'data.model.gc', 'Deleting uploaded blob 7 under repository 42'))).toMatchObject({ table: 'UploadedBlob', row: '7' });
  });

  it('candidates, purges, immutable tags', () => {
    const { read } = withFields();
    expect(read(L(63, 'DEBUG', 'data.model.gc', 'Found 2 tags to GC under repository 42'))).toStrictEqual({
      pid: 63, level: 'DEBUG', logger: 'data.model.gc', kind: 'candidates_found', repository: '42', candidates: 'tags', count: 2,
    });
    expect(read(L(63, 'DEBUG', 'data.model.gc', 'Found 1 uploaded blobs to GC under repository 42'))).toMatchObject({ candidates: 'uploaded_blobs', count: 1 });
    expect(read(L(70, 'DEBUG', 'data.model.gc', 'Purging repository 77'))).toStrictEqual({ pid: 70, level: 'DEBUG', logger: 'data.model.gc', kind: 'repository_purging', repository: '77' });
    expect(read(L(63, 'WARNING', 'data.model.gc', 'Skipping GC of immutable tag v1.0 (id=103) in repository 42'))).toStrictEqual({
      pid: 63, level: 'WARNING', logger: 'data.model.gc', kind: 'immutable_tag_skipped', tag: 'v1.0', tag_id: 103, repository: '42',
    });
  });

  it("blobs removed: released Quay's `Removing` (location, path) and the main branch's `Removed blob` (all five)", () => {
    const { read } = withFields();
    expect(read(L(63, 'DEBUG', 'data.model.storage', 'Removing sha256/6c/6c3c from local_us'))).toStrictEqual({
      pid: 63, level: 'DEBUG', logger: 'data.model.storage', kind: 'blob_removed', location: 'local_us', path: 'sha256/6c/6c3c',
    });
    expect(read(L(63, 'INFO', 'data.model.storage', 'Removed blob sha256:6c3c from local_us (path: sha256/6c/6c3c) under namespace acme (repo: app)'))).toStrictEqual({
      pid: 63, level: 'INFO', logger: 'data.model.storage', kind: 'blob_removed', namespace: 'acme', location: 'local_us', digest: 'sha256:6c3c', path: 'sha256/6c/6c3c', repository: 'app',
    });
  });

  it('job runs (missed_by on a missed one), queue lines, and a traceback line', () => {
    const { read } = withFields();
    const aps = 'apscheduler.executors.default';
    expect(read(L(70, 'INFO', aps, JOB('executed successfully')))).toStrictEqual({
      pid: 70, level: 'INFO', logger: aps, kind: 'job_run', job: 'QueueWorker.poll_queue', job_result: 'success',
    });
    expect(read(L(70, 'WARNING', aps, 'Run time of ' + JOB('was missed by 0:00:01.514839').slice(0, -' was missed by 0:00:01.514839'.length).replace('Job', 'job') + ' was missed by 0:00:01.514839'))).toMatchObject({
      kind: 'job_run', job_result: 'missed', missed_by: '0:00:01.514839',
    });
    expect(read(L(70, 'DEBUG', 'workers.namespacegcworker', "Got namespace GC queue item: {'marker_id': 12}"))).toMatchObject({ kind: 'namespace_gc_item' });
    expect(read(L(70, 'DEBUG', 'workers.queueworker', 'Worker has been requested to go to sleep'))).toMatchObject({ kind: 'queue_sleep' });
    expect(read(L(70, 'WARNING', 'workers.queueworker', 'Job exception: boom'))).toStrictEqual({
      pid: 70, level: 'WARNING', logger: 'workers.queueworker', kind: 'queue_job_exception', error: 'boom',
    });
    expect(read('gcworker stdout | Traceback (most recent call last):')).toStrictEqual({ kind: 'traceback' });
  });

  it('operation raised: retry_seconds, and the operation when the traceback is joined to the line', () => {
    const { read } = withFields();
    expect(read(L(70, 'ERROR', 'workers.worker', 'Operation raised exception, retrying in 40 seconds'))).toStrictEqual({
      pid: 70, level: 'ERROR', logger: 'workers.worker', kind: 'operation_raised', retry_seconds: 40,
    });
    const joined =
      L(71, 'ERROR', 'workers.worker', 'Operation raised exception') +
      '\nTraceback (most recent call last):\n  File "/quay-registry/workers/worker.py", line 87, in _operation_func\n    return operation_func()\n  File "/quay-registry/workers/queueworker.py", line 120, in poll_queue\n    self.process_queue_item(job_details)\nException: boom';
    // No retry in this text: no retry_seconds; the frame after _operation_func is poll_queue.
    expect(read(joined)).toStrictEqual({ pid: 71, level: 'ERROR', logger: 'workers.worker', kind: 'operation_raised', operation: 'poll_queue' });
  });
});

describe('GC parser: which run an operation that raised belongs to', () => {
  const Q = (t: string, pid: number, lvl: string, logger: string, m: string) => `namespacegcworker stdout | 2024-03-01 ${t},000 [${pid}] [${lvl}] [${logger}] ${m}`;
  const run = (t: string, job: string, pid = 70) =>
    Q(t, pid, 'INFO', 'apscheduler.executors.default', `Job "${job} (trigger: interval[0:01:00], next run at: 2024-03-01 10:02:00 UTC)" executed successfully`);

  it('the traceback names poll_queue: a run_watchdog run between stays a success, the poll_queue run is the error', () => {
    const s = setup();
    s.feed(Q('10:01:00', 70, 'ERROR', 'workers.worker', 'Operation raised exception'));
    s.feed('namespacegcworker stdout | Traceback (most recent call last):');
    s.feed('namespacegcworker stdout |   File "/quay-registry/workers/worker.py", line 87, in _operation_func');
    s.feed('namespacegcworker stdout |     return operation_func()');
    s.feed('namespacegcworker stdout |   File "/quay-registry/workers/queueworker.py", line 120, in poll_queue');
    // A frame after the named one changes nothing: the traceback's operation is already known.
    s.feed('namespacegcworker stdout |   File "/quay-registry/workers/namespacegcworker.py", line 41, in _perform_gc');
    s.feed('namespacegcworker stdout | Exception: boom');
    s.feed(run('10:01:01', 'QueueWorker.run_watchdog'));
    s.feed(run('10:01:02', 'QueueWorker.poll_queue'));
    // And the next poll_queue run is clean again.
    s.feed(run('10:02:02', 'QueueWorker.poll_queue'));
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    // By hand: watchdog 1 success; poll_queue 1 error (the raised one), 1 success.
    expect(s.value(runs, 'QueueWorker.run_watchdog', 'success')).toBe(1);
    expect(s.value(runs, 'QueueWorker.run_watchdog', 'error')).toBe(0);
    expect(s.value(runs, 'QueueWorker.poll_queue', 'error')).toBe(1);
    expect(s.value(runs, 'QueueWorker.poll_queue', 'success')).toBe(1);
  });

  it("an `_operation_func` frame without a later one leaves the run unknown: the pid's next run is the error", () => {
    const s = setup();
    s.feed(Q('10:01:00', 70, 'ERROR', 'workers.worker', 'Operation raised exception'));
    s.feed('namespacegcworker stdout |   File "/quay-registry/workers/worker.py", line 87, in _operation_func');
    s.feed(Q('10:01:00', 70, 'DEBUG', 'workers.queueworker', 'Getting work item from queue.'));
    // A frame after a new log line of the pid belongs to no traceback of this operation.
    s.feed('namespacegcworker stdout |   File "/quay-registry/workers/queueworker.py", line 120, in poll_queue');
    s.feed(run('10:01:01', 'QueueWorker.run_watchdog'));
    s.feed(run('10:01:02', 'QueueWorker.poll_queue'));
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    expect(s.value(runs, 'QueueWorker.run_watchdog', 'error')).toBe(1);
    expect(s.value(runs, 'QueueWorker.poll_queue', 'success')).toBe(1);
  });

  it('a missed or skipped run neither clears the raised mark nor ends a poll: the item pending is still purged at the next item', () => {
    const s = setup();
    const item = (t: string, id: number) => Q(t, 70, 'DEBUG', 'workers.namespacegcworker', `Got namespace GC queue item: {'marker_id': ${id}, 'original_username': 'u${id}'}`);
    s.feed(item('10:01:00', 1));
    s.feed(Q('10:01:01', 70, 'WARNING', 'apscheduler.executors.default', 'Run time of job "QueueWorker.poll_queue (trigger: interval[0:01:00], next run at: 2024-03-01 10:02:00 UTC)" was missed by 0:00:01.5'));
    s.feed(item('10:01:02', 2));
    // Item 1 purged when item 2 came; item 2 pending at the end: 1.
    expect(s.registry.counter('quay_log_gc_namespaces_purged_total').at().value).toBe(1);
    // A poll_queue run of another job name suffix is not a poll: `Other.poll_queuex` ends nothing.
    s.feed(run('10:01:03', 'Other.poll_queuex'));
    s.feed(item('10:01:04', 3));
    expect(s.registry.counter('quay_log_gc_namespaces_purged_total').at().value).toBe(2);
  });

  it('candidate counts of 0 add no series; a job name past 128 characters is "other"', () => {
    const s = setup();
    s.feed('gcworker stdout | 2022-11-14 18:46:22,020 [63] [DEBUG] [data.model.gc] Found 0 tags to GC under repository 42');
    expect(s.registry.counter('quay_log_gc_candidates_found_total').slots.size).toBe(0);
    // JOB_NAME takes 1 + 127 characters: a 128-character name is kept, a 129-character one is "other".
    s.feed(APS(63, 'J'.repeat(128), '10:00:00'));
    s.feed(APS(63, 'J'.repeat(129), '10:00:01'));
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    expect(s.value(runs, 'J'.repeat(128), 'success')).toBe(1);
    expect(s.value(runs, 'other', 'success')).toBe(1);
    expect(runs.slots.size).toBe(2);
  });

  it('a JSONLOG-less, DEBUG-less run: the event time is the logged time, endStream forgets pids', () => {
    const events = new EventBus();
    const got: QuayEvent[] = [];
    events.add({ emit: (e) => got.push(e) });
    const registry = new MetricRegistry();
    const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events, grok, log: silentLogger });
    const st = parser.openStream!({ id: 'a', pod: 'quay-a', namespace: 'quay' });
    const feed = (l: string) => parser.parse(l, l.indexOf(' | ') + 3, st);
    feed('gcworker stdout | 2024-03-01 10:00:00,100 [63] [ERROR] [workers.worker] Operation raised exception');
    parser.endStream!(st);
    // After endStream the pid's raised mark is gone: the run is a success.
    feed(APS(63, GC_JOB, '10:00:01'));
    expect(got.map((e) => [e.tags['result'], e.time])).toEqual([['success', Date.UTC(2024, 2, 1, 10, 0, 1, 0)]]);
  });
});

describe('GC parser: python_log_timezone', () => {
  it('a worker logging at +02:00: the event time is two hours before the logged wall time', () => {
    const events = new EventBus();
    const got: QuayEvent[] = [];
    events.add({ emit: (e) => got.push(e) });
    const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent', python_log_timezone: '+02:00' }), registry: new MetricRegistry(), events, grok, log: silentLogger });
    const l = APS(63, GC_JOB, '12:00:00');
    parser.parse(l, l.indexOf(' | ') + 3);
    // 2024-03-01 12:00:00,000 at +02:00 is 10:00:00 UTC.
    expect(got.map((e) => e.time)).toEqual([Date.UTC(2024, 2, 1, 10, 0, 0, 0)]);
  });
});

describe('GC parser: the end of a namespace GC poll, alone (the fixture hides it: its next item counts the last one anyway)', () => {
  const N = (t: string, lvl: string, logger: string, m: string) => `namespacegcworker stdout | 2024-03-01 ${t},000 [70] [${lvl}] [${logger}] ${m}`;
  const item = (t: string, id: number) => N(t, 'DEBUG', 'workers.namespacegcworker', `Got namespace GC queue item: {'marker_id': ${id}, 'original_username': 'u${id}'}`);
  const poll = (t: string, verb: string, lvl = 'INFO') =>
    N(t, lvl, 'apscheduler.executors.default', `Job "QueueWorker.poll_queue (trigger: interval[0:01:00], next run at: 2024-03-01 10:02:00 UTC)" ${verb}`);
  const purged = (s: ReturnType<typeof setup>) => s.registry.counter('quay_log_gc_namespaces_purged_total').at().value;

  it('one item, then the poll ends successfully: 1 purged', () => {
    const s = setup();
    s.feed(item('10:01:00', 1));
    s.feed(poll('10:01:01', 'executed successfully'));
    expect(purged(s)).toBe(1);
  });

  it('one item, then the poll raises: 0 purged, and the next item does not count it', () => {
    const s = setup();
    s.feed(item('10:01:00', 1));
    s.feed(poll('10:01:01', 'raised an exception', 'ERROR'));
    s.feed(item('10:02:00', 2));
    // Item 1 failed; item 2 is still pending: 0.
    expect(purged(s)).toBe(0);
  });

  it('a raise while an item is pending drops it, even with no poll end logged before the next items', () => {
    const s = setup();
    s.feed(item('10:01:00', 1));
    s.feed(N('10:01:01', 'ERROR', 'workers.worker', 'Operation raised exception'));
    s.feed('namespacegcworker stdout | Exception: GC interrupted; will retry');
    s.feed(item('10:02:00', 2));
    s.feed(item('10:02:01', 3));
    // Item 1 was interrupted (not purged); item 3 reached means item 2 was purged; item 3 pending: 1.
    expect(purged(s)).toBe(1);
  });
});

describe('GC parser: a raise and the runs after it', () => {
  it('a missed run after a raise stays missed and keeps the mark: the next executed run is the error', () => {
    const s = setup();
    s.feed('gcworker stdout | 2024-03-01 10:00:00,100 [63] [ERROR] [workers.worker] Operation raised exception');
    s.feed(`gcworker stdout | 2024-03-01 10:00:01,000 [63] [WARNING] [apscheduler.executors.default] Run time of job "${GC_JOB} (trigger: interval[0:00:30], next run at: 2024-03-01 10:00:30 UTC)" was missed by 0:00:01.5`);
    s.feed(APS(63, GC_JOB, '10:00:02'));
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    expect([s.value(runs, GC_JOB, 'missed'), s.value(runs, GC_JOB, 'error'), s.value(runs, GC_JOB, 'success')]).toEqual([1, 1, 0]);
  });

  it('a joined traceback with no frames, or only the wrapper frame: no operation field, the next run is the error', () => {
    const fields = new LineFields();
    fields.active = true;
    const registry = new MetricRegistry();
    const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events: new EventBus(), grok, log: silentLogger, fields });
    const head = 'gcworker stdout | 2024-03-01 10:00:00,100 [63] [ERROR] [workers.worker] Operation raised exception';
    parser.parse(head + '\nTraceback (most recent call last):\nException: boom', 18);
    expect(fields.take()).toStrictEqual({ pid: 63, level: 'ERROR', logger: 'workers.worker', kind: 'operation_raised' });
    parser.parse(head + '\nTraceback (most recent call last):\n  File "/quay-registry/workers/worker.py", line 87, in _operation_func\nException: boom', 18);
    expect(fields.take()).toStrictEqual({ pid: 63, level: 'ERROR', logger: 'workers.worker', kind: 'operation_raised' });
    const l = APS(63, GC_JOB, '10:00:01');
    parser.parse(l, 18);
    expect(registry.counter('quay_log_gc_job_runs_total').at(GC_JOB, 'error').value).toBe(1);
  });
});

describe('GC parser: numbers past 2^53 and job names that end like another', () => {
  it('a count or tag id past 2^53 is no record field (and no metric)', () => {
    const fields = new LineFields();
    fields.active = true;
    const registry = new MetricRegistry();
    const parser = createGcParser({ config: parseConfig({ state_dir: '/nonexistent' }), registry, events: new EventBus(), grok, log: silentLogger, fields });
    const head = 'gcworker stdout | 2022-11-14 18:46:22,020 [63] [DEBUG] [data.model.gc] ';
    parser.parse(head + 'Found 99999999999999999999999 tags to GC under repository 42', 18);
    expect(fields.take()).toStrictEqual({ pid: 63, level: 'DEBUG', logger: 'data.model.gc', kind: 'candidates_found', repository: '42', candidates: 'tags' });
    parser.parse(head + 'Skipping GC of immutable tag v1 (id=99999999999999999999) in repository 42', 18);
    expect(fields.take()).toStrictEqual({ pid: 63, level: 'DEBUG', logger: 'data.model.gc', kind: 'immutable_tag_skipped', tag: 'v1', repository: '42' });
  });

  it('a raise in poll_queue is not the run of Other.mypoll_queue (the method name must match after the dot)', () => {
    const s = setup();
    s.feed('gcworker stdout | 2024-03-01 10:00:00,100 [63] [ERROR] [workers.worker] Operation raised exception');
    s.feed('gcworker stdout |   File "/quay-registry/workers/worker.py", line 87, in _operation_func');
    s.feed('gcworker stdout |   File "/quay-registry/workers/queueworker.py", line 120, in poll_queue');
    s.feed(APS(63, 'Other.mypoll_queue', '10:00:01'));
    s.feed(APS(63, 'QueueWorker.poll_queue', '10:00:02'));
    const runs = s.registry.counter('quay_log_gc_job_runs_total');
    expect([s.value(runs, 'Other.mypoll_queue', 'success'), s.value(runs, 'QueueWorker.poll_queue', 'error')]).toEqual([1, 1]);
  });
});

/**
 * Worker "stories" for the corpus: a repository-mirror sync attempt and a GC
 * run, each a short run of lines handed out one at a time (so the 10% / 5%
 * shares hold while each story stays coherent). Each item's `record` adds
 * its true counts when, and only when, the line is written; the generator
 * finishes any story still open at the end, so every attempt is complete.
 *
 * Texts follow Quay (workers/repomirrorworker, util/repomirror/skopeomirror.py,
 * data/model/gc.py, data/model/storage.py) and APScheduler 3, with DEBUGLOG=true;
 * patterns/quay-mirror.grok and quay-gc.grok are the exporter's side.
 */

/** The exporter's slow_transfer defaults (config/schema.ts), used by the generator and the truth. */
export const SLOW = { minBytes: 1024 * 1024, maxBps: 1024 * 1024 };

/** Upstream reference of a mirrored repository; the bench config maps it back too (mirror.repositories). */
export const upstreamOf = (r) => `registry.example.com/upstream/${r.ns}-${r.repo.replace(/\//g, '-')}`;

const LOCAL = 'quay.example.com';

/** Skopeo error texts and the reason src/quay/failure-reasons.ts gives them (worked out by hand from its table). */
export const MIRROR_ERRORS = [
  { text: 'time="2026-11-22T00:00:00Z" level=fatal msg="Error reading manifest 1.0 in registry.example.com/upstream/x: unauthorized: authentication required"', reason: 'auth_failed' },
  { text: 'time="2026-11-22T00:00:00Z" level=fatal msg="pinging container registry registry.example.com: Get \\"https://registry.example.com/v2/\\": dial tcp 10.0.0.9:443: i/o timeout"', reason: 'network_timeout' },
  { text: 'time="2026-11-22T00:00:00Z" level=fatal msg="Error reading manifest v9 in registry.example.com/upstream/x: manifest unknown: manifest unknown"', reason: 'not_found' },
  { text: 'time="2026-11-22T00:00:00Z" level=fatal msg="pinging container registry registry.example.com: Get \\"https://registry.example.com/v2/\\": x509: certificate signed by unknown authority"', reason: 'tls_error' },
];

const py = (ctx, ms, pid, level, logger, message) => `${ctx.pyTime(ms)} [${pid}] [${level}] [${logger}] ${message}`;
const APS = 'apscheduler.executors.default';
const jobText = (fn) => `"${fn} (trigger: interval[0:00:30], next run at: 2026-11-22 00:00:30 UTC)"`;

/** One sync attempt of one mirrored repository: per tag a job line, a result line, and on failure skopeo's error. */
export function mirrorStory(ctx) {
  const { rand, pick, pickRepo, tags, T } = ctx;
  const r = pickRepo();
  const up = upstreamOf(r);
  const pid = 70 + Math.floor(rand() * 4);
  const n = 1 + Math.floor(rand() * 4);
  const prog = (ms, level, logger, msg) => `repomirrorworker stdout | ${py(ctx, ms, pid, level, logger, msg)}`;
  const job = jobText('RepoMirrorWorker._process_mirrors');
  // One error text per failing attempt, so "the reason of the attempt" is unambiguous.
  const err = rand() < 0.15 ? pick(MIRROR_ERRORS) : null;
  const items = [{ line: (ms) => prog(ms, 'INFO', APS, `Running job ${job} (scheduled at 2026-11-22 00:00:00.000000+00:00)`) }];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const tag = tags[i % tags.length];
    // Incremental sync: a tag whose digest did not change is skipped (no copy, no result line).
    // Not the first tag: the attempt is open by then, so the skip counts as a synced tag of it.
    if (i > 0 && rand() < 0.2) {
      items.push({ line: (ms) => prog(ms, 'INFO', 'workers.repomirrorworker', `Skipping unchanged tag '${tag}' (digest ${ctx.digests[i]})`) });
      continue;
    }
    const ok = err === null || rand() < 0.4;
    items.push({
      line: (ms) =>
        prog(ms, 'DEBUG', 'util.repomirror.skopeomirror', `Creating mirroring job: upstream image docker://${up}:${tag}, local repository docker://${LOCAL}/${r.ns}/${r.repo}:${tag}`),
    });
    if (!ok) {
      failed++;
      items.push({ line: (ms) => prog(ms, 'DEBUG', 'util.repomirror.skopeomirror', `Skopeo command failed (exit code 1): ${err.text}`) });
    }
    items.push({
      line: (ms) => prog(ms, 'INFO', 'workers.repomirrorworker', `Source 'docker://${up}:${tag}' ${ok ? 'successful sync' : 'failed to sync'}.`),
      record: () => {
        T('quay_log_repository_mirror_tag_syncs_total', [r.ns, r.repo, ok ? 'success' : 'failed']);
        // Each failed tag is a failure, classified from the skopeo error just before it.
        if (!ok) T('quay_log_repository_mirror_sync_failures_total', [r.ns, err.reason]);
      },
    });
  }
  // The end of the APScheduler run ends the attempt: success, partial (some tags failed) or failed (all did).
  const result = failed === 0 ? 'success' : failed < n ? 'partial' : 'failed';
  items.push({
    line: (ms) => prog(ms, 'INFO', APS, `Job ${job} executed successfully`),
    record: () => T('quay_log_repository_mirror_sync_attempts_total', [r.ns, r.repo, result]),
  });
  return items;
}

/** Kinds as Quay prints them → the exporter's `table` (rows deleted) and `kind` (candidates) labels. */
const GC_KINDS = [
  { kind: 'tag', plural: 'tags', table: 'Tag', candidates: 'tags' },
  { kind: 'manifest', plural: 'manifests', table: 'Manifest', candidates: 'manifests' },
  { kind: 'uploaded blob', plural: 'uploaded blobs', table: 'UploadedBlob', candidates: 'uploaded_blobs' },
];

/** One GC run: candidates found, rows deleted, blobs removed from storage, then the job's success line. */
export function gcStory(ctx) {
  const { rand, pick, pickRepo, digests, T } = ctx;
  const pid = 60;
  const prog = (ms, level, logger, msg) => `gcworker stdout | ${py(ctx, ms, pid, level, logger, msg)}`;
  const job = jobText('GarbageCollectionWorker._garbage_collection_repos');
  const items = [{ line: (ms) => prog(ms, 'INFO', APS, `Running job ${job} (scheduled at 2026-11-22 00:00:00.000000+00:00)`) }];
  const repoId = 1 + Math.floor(rand() * 5000);
  for (const k of GC_KINDS) {
    if (rand() < 0.5) continue;
    const count = 1 + Math.floor(rand() * 4);
    items.push({
      line: (ms) => prog(ms, 'DEBUG', 'data.model.gc', `Found ${count} ${k.plural} to GC under repository ${repoId}`),
      record: () => T('quay_log_gc_candidates_found_total', [k.candidates], count),
    });
    for (let i = 0; i < count; i++) {
      const row = 1 + Math.floor(rand() * 1e6);
      const digest = k.kind === 'manifest' ? ` with digest ${pick(digests)}` : '';
      items.push({
        line: (ms) => prog(ms, 'DEBUG', 'data.model.gc', `Deleting ${k.kind} ${row}${digest} under repository ${repoId}`),
        record: () => T('quay_log_gc_table_rows_deleted_total', [k.table]),
      });
    }
  }
  if (rand() < 0.1) {
    items.push({
      line: (ms) => prog(ms, 'DEBUG', 'data.model.gc', `Purging repository ${repoId}`),
      record: () => T('quay_log_gc_repos_purged_total', []),
    });
  }
  if (rand() < 0.05) {
    const tagId = 1 + Math.floor(rand() * 1e5);
    items.push({
      line: (ms) => prog(ms, 'WARNING', 'data.model.gc', `Skipping GC of immutable tag v1.${tagId % 10} (id=${tagId}) in repository ${repoId}`),
      record: () => T('quay_log_gc_immutable_tags_skipped_total', []),
    });
  }
  if (rand() < 0.3) {
    const r = pickRepo();
    const d = pick(digests);
    const hex = d.slice(7);
    items.push({
      line: (ms) => prog(ms, 'INFO', 'data.model.storage', `Removed blob ${d} from local_us (path: sha256/${hex.slice(0, 2)}/${hex}) under namespace ${r.ns} (repo: ${r.repo})`),
      record: () => T('quay_log_gc_storage_blobs_deleted_total', [r.ns, 'local_us']),
    });
  }
  const fn = 'GarbageCollectionWorker._garbage_collection_repos';
  items.push({
    line: (ms) => prog(ms, 'INFO', APS, `Job ${job} executed successfully`),
    record: () => {
      T('quay_log_gc_iterations_total', []);
      T('quay_log_gc_job_runs_total', [fn, 'success']);
    },
  });
  // Now and then the scheduler was late for the next run, or the previous one was still running.
  if (rand() < 0.05) {
    items.push({
      line: (ms) => prog(ms, 'WARNING', APS, `Run time of job ${job} was missed by 0:00:01.514839`),
      record: () => T('quay_log_gc_job_runs_total', [fn, 'missed']),
    });
  } else if (rand() < 0.03) {
    items.push({
      line: (ms) => prog(ms, 'WARNING', 'apscheduler.scheduler', `Execution of job ${job} skipped: maximum number of running instances reached (1)`),
      record: () => T('quay_log_gc_job_runs_total', [fn, 'skipped']),
    });
  }
  return items;
}

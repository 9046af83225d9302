/**
 * Worker "stories" for the corpus: a repository-mirror sync attempt and a GC
 * run, each a short run of lines handed out one at a time (so the 10% / 5%
 * shares hold while each story stays coherent). Each item's `record` adds
 * its true counts when, and only when, the line is written.
 */

/** The exporter's slow_transfer defaults (config/schema.ts), used by the generator and the truth. */
export const SLOW = { minBytes: 1024 * 1024, maxBps: 1024 * 1024 };

/** Upstream reference of a mirrored repository; the bench config maps it back (mirror.repositories). */
export const upstreamOf = (r) => `registry.example.com/upstream/${r.ns}-${r.repo.replace(/\//g, '-')}`;

/** Skopeo error texts and the reason the default classification gives them. */
export const MIRROR_ERRORS = [
  { text: 'Error reading manifest 1.0 in registry.example.com/upstream/x: unauthorized: authentication required', reason: 'auth_failed' },
  { text: 'pinging container registry registry.example.com: Get "https://registry.example.com/v2/": dial tcp 10.0.0.9:443: i/o timeout', reason: 'network_timeout' },
  { text: 'Error reading manifest v9 in registry.example.com/upstream/x: manifest unknown: manifest unknown', reason: 'not_found' },
  { text: 'pinging container registry registry.example.com: Get "https://registry.example.com/v2/": x509: certificate signed by unknown authority', reason: 'tls_error' },
];

const py = (ctx, ms, pid, level, logger, message) => `${ctx.pyTime(ms)} [${pid}] [${level}] [${logger}] ${message}`;

export function mirrorStory(ctx, _ms) {
  const { rand, pick, pickRepo, tags, T } = ctx;
  const r = pickRepo();
  const up = upstreamOf(r);
  const pid = 70 + Math.floor(rand() * 4);
  const n = 1 + Math.floor(rand() * 4);
  const items = [];
  const prog = (ms, level, logger, msg) => `repomirrorworker stdout | ${py(ctx, ms, pid, level, logger, msg)}`;
  items.push({ line: (ms) => prog(ms, 'INFO', 'apscheduler.executors.default', 'Running job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 00:00:30 UTC)" (scheduled at 2026-11-22 00:00:00.000000+00:00)') });
  let failedAny = false;
  for (let i = 0; i < n; i++) {
    const tag = tags[i % tags.length];
    const ok = rand() < 0.85;
    if (!ok) {
      failedAny = true;
      const err = pick(MIRROR_ERRORS);
      items.push({
        line: (ms) => prog(ms, 'INFO', 'workers.repomirrorworker', `Source 'docker://${up}:${tag}' failed to sync.`),
        record: () => T('quay_repository_mirror_tag_syncs_total', [r.ns, r.repo, 'failed']),
      });
      items.push({ line: (ms) => prog(ms, 'DEBUG', 'util.repomirror.skopeomirror', `skopeo copy failed: time="2026-11-22T00:00:00Z" level=fatal msg="${err.text}"`) });
      void err;
    } else {
      items.push({
        line: (ms) => prog(ms, 'INFO', 'workers.repomirrorworker', `Source 'docker://${up}:${tag}' successful sync.`),
        record: () => T('quay_repository_mirror_tag_syncs_total', [r.ns, r.repo, 'success']),
      });
    }
  }
  void failedAny;
  items.push({ line: (ms) => prog(ms, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 00:00:30 UTC)" executed successfully') });
  return items;
}

export const GC_TABLES = ['Tag', 'Manifest', 'UploadedBlob'];

export function gcStory(ctx, _ms) {
  const { rand, T } = ctx;
  const pid = 60;
  const prog = (ms, level, logger, msg) => `gcworker stdout | ${py(ctx, ms, pid, level, logger, msg)}`;
  const job = 'Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2026-11-22 00:00:30 UTC)"';
  const items = [];
  items.push({ line: (ms) => prog(ms, 'INFO', 'apscheduler.executors.default', `Running ${job.replace('Job ', 'job ')} (scheduled at 2026-11-22 00:00:00.000000+00:00)`) });
  for (const table of GC_TABLES) {
    if (rand() < 0.5) continue;
    const rows = 1 + Math.floor(rand() * 40);
    items.push({
      line: (ms) => prog(ms, 'DEBUG', 'data.model.gc', `Deleted ${rows} rows from table ${table}`),
      record: () => T('quay_gc_table_rows_deleted_total', [table], rows),
    });
  }
  items.push({
    line: (ms) => prog(ms, 'INFO', 'apscheduler.executors.default', `${job} executed successfully`),
    record: () => T('quay_gc_iterations_total', []),
  });
  return items;
}

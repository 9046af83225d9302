/**
 * Quay exports metrics of its own (prometheus_client, which adds `_total` to counters). A Prometheus
 * that scrapes Quay and this exporter must never find one name in both: a `sum()` would add them.
 * The list is every `quay_*` metric defined in the release tags v3.6.2 … v3.18.0 of quay/quay
 * (`git grep -E '(Counter|Gauge|Histogram|Summary)\(' <tag> -- '*.py'`), GC and mirror ones among them:
 * util/metrics/prometheus.py (quay_gc_*, v3.6+) and workers/repomirrorworker/__init__.py
 * (quay_repository_mirror_*, v3.18.0). test/deploy/many-pods.test.ts checks the same in a real Prometheus.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from './catalogue.js';

const QUAY_GC_AND_MIRROR = [
  'quay_gc_iterations_total',
  'quay_gc_namespaces_purged_total',
  'quay_gc_repos_purged_total',
  'quay_gc_storage_blobs_deleted_total',
  'quay_gc_table_rows_deleted_total',
  'quay_repository_mirror_last_sync_status',
  'quay_repository_mirror_last_sync_timestamp',
  'quay_repository_mirror_pending_tags',
  'quay_repository_mirror_sync_complete',
  'quay_repository_mirror_sync_duration_seconds',
  'quay_repository_mirror_sync_failures_total',
  'quay_repository_mirror_workers_active',
  'quay_repository_rows_unmirrored',
  'quay_org_mirror_repo_sync_total',
  'quay_org_mirror_repo_sync_duration_seconds',
];
const QUAY_REGISTRY = ['quay_registry_image_pulls_total', 'quay_registry_image_pushes_total', 'quay_registry_image_pulled_estimated_bytes_total', 'quay_registry_image_pushed_bytes_total'];

describe("our metric names and Quay's own", () => {
  it('share no name (ours are quay_log_gc_* and quay_log_repository_mirror_* where Quay has quay_gc_* / quay_repository_mirror_*)', () => {
    const ours = new Set(Object.keys(CATALOGUE));
    for (const name of [...QUAY_GC_AND_MIRROR, ...QUAY_REGISTRY]) {
      expect(ours.has(name), name).toBe(false);
      // A histogram's series add suffixes; a counter without _total would get it from an SDK.
      expect(ours.has(name.replace(/_total$/, '')), name).toBe(false);
    }
    // The names we chose instead exist.
    expect(ours.has('quay_log_gc_iterations_total')).toBe(true);
    expect(ours.has('quay_log_repository_mirror_last_sync_status')).toBe(true);
  });
});

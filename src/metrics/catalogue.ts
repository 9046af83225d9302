/**
 * The metric catalogue: every series the exporter can emit, with its exact
 * Prometheus name, its labels and its help text. Labels come from here and
 * nowhere else; `fold` names the labels whose values come from the logs
 * (namespace, repository…), which the series cap folds into `__overflow__`.
 *
 * docs/metrics.md is the user-facing version of this table.
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricDef {
  readonly kind: MetricKind;
  readonly help: string;
  readonly labels: readonly string[];
  /** Labels folded into `__overflow__` when the series cap is reached; all labels when empty. */
  readonly fold?: readonly string[];
  /** Histogram bucket upper bounds (ascending). */
  readonly buckets?: readonly number[];
}

const REPO = ['namespace', 'repository'] as const;
/** Seconds: from a fast manifest GET to a slow multi-GB layer. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Bytes per second: 64 KiB/s … 1 GiB/s, in steps of 4. */
const THROUGHPUT_BUCKETS = [65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824];

export const CATALOGUE = {
  // ---- registry traffic (nginx, or gunicorn-registry when no nginx is read) ----
  quay_registry_requests_total: {
    kind: 'counter',
    help: 'Docker Registry v2 requests by operation, repository and HTTP status.',
    labels: ['operation', 'namespace', 'repository', 'status'],
    fold: REPO,
  },
  quay_registry_pulls_total: {
    kind: 'counter',
    help: 'Image pulls: manifest GETs answered 2xx.',
    labels: REPO,
    fold: REPO,
  },
  quay_registry_pushes_total: {
    kind: 'counter',
    help: 'Image pushes: manifest PUTs answered 2xx.',
    labels: REPO,
    fold: REPO,
  },
  quay_registry_transfer_bytes_total: {
    kind: 'counter',
    help: 'Blob bytes that passed nginx: pull = body bytes of blob GETs answered 200/206, push = request bytes of blob upload PATCH/PUT answered 2xx.',
    labels: ['direction', ...REPO],
    fold: REPO,
  },
  quay_registry_blob_redirects_total: {
    kind: 'counter',
    help: 'Blob GETs answered 302/307: the bytes went from object storage or a CDN, not through nginx.',
    labels: REPO,
    fold: REPO,
  },
  quay_registry_transfer_duration_seconds: {
    kind: 'histogram',
    help: 'Duration of blob transfers (nginx $request_time).',
    labels: ['direction'],
    buckets: DURATION_BUCKETS,
  },
  quay_registry_transfer_throughput_bytes_per_second: {
    kind: 'histogram',
    help: 'Throughput of blob transfers that took a measurable time.',
    labels: ['direction'],
    buckets: THROUGHPUT_BUCKETS,
  },
  quay_registry_slow_transfers_total: {
    kind: 'counter',
    help: 'Blob transfers of at least slow_transfer.min_bytes slower than slow_transfer.max_bytes_per_second.',
    labels: ['direction', ...REPO],
    fold: REPO,
  },
  quay_http_requests_total: {
    kind: 'counter',
    help: 'HTTP requests by component (registry, api, web), method and status.',
    labels: ['component', 'method', 'status'],
  },
  quay_http_request_duration_seconds: {
    kind: 'histogram',
    help: 'HTTP request duration (nginx $request_time) by component.',
    labels: ['component'],
    buckets: DURATION_BUCKETS,
  },

  // ---- supervisord's own lines ----
  quay_process_exits_total: {
    kind: 'counter',
    help: 'Quay container processes that exited, from supervisord "exited:" lines, by program and whether supervisord expected it.',
    labels: ['program', 'expected'],
  },

  // ---- repository mirroring (repomirrorworker) ----
  quay_log_repository_mirror_tag_syncs_total: {
    kind: 'counter',
    help: 'Tags synced by the mirror worker, by result (success, failed).',
    labels: [...REPO, 'result'],
    fold: REPO,
  },
  quay_log_repository_mirror_sync_failures_total: {
    kind: 'counter',
    help: 'Mirror sync failures by reason, classified from the skopeo error text.',
    labels: ['namespace', 'reason'],
    fold: ['namespace'],
  },
  quay_log_repository_mirror_sync_attempts_total: {
    kind: 'counter',
    help: 'Sync attempts of a mirrored repository, by result (success, partial, failed, cancelled).',
    labels: [...REPO, 'result'],
    fold: REPO,
  },
  quay_log_repository_mirror_last_sync_status: {
    kind: 'gauge',
    help: 'State set: 1 on the status of the last sync attempt (success, failed, syncing, cancelled), 0 on the others.',
    labels: [...REPO, 'status', 'last_error_reason'],
    fold: REPO,
  },
  quay_log_repository_mirror_sync_complete: {
    kind: 'gauge',
    help: '1 when every tag of the last sync attempt synced, else 0.',
    labels: REPO,
    fold: REPO,
  },
  quay_log_repository_mirror_last_sync_timestamp_seconds: {
    kind: 'gauge',
    help: 'Unix time (from the log line) at which the last sync attempt ended.',
    labels: REPO,
    fold: REPO,
  },
  quay_log_repository_mirror_sync_duration_seconds: {
    kind: 'histogram',
    help: 'Duration of sync attempts, from the first to the last line of the attempt.',
    labels: ['namespace'],
    fold: ['namespace'],
    buckets: [60, 300, 900, 3600],
  },
  quay_mirror_images_total: {
    kind: 'counter',
    help: 'oc-image-mirror workers: images by result (queued, up_to_date, mirrored, failed, failed_after_retries).',
    labels: ['component', 'result'],
  },
  quay_mirror_sync_failures_total: {
    kind: 'counter',
    help: 'oc-image-mirror workers: failures by reason.',
    labels: ['component', 'reason'],
  },
  quay_mirror_transfer_duration_seconds: {
    kind: 'histogram',
    help: 'oc image mirror: duration of completed mirrors ("Mirroring completed in …").',
    labels: ['component'],
    buckets: DURATION_BUCKETS,
  },
  quay_mirror_transfer_throughput_bytes_per_second: {
    kind: 'histogram',
    help: 'oc image mirror: throughput of completed mirrors.',
    labels: ['component'],
    buckets: THROUGHPUT_BUCKETS,
  },
  quay_mirror_slow_transfers_total: {
    kind: 'counter',
    help: 'oc image mirror: completed mirrors below slow_transfer.max_bytes_per_second.',
    labels: ['component'],
  },

  // ---- garbage collection (gcworker) ----
  quay_log_gc_iterations_total: {
    kind: 'counter',
    help: 'Successful runs of GarbageCollectionWorker._garbage_collection_repos (not those that logged Operation raised exception).',
    labels: [],
  },
  quay_log_gc_job_runs_total: {
    kind: 'counter',
    help: 'apscheduler job runs in the GC worker by job and result (success, error, missed, skipped); a run that logged Operation raised exception is an error.',
    labels: ['job', 'result'],
  },
  quay_log_gc_table_rows_deleted_total: {
    kind: 'counter',
    help: 'Rows deleted by GC, by table (Tag, Manifest, UploadedBlob). Needs DEBUGLOG=true.',
    labels: ['table'],
  },
  quay_log_gc_repos_purged_total: {
    kind: 'counter',
    help: 'Repositories purged by GC. Needs DEBUGLOG=true.',
    labels: [],
  },
  quay_log_gc_storage_blobs_deleted_total: {
    kind: 'counter',
    help: 'Blobs removed from storage by GC, by storage location (and namespace where Quay logs it: main branch since 2026-08).',
    labels: ['namespace', 'location'],
    fold: ['namespace'],
  },
  quay_log_gc_candidates_found_total: {
    kind: 'counter',
    help: 'GC candidates found, by kind (tags, manifests, uploaded_blobs). Needs DEBUGLOG=true.',
    labels: ['kind'],
  },
  quay_log_gc_namespaces_purged_total: {
    kind: 'counter',
    help: 'Namespaces purged by the namespace GC worker.',
    labels: [],
  },
  quay_log_gc_immutable_tags_skipped_total: {
    kind: 'counter',
    help: 'Tags GC skipped because they are immutable.',
    labels: [],
  },

  // ---- the exporter itself ----
  quay_log_exporter_lines_total: {
    kind: 'counter',
    help: 'Lines read, by source and result (matched, unmatched, ignored).',
    labels: ['source', 'result'],
  },
  quay_log_exporter_input_bytes_total: {
    kind: 'counter',
    help: 'Bytes read, by input.',
    labels: ['input'],
  },
  quay_log_exporter_lines_truncated_total: {
    kind: 'counter',
    help: 'Lines longer than max_line_bytes and multi-line events longer than multiline.max_bytes, cut to that length.',
    labels: [],
  },
  quay_log_exporter_files_watched: {
    kind: 'gauge',
    help: 'Files currently followed.',
    labels: [],
  },
  quay_log_exporter_input_lag_bytes: {
    kind: 'gauge',
    help: 'Bytes of a followed file not read yet (size minus offset).',
    labels: ['path'],
  },
  quay_log_exporter_rotations_total: {
    kind: 'counter',
    help: 'Rotations seen, by input and kind (rename, truncate).',
    labels: ['input', 'kind'],
  },
  quay_log_exporter_mirror_repositories_evicted_total: {
    kind: 'counter',
    help: 'Repositories whose mirror status was forgotten because mirror.max_repositories were known (the least recently attempted goes).',
    labels: [],
  },
  quay_log_exporter_state_save_failures_total: {
    kind: 'counter',
    help: 'Failed saves of state files (offsets, mirror status) in state_dir; /readyz is 503 while the last save of any failed.',
    labels: [],
  },
  quay_log_exporter_series_overflow_total: {
    kind: 'counter',
    help: 'Recordings folded into __overflow__ because a metric reached limits.max_series_per_metric.',
    labels: ['metric'],
  },
  quay_log_exporter_records_received_total: {
    kind: 'counter',
    help: 'Fluent records taken in (forward, stdin json/msgpack) whose line was handed on, by input and the source their tag selected.',
    labels: ['input', 'source'],
  },
  quay_log_exporter_records_skipped_total: {
    kind: 'counter',
    help: 'Fluent records that carried no line: no message_key (no_message), or not a [time, record] entry (invalid_entry).',
    labels: ['input', 'reason'],
  },
  quay_log_exporter_forward_connections: {
    kind: 'gauge',
    help: 'Forward connections open now.',
    labels: ['input'],
  },
  quay_log_exporter_forward_connections_total: {
    kind: 'counter',
    help: 'Forward connections accepted, or refused because max_connections were open.',
    labels: ['input', 'result'],
  },
  quay_log_exporter_forward_handshake_failures_total: {
    kind: 'counter',
    help: 'Forward clients refused at the handshake: shared_key, username/password, invalid ping, or TLS.',
    labels: ['input', 'reason'],
  },
  quay_log_exporter_forward_frames_rejected_total: {
    kind: 'counter',
    help: 'Forward messages that closed their connection: malformed, larger than max_frame_bytes, or a gzip chunk that did not inflate.',
    labels: ['input', 'reason'],
  },
  quay_log_exporter_forward_acks_total: {
    kind: 'counter',
    help: 'Chunk acknowledgements sent, each after its records were recorded.',
    labels: ['input'],
  },
  quay_log_exporter_records_out_total: {
    kind: 'counter',
    help: 'Records delivered by a records output (stdout: written; forward: acknowledged, or sent when acks are off).',
    labels: ['output'],
  },
  quay_log_exporter_records_dropped_total: {
    kind: 'counter',
    help: 'Records a records output dropped: its buffer was full, or it stopped before they were delivered.',
    labels: ['output'],
  },
  quay_log_exporter_records_buffered: {
    kind: 'gauge',
    help: 'Records held by a records output: queued, or sent and not acknowledged yet.',
    labels: ['output'],
  },
  quay_log_exporter_records_acks_pending: {
    kind: 'gauge',
    help: 'Chunks a forward output sent and waits an ack for.',
    labels: ['output'],
  },
  quay_log_exporter_records_retries_total: {
    kind: 'counter',
    help: 'Chunks a forward output sent again (no ack in ack_timeout, or the connection closed).',
    labels: ['output'],
  },
  quay_log_exporter_output_points_written_total: {
    kind: 'counter',
    help: 'Points an output delivered.',
    labels: ['output'],
  },
  quay_log_exporter_output_dropped_points_total: {
    kind: 'counter',
    help: 'Points an output dropped because its queue was full or the server refused them.',
    labels: ['output'],
  },
  quay_log_exporter_output_write_errors_total: {
    kind: 'counter',
    help: 'Failed write attempts of an output (each is retried).',
    labels: ['output'],
  },
  quay_log_exporter_rule_matches_total: {
    kind: 'counter',
    help: 'Lines (or matches, for each_match rules) a rule of the rules: section matched, by rule.',
    labels: ['rule'],
  },
  quay_log_exporter_output_queue_points: {
    kind: 'gauge',
    help: 'Points waiting in an output queue.',
    labels: ['output'],
  },
} as const satisfies Record<string, MetricDef>;

export type MetricName = keyof typeof CATALOGUE;
type KindOf<N extends MetricName> = (typeof CATALOGUE)[N]['kind'];
export type CounterName = { [N in MetricName]: KindOf<N> extends 'counter' ? N : never }[MetricName];
export type GaugeName = { [N in MetricName]: KindOf<N> extends 'gauge' ? N : never }[MetricName];
export type HistogramName = { [N in MetricName]: KindOf<N> extends 'histogram' ? N : never }[MetricName];

/**
 * Whether limits.pod_label can add a `pod` label to a metric: those recorded
 * line by line per pod. Not the mirror attempt metrics (one tracker judges a
 * repository across pods: a repository is claimed by one worker at a time),
 * not the exporter's own input metrics (they have their file), and not a
 * metric that already has five labels.
 */
export function podLabelAllowed(name: string): boolean {
  const def = (CATALOGUE as Record<string, MetricDef>)[name];
  if (def === undefined || def.labels.length >= 5) return false;
  if (name.startsWith('quay_log_repository_mirror_')) return false;
  return !name.startsWith('quay_log_exporter_') || name === 'quay_log_exporter_lines_total';
}

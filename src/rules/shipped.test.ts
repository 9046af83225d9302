/**
 * The shipped rules (rules/*.yaml), each against lines built from the format
 * strings in Quay's source (file and tag named beside each), through the
 * whole pipeline: router, built-in parsers, rules, series slots.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { QuayEvent } from '../events.js';
import { silentLogger } from '../log.js';
import type { CounterFamily } from '../metrics/series.js';
import { Pipeline } from '../pipeline.js';
import { shippedRules } from './index.js';

function setup(extra: Record<string, unknown> = {}) {
  const pipeline = new Pipeline(parseConfig({ state_dir: '/nonexistent', ...extra }), { log: silentLogger });
  const events: QuayEvent[] = [];
  pipeline.events.add({ emit: (e) => events.push(e) });
  const handler = pipeline.handler('supervisord');
  const feed = (...lines: string[]) => lines.forEach((l) => handler(l));
  const family = (name: string) => pipeline.registry.definedCounter(name);
  const value = (f: CounterFamily, ...labels: string[]) => (f.has(...labels) ? f.at(...labels).value : 0);
  return { pipeline, events, feed, family, value };
}

const T = '2026-11-30 09:00:00,000 [61] ';
const SR = `storagereplication stdout | ${T}`;

describe('storage-replication.yaml (workers/storagereplication.py, v3.5.1 … v3.18.0)', () => {
  // Built and fed per test (beforeEach), not in beforeEach or while the file is collected: Stryker's
  // vitest runner records per-test coverage from a beforeEach of its own, so what beforeEach reaches
  // is "static" coverage no test owns (see test/MUTATION.md).
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
    s.feed(
      `${SR}[DEBUG] [__main__] Starting replication of image storage 1f2e3d4c-aaaa-bbbb-cccc-0123456789ab under namespace 42`,
      `${SR}[DEBUG] [__main__] Starting copy of storage 1f2e3d4c-aaaa-bbbb-cccc-0123456789ab to location eu-west from us-east`,
      `${SR}[DEBUG] [__main__] Finished copy of image storage 1f2e3d4c-aaaa-bbbb-cccc-0123456789ab to location eu-west from us-east`,
      `${SR}[DEBUG] [__main__] Finished copy of image storage 1f2e3d4c-aaaa-bbbb-cccc-0123456789ab to location ap_south from us-east`,
      `${SR}[DEBUG] [__main__] Completed replication of image storage 1f2e3d4c-aaaa-bbbb-cccc-0123456789ab to locations {'eu-west', 'ap_south'} from us-east`,
      `${SR}[ERROR] [__main__] Failed to copy path \`sha256/ab/abcdef\` of image storage 99990000-aaaa-bbbb-cccc-0123456789ab to location eu-west`,
      `${SR}[ERROR] [__main__] Failed to copy path \`sha256/cd/cdef01\` of image storage 99990001-aaaa-bbbb-cccc-0123456789ab to location eu-west`,
      `${SR}[ERROR] [__main__] Unknown exception when copying path sha256/ef/ef0123 of image storage 99990002-aaaa-bbbb-cccc-0123456789ab to loc ap_south`,
      `${SR}[WARNING] [__main__] Cannot find image storage 99990003-aaaa-bbbb-cccc-0123456789ab in existing location us-east; stopping replication`,
      `${SR}[WARNING] [__main__] Failed to find path \`sha256/12/123456\` in location \`ap_south\` after copy`,
      `${SR}[ERROR] [workers.worker] Operation raised exception, retrying in 4 seconds`,
      `${SR}[DEBUG] [__main__] Cannot find path \`sha256/12/123456\` in location ap_south (try #0). Sleeping for 2 seconds`,
      `${SR}[DEBUG] [__main__] Cannot find path \`sha256/12/123456\` in location ap_south (try #1). Sleeping for 4 seconds`,
      // The same failure text at the wrong level is not this rule's line.
      `${SR}[INFO] [__main__] Failed to copy path \`x\` of image storage y to location eu-west`,
    );
  });
  afterEach(() => s.pipeline.shutdown());

  it('counts started, completed and copies per target location', () => {
    expect(s.value(s.family('quay_storage_replication_started_total'))).toBe(1);
    expect(s.value(s.family('quay_storage_replication_completed_total'))).toBe(1);
    // Finished copy: eu-west once, ap_south once ("Starting copy" is not a finished copy).
    expect(s.value(s.family('quay_storage_replication_copies_total'), 'eu-west')).toBe(1);
    expect(s.value(s.family('quay_storage_replication_copies_total'), 'ap_south')).toBe(1);
  });

  it('counts failures per location and reason, one metric from four rules', () => {
    const f = s.family('quay_storage_replication_failures_total');
    // Labels in the order the first rule wrote them: location, reason.
    expect(s.value(f, 'eu-west', 'copy_failed')).toBe(2); // two ERROR lines; the INFO one is not counted
    expect(s.value(f, 'ap_south', 'copy_error')).toBe(1);
    expect(s.value(f, 'us-east', 'source_missing')).toBe(1);
    expect(s.value(f, 'ap_south', 'verify_failed')).toBe(1);
    expect(f.slots.size).toBe(4);
  });

  it('counts retries: one job retry, two existence-check retries', () => {
    const r = s.family('quay_storage_replication_retries_total');
    expect(s.value(r, 'job')).toBe(1);
    expect(s.value(r, 'exists_check')).toBe(2);
  });

  it('emits one event per copy failure, at the line time, location as a tag, path and storage as fields', () => {
    const ev = s.events.filter((e) => e.measurement === 'quay_storage_replication_failure');
    expect(ev).toHaveLength(2);
    expect(ev[0]).toEqual({
      measurement: 'quay_storage_replication_failure',
      time: Date.UTC(2026, 10, 30, 9, 0, 0),
      tags: { reason: 'copy_failed', location: 'eu-west' },
      fields: { path: 'sha256/ab/abcdef', storage: '99990000-aaaa-bbbb-cccc-0123456789ab' },
      stream: { id: 'anonymous' },
    });
  });

  it('counts the program lines a rule matched as other/matched, the rest as other/ignored', () => {
    const lines = s.pipeline.registry.counter('quay_log_exporter_lines_total');
    // 14 lines: all matched by some rule except "Starting copy" and the INFO line.
    expect(lines.at('other', 'matched').value).toBe(12);
    expect(lines.at('other', 'ignored').value).toBe(2);
  });
});

describe('worker-exceptions.yaml (workers/worker.py, v3.5.1 … v3.18.0)', () => {
  // Built and fed per test (beforeEach), not in beforeEach or while the file is collected: Stryker's
  // vitest runner records per-test coverage from a beforeEach of its own, so what beforeEach reaches
  // is "static" coverage no test owns (see test/MUTATION.md).
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
    s.feed(
      `notificationworker stdout | ${T}[ERROR] [workers.worker] Operation raised exception`,
      `notificationworker stdout | ${T}[ERROR] [workers.worker] Operation raised exception`,
      `gcworker stdout | ${T}[ERROR] [workers.worker] Operation raised exception`,
      // Not counted: the retry form, another logger, a program the rule does not name.
      `storagereplication stdout | ${T}[ERROR] [workers.worker] Operation raised exception, retrying in 4 seconds`,
      `notificationworker stdout | ${T}[ERROR] [something.else] Operation raised exception`,
      `gunicorn-web stdout | ${T}[ERROR] [workers.worker] Operation raised exception`,
      // As `multiline: {preset: python-traceback}` hands it: the traceback joined with "\n"; the rule's `$` ends the first line.
      `notificationworker stdout | ${T}[ERROR] [workers.worker] Operation raised exception\nnotificationworker stdout | Traceback (most recent call last):\nnotificationworker stdout |   File "/quay-registry/workers/worker.py", line 170, in _operation_func`,
    );
  });
  afterEach(() => s.pipeline.shutdown());

  it('counts by program, including a program a built-in parser reads (gcworker)', () => {
    const f = s.family('quay_worker_operation_exceptions_total');
    expect(s.value(f, 'notificationworker')).toBe(3); // two plain lines and one with its traceback
    expect(s.value(f, 'gcworker')).toBe(1);
    expect(f.slots.size).toBe(2);
  });
});

describe('security-scanner.yaml (data/secscan_model, util/secscan/v4/api.py)', () => {
  // Built and fed per test (beforeEach), not in beforeEach or while the file is collected: Stryker's
  // vitest runner records per-test coverage from a beforeEach of its own, so what beforeEach reaches
  // is "static" coverage no test owns (see test/MUTATION.md).
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
    s.feed(
      `securityworker stdout | ${T}[ERROR] [data.secscan_model.secscan_v4_model] Failed to perform indexing, security scanner API error`,
      `securityworker stdout | ${T}[ERROR] [data.secscan_model.secscan_v4_model] Failed to perform indexing, layer too large`,
      `securityworker stdout | ${T}[ERROR] [data.secscan_model.secscan_v4_model_v2] Failed to index: layer too large`,
      `securityworker stdout | ${T}[ERROR] [util.secscan.v4.api] Security scanner endpoint responded with non-200 HTTP status code: 503`,
      `securityworker stdout | ${T}[ERROR] [util.secscan.v4.api] Security scanner endpoint responded with 400 HTTP status code: {"code":"bad-request"}`,
      `gunicorn-web stdout | ${T}[ERROR] [util.secscan.v4.api] Security scanner endpoint responded with non-200 HTTP status code: 503`,
      `securityworker stdout | ${T}[ERROR] [util.secscan.v4.api] Connection error when trying to connect to security scanner endpoint`,
      `securityworker stdout | ${T}[ERROR] [util.secscan.v4.api] Security scanner endpoint timed out`,
    );
  });
  afterEach(() => s.pipeline.shutdown());

  it('counts indexing failures by reason, across the v4 and v2 texts', () => {
    const f = s.family('quay_security_scanner_indexing_failures_total');
    expect(s.value(f, 'security scanner API error')).toBe(1);
    expect(s.value(f, 'layer too large')).toBe(2);
  });

  it('counts endpoint errors by program and status, including a gunicorn line the built-in parser matched', () => {
    const f = s.family('quay_security_scanner_endpoint_errors_total');
    expect(s.value(f, 'securityworker', '503')).toBe(1);
    expect(s.value(f, 'securityworker', '400')).toBe(1);
    expect(s.value(f, 'gunicorn-web', '503')).toBe(1);
    expect(s.value(f, 'securityworker', 'connection_error')).toBe(1);
    expect(s.value(f, 'securityworker', 'timeout')).toBe(1);
    expect(f.slots.size).toBe(5);
  });
});

describe('health.yaml (health/healthcheck.py; gunicorn arbiter)', () => {
  // Built and fed per test (beforeEach), not in beforeEach or while the file is collected: Stryker's
  // vitest runner records per-test coverage from a beforeEach of its own, so what beforeEach reaches
  // is "static" coverage no test owns (see test/MUTATION.md).
  let s: ReturnType<typeof setup>;
  const dict =
    "{'services_expanded': {'auth': {'status': True}, 'database': {'status': False, 'failure': 'timeout'}, 'redis': {'status': False, 'failure': 'refused'}, 'storage': {'status': True}}, 'notes': [], 'is_testing': False, 'config_provider': 'k8s', 'local_service_key_id': 'abc', 'hostname': 'quay-app-1'}";
  beforeEach(() => {
    s = setup();
    s.feed(
      `gunicorn-web stdout | ${T}[WARNING] [health.healthcheck] [FAILED HEALTH CHECK] ${dict}`,
      `gunicorn-registry stdout | ${T}[WARNING] [health.healthcheck] [FAILED HEALTH CHECK] {'services_expanded': {'database': {'status': False, 'failure': 'x'}}}`,
      `gunicorn-web stdout | ${T}[ERROR] [gunicorn.error] Worker (pid:1234) exited with code 1`,
      `gunicorn-registry stderr | [2026-11-30 09:00:00 +0000] [55] [ERROR] Worker (pid:66) exited with code 3`,
      `gunicorn-registry stderr | [2026-11-30 09:00:00 +0000] [55] [ERROR] Worker (pid:67) exited with code 3`,
    );
  });
  afterEach(() => s.pipeline.shutdown());

  it('counts failed health checks by program and failing services one by one', () => {
    expect(s.value(s.family('quay_health_check_failed_total'), 'gunicorn-web')).toBe(1);
    expect(s.value(s.family('quay_health_check_failed_total'), 'gunicorn-registry')).toBe(1);
    const svc = s.family('quay_health_check_service_failures_total');
    // database fails in both lines, redis in the first; auth and storage are True.
    expect(s.value(svc, 'database')).toBe(2);
    expect(s.value(svc, 'redis')).toBe(1);
    expect(svc.slots.size).toBe(2);
  });

  it('counts gunicorn worker exits by program and code, in Quay and gunicorn formats', () => {
    const f = s.family('quay_gunicorn_worker_exits_total');
    expect(s.value(f, 'gunicorn-web', '1')).toBe(1);
    expect(s.value(f, 'gunicorn-registry', '3')).toBe(2);
  });
});

describe('nginx-upstream.yaml', () => {
  // Built and fed per test (beforeEach), not in beforeEach or while the file is collected: Stryker's
  // vitest runner records per-test coverage from a beforeEach of its own, so what beforeEach reaches
  // is "static" coverage no test owns (see test/MUTATION.md).
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup({ traffic: { source: 'nginx' } });
    s.feed(
      'nginx stderr | 2026/11/30 09:00:00 [error] 12#12: *345 connect() to unix:/tmp/gunicorn_registry.sock failed (111: Connection refused) while connecting to upstream, client: 10.0.0.1, server: _, request: "GET /v2/ HTTP/1.1", upstream: "http://unix:/tmp/gunicorn_registry.sock:/v2/", host: "quay.example.com"',
      'nginx stderr | 2026/11/30 09:00:01 [error] 12#12: *346 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.2, server: _, request: "GET /api/v1/user/ HTTP/1.1", upstream: "http://unix:/tmp/gunicorn_web.sock:/api/v1/user/", host: "quay.example.com"',
      'nginx stderr | 2026/11/30 09:00:02 [error] 12#12: *347 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 10.0.0.3, server: _, request: "GET /v2/a/b/manifests/latest HTTP/1.1", upstream: "http://unix:/tmp/gunicorn_registry.sock:/v2/a/b/manifests/latest", host: "quay.example.com"',
      'nginx stderr | 2026/11/30 09:00:03 [error] 12#12: *348 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.0.4, server: _, request: "POST /buildman HTTP/2.0", upstream: "grpc://127.0.0.1:50051", host: "quay.example.com"',
      'nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:32 +0000] "GET /v2/acme/app/blobs/sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e HTTP/1.1" 200 5242880 "-" "containers/5.30.0 (github.com/containers/image)" (1.532 512 1.530)',
    );
  });
  afterEach(() => s.pipeline.shutdown());

  it('counts connect failures and timeouts by upstream socket name, other for a TCP upstream', () => {
    const f = s.family('quay_nginx_upstream_errors_total');
    // labels: upstream, kind
    expect(s.value(f, 'gunicorn_registry', 'connect_failed')).toBe(1);
    expect(s.value(f, 'gunicorn_web', 'timed_out')).toBe(1);
    expect(s.value(f, 'gunicorn_registry', 'timed_out')).toBe(1);
    expect(s.value(f, 'other', 'connect_failed')).toBe(1);
    expect(f.slots.size).toBe(4);
  });

  it('leaves the built-in nginx counting as it was (4 error lines and 1 access line, all matched)', () => {
    expect(s.pipeline.registry.counter('quay_log_exporter_lines_total').at('nginx', 'matched').value).toBe(5);
  });
});

describe('shipped_rules: false', () => {
  it('loads none of them', () => {
    const s = setup({ shipped_rules: false });
    expect(s.pipeline.rules.rules).toHaveLength(0);
    void s.pipeline.shutdown();
  });

  it('every shipped file loads (the set the docs list)', () => {
    expect(shippedRules().map((r) => r.rule.name)).toHaveLength(19);
  });
});

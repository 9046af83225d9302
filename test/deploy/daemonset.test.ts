/**
 * The DaemonSet example (deploy/kubernetes/daemonset/), run for real: the CLI
 * with the example's own config on a temp directory laid out as a node's
 * /var/log/containers (symlinks, as the kubelet makes them) into a
 * /var/log/pods tree of CRI files. Two Quay pods whose mirror workers are both
 * pid 88 write interleaved lines; the kubelet rotates one file mid-attempt; a
 * pod is added and one removed during the run, and five short-lived pods come
 * and go. Totals are exact, and the offsets state holds only the pods still
 * there (it does not grow with pods that went away).
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';
import { startDaemon, waitFor, type RunningDaemon } from '../helpers/daemon.js';
import { parseExposition, sum, value, type Sample } from '../helpers/exposition.js';

const DIR = fileURLToPath(new URL('../../deploy/kubernetes/daemonset/', import.meta.url));
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docs = (f: string): Doc[] => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Doc);

const root = mkdtempSync(join(tmpdir(), 'qle-node-'));
let daemon: RunningDaemon | undefined;
afterAll(async () => {
  if (daemon && daemon.proc.exitCode === null) await daemon.stop('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const containers = join(root, 'var/log/containers');
const pods = join(root, 'var/log/pods');
mkdirSync(containers, { recursive: true });
mkdirSync(pods, { recursive: true });

interface Pod {
  readonly name: string;
  readonly link: string;
  readonly dir: string;
  readonly file: string;
}

let uid = 0;
/** A pod as the kubelet lays it out: pods/<ns>_<pod>_<uid>/quay-app/0.log and the containers/ symlink to it. */
function addPod(name: string, lines: string[] = []): Pod {
  const u = `0b1c2d3e-0000-4000-8000-${String(++uid).padStart(12, '0')}`;
  const dir = join(pods, `quay_${name}_${u}`);
  mkdirSync(join(dir, 'quay-app'), { recursive: true });
  const file = join(dir, 'quay-app', '0.log');
  writeFileSync(file, lines.map(cri).join(''));
  const link = join(containers, `${name}_quay_quay-app-${String(uid).padStart(64, 'a')}.log`);
  symlinkSync(file, link);
  return { name, link, dir, file };
}

function removePod(p: Pod): void {
  unlinkSync(p.link);
  rmSync(p.dir, { recursive: true, force: true });
}

let written = 0;
const cri = (text: string) => `2026-11-30T09:00:00.000000000Z stdout F ${text}\n`;
function write(p: Pod, text: string): void {
  const rec = cri(text);
  appendFileSync(p.file, rec);
  written += Buffer.byteLength(rec);
}

const M = 'repomirrorworker stdout | 2026-11-30 ';
const mirror = (time: string, level: string, logger: string, msg: string) => `${M}${time} [88] [${level}] [${logger}] ${msg}`;
const job = (time: string, upstream: string, tag: string, local: string) =>
  mirror(time, 'DEBUG', 'util.repomirror.skopeomirror', `Creating mirroring job: upstream image docker://${upstream}:${tag}, local repository docker://quay.example.com/${local}:${tag}`);
const result = (time: string, upstream: string, tag: string, ok: boolean) =>
  mirror(time, 'INFO', 'workers.repomirrorworker', `Source 'docker://${upstream}:${tag}' ${ok ? 'successful sync' : 'failed to sync'}.`);
const runEnd = (time: string) =>
  mirror(time, 'INFO', 'apscheduler.executors.default', 'Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-30 09:01:00 UTC)" executed successfully');
const G = 'gcworker stdout | ';
const gcRaised = (time: string) =>
  `${G}2026-11-30 ${time} [63] [ERROR] [apscheduler.executors.default] Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2026-11-30 09:01:00 UTC)" raised an exception`;
const REDIS = 'docker.io/library/redis';
const NODE = 'quay.io/prometheus/node-exporter';
const ALPINE = 'docker.io/library/alpine';
const NGINX = 'docker.io/library/nginx';

describe('DaemonSet example: the manifests', () => {
  const ds = docs('daemonset.yaml')[0]!;
  const spec = ds['spec']['template']['spec'];
  const c = spec['containers'][0];

  it('the kustomization lists every manifest of the directory', () => {
    const k = docs('kustomization.yaml')[0]!;
    const here = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...k['resources']].sort()).toEqual(here.sort());
  });

  it('log directories are read-only hostPaths at the same paths as on the node; offsets on the node', () => {
    const mounts = Object.fromEntries(c['volumeMounts'].map((m: Doc) => [m['name'], m]));
    const volumes = Object.fromEntries(spec['volumes'].map((v: Doc) => [v['name'], v]));
    for (const name of ['containers', 'pods']) {
      expect(mounts[name]['readOnly']).toBe(true);
      expect(volumes[name]['hostPath']).toEqual({ path: mounts[name]['mountPath'], type: 'Directory' });
    }
    expect(mounts['containers']['mountPath']).toBe('/var/log/containers');
    expect(mounts['pods']['mountPath']).toBe('/var/log/pods'); // where the kubelet's symlinks point
    expect(volumes['state']['hostPath']).toEqual({ path: '/var/lib/quay-log-exporter', type: 'DirectoryOrCreate' });
    expect(volumes['config']['configMap']['name']).toBe(docs('configmap.yaml')[0]!['metadata']['name']);
  });

  it('probes /readyz and /healthz, the benchmark-sized resources, a headless Service on the metrics port', () => {
    expect(c['readinessProbe']).toMatchObject({ httpGet: { path: '/readyz', port: 'metrics' } });
    expect(c['livenessProbe']).toMatchObject({ httpGet: { path: '/healthz', port: 'metrics' } });
    // bench/README.md: ~96 MB at 10,000 series, ~190 MiB with every metric at its cap
    expect(c['resources']).toEqual({ requests: { cpu: '50m', memory: '160Mi' }, limits: { cpu: '500m', memory: '384Mi' } });
    // V8's young generation at 2 MB semi-spaces, as the sidecar Deployment (bench/README.md, issue 16)
    expect(c['env'].find((e: Doc) => e['name'] === 'NODE_OPTIONS')).toEqual({ name: 'NODE_OPTIONS', value: '--max-semi-space-size=2' });
    const svc = docs('service.yaml')[0]!;
    expect(svc['spec']['clusterIP']).toBe('None');
    expect(ds['spec']['template']['metadata']['labels']).toMatchObject(svc['spec']['selector']);
    expect(ds['spec']['selector']['matchLabels']).toEqual(svc['spec']['selector']);
  });

  it('its config passes the config loader: cri framing, supervisord, tracebacks, every ${VAR} set by the env', () => {
    const text = docs('configmap.yaml')[0]!['data']['config.yaml'] as string;
    const config = parseConfig(parseAllDocuments(text)[0]!.toJS(), 'configmap', { NODE_NAME: 'node-1' }, '/');
    expect(config.inputs[0]).toMatchObject({ framing: 'cri', source: 'supervisord', start_at: 'saved-or-beginning', forget_after: 3_600_000 });
    expect(config.outputs.influxdb!.tags).toEqual({ host: 'node-1' }); // no global `pod`: events carry their own
    const vars = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    for (const v of vars) expect(c['env'].map((e: Doc) => e['name'])).toContain(v);
  });
});

/**
 * The example's config pointed at the temp tree: no outputs, a temp state dir and a free loopback port
 * (startDaemon) instead of the example's :9464; only timings shortened (polls, rescans, and `input`).
 */
function exampleConfig(input: Doc): { config: Doc; input: Doc } {
  const cm = docs('configmap.yaml')[0]!;
  const config = parseAllDocuments(cm['data']['config.yaml'])[0]!.toJS() as Doc;
  delete config['outputs'];
  delete config['state_dir'];
  delete config['prometheus'];
  const first = config['inputs'][0];
  first['paths'] = first['paths'].map((p: string) => p.replace('/var/log/', `${root}/var/log/`));
  Object.assign(first, { poll_interval: '50ms', rescan_interval: '200ms' }, input);
  return { config, input: first };
}

describe('DaemonSet example on a node-like directory (real CLI)', () => {
  it('two pods with the same pids, a rotation, a pod added, pods removed: exact totals, no growth of state', async () => {
    // The example's config, pointed at the temp tree; only timings are shortened for the test
    // (polls, rescans, and forget_after 1h → 1s so that forgetting happens within the run).
    const { config, input } = exampleConfig({ forget_after: '1s' });
    expect(input).toMatchObject({ framing: 'cri', source: 'supervisord', start_at: 'saved-or-beginning', multiline: { preset: 'python-traceback' } });

    // Logs written before the exporter starts are read whole (saved-or-beginning): 1 line each.
    const before = mirror('08:59:00,000', 'INFO', 'apscheduler.executors.default', 'Running job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-30 08:59:30 UTC)" (scheduled at 2026-11-30 08:59:00.000000+00:00)');
    const a = addPod('quay-app-a', [before]);
    const b = addPod('quay-app-b', [before]);
    daemon = await startDaemon(config, mkdtempSync(join(root, 'exporter-')));
    const d = daemon;
    const bytes = async () => value(await d.samples(), 'quay_log_exporter_input_bytes_total', { input: 'quay-pods' }) ?? -1;
    await waitFor('both pods followed', async () => value(await d.samples(), 'quay_log_exporter_files_watched') === 2);
    written = cri(before).length * 2; // ASCII: bytes = characters
    await waitFor('the logs written before start read', async () => (await bytes()) === written);

    // Interleaved as the two pods log them; each record is read before the next is written.
    const steps: [Pod, string][] = [
      [a, job('09:00:00,000', REDIS, '7.2', 'mirrors/redis')],
      [b, job('09:00:01,000', NODE, 'v1.7.0', 'mirrors/node-exporter')],
      [a, result('09:00:05,000', REDIS, '7.2', true)],
      [b, mirror('09:00:06,000', 'DEBUG', 'util.repomirror.skopeomirror', `Skopeo command failed (exit code 1): time="2026-11-30T09:00:06Z" level=fatal msg="initializing source docker://${NODE}:v1.7.0: reading manifest v1.7.0 in ${NODE}: toomanyrequests: too many requests"`)],
      [b, result('09:00:06,001', NODE, 'v1.7.0', false)],
      [a, job('09:00:07,000', REDIS, '7.4', 'mirrors/redis')],
      [b, gcRaised('09:00:08,000')],
      [a, gcRaised('09:00:08,500')],
      [b, `${G}Traceback (most recent call last):`],
      [a, `${G}Traceback (most recent call last):`],
      [b, `${G}  File "/quay-registry/workers/gc/gcworker.py", line 60, in _garbage_collection_repos`],
      [a, `${G}  File "/quay-registry/workers/gc/gcworker.py", line 60, in _garbage_collection_repos`],
      [b, `${G}peewee.OperationalError: (2006, 'MySQL server has gone away')`],
      [a, `${G}peewee.OperationalError: (2013, 'Lost connection to MySQL server during query')`],
    ];
    for (const [pod, text] of steps) {
      write(pod, text);
      await waitFor(`${written} bytes read`, async () => (await bytes()) === written);
    }
    // The kubelet rotates pod A's log in the middle of its redis attempt: the attempt goes on.
    renameSync(a.file, `${a.file}.20261130-090009`);
    writeFileSync(a.file, '');
    const rest: [Pod, string][] = [
      [a, result('09:00:10,000', REDIS, '7.4', true)],
      [b, job('09:00:11,000', ALPINE, '3.19', 'team/alpine')],
      [a, runEnd('09:00:12,000')],
      [b, result('09:00:15,000', ALPINE, '3.19', true)],
      [b, runEnd('09:00:16,000')],
      // Pod B's worker starts one more job and never finishes it: B is deleted.
      [b, job('09:00:20,000', 'docker.io/library/busybox', '1.36', 'team/busybox')],
    ];
    for (const [pod, text] of rest) {
      write(pod, text);
      await waitFor(`${written} bytes read`, async () => (await bytes()) === written);
    }

    // Pod C starts while we run: its whole log is read.
    const c = addPod('quay-app-c', [job('09:00:30,000', NGINX, '1.25', 'mirrors/nginx'), result('09:00:31,000', NGINX, '1.25', true), runEnd('09:00:32,000')]);
    removePod(b);
    // Five short-lived pods, one line each, come and go.
    for (let i = 0; i < 5; i++) {
      const p = addPod(`quay-app-tmp${i}`, ['securityworker stdout | 2026-11-30 09:00:40,000 [9] [INFO] [x] hello']);
      await waitFor(`pod tmp${i} read`, async () => sum(await d.samples(), 'quay_log_exporter_lines_total', { source: 'other', result: 'ignored' }) === i + 1);
      removePod(p);
    }
    // B and the five are gone (after the 5 s rotate wait), A's rotated piece released: A and C remain.
    const gone = await waitFor(
      'pods gone',
      async () => {
        const s = await d.samples();
        return value(s, 'quay_log_exporter_files_watched') === 2 && value(s, 'quay_log_repository_mirror_sync_attempts_total', { namespace: 'team', repository: 'busybox', result: 'failed' }) === 1 ? s : false;
      },
      30_000,
    );
    const state = join(d.dir, 'state', 'offsets-quay-pods.json');
    const paths = () => (JSON.parse(readFileSync(state, 'utf8')) as { files: { path: string }[] }).files.map((f) => f.path).sort();
    // Offsets of the files gone are forgotten (forget_after): A's current file and C's only.
    await waitFor('state holds 2 files', () => paths().length === 2, 15_000);
    expect(paths()).toEqual([a.link, c.link].sort());

    const s: Sample[] = gone;
    const attempts = (ns: string, repo: string, r: string) => value(s, 'quay_log_repository_mirror_sync_attempts_total', { namespace: ns, repository: repo, result: r }) ?? 0;
    // By hand: redis (pod A, both tags across the rotation) 1 success, no failure; node-exporter
    // (pod B) 1 failed; alpine (B) 1 success; nginx (C) 1 success; busybox (B, gone mid-job) 1 failed.
    expect(attempts('mirrors', 'redis', 'success')).toBe(1);
    expect(attempts('mirrors', 'redis', 'failed')).toBe(0);
    expect(value(s, 'quay_log_repository_mirror_tag_syncs_total', { namespace: 'mirrors', repository: 'redis', result: 'success' })).toBe(2);
    expect(attempts('mirrors', 'node-exporter', 'failed')).toBe(1);
    expect(attempts('team', 'alpine', 'success')).toBe(1);
    expect(attempts('mirrors', 'nginx', 'success')).toBe(1);
    expect(attempts('team', 'busybox', 'failed')).toBe(1);
    expect(sum(s, 'quay_log_repository_mirror_sync_attempts_total')).toBe(5);
    // Failures: node-exporter's rate limit and busybox's unfinished job; nothing on unknown.
    expect(value(s, 'quay_log_repository_mirror_sync_failures_total', { namespace: 'mirrors', reason: 'rate_limited' })).toBe(1);
    expect(value(s, 'quay_log_repository_mirror_sync_failures_total', { namespace: 'team', reason: 'unknown_error' })).toBe(1);
    expect(sum(s, 'quay_log_repository_mirror_sync_failures_total')).toBe(2);
    expect(s.filter((x) => x.labels['namespace'] === 'unknown')).toEqual([]);
    // Two tracebacks of two pods, interleaved line by line: each joined to its own pod's error.
    expect(value(s, 'quay_log_gc_job_runs_total', { job: 'GarbageCollectionWorker._garbage_collection_repos', result: 'error' })).toBe(2);
    // Mirror lines: A 1 before start + 5 (job, tag, job, tag, end); B 1 + 7 (job, skopeo, failed,
    // job alpine, alpine ok, end, job busybox); C 3 → 6 + 8 + 3 = 17.
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'repomirrorworker', result: 'matched' })).toBe(17);
    // GC: 2 joined events (4 records each), nothing unmatched.
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'gcworker', result: 'matched' })).toBe(2);
    expect(sum(s, 'quay_log_exporter_lines_total', { result: 'unmatched' })).toBe(0);
    expect(value(s, 'quay_log_exporter_lines_total', { source: 'other', result: 'ignored' })).toBe(5);
    // Lag series only for the files still followed (gauges of things gone are dropped).
    expect(s.filter((x) => x.name === 'quay_log_exporter_input_lag_bytes').map((x) => x.labels['path']).sort()).toEqual([a.link, c.link].sort());

    // /mirror/health lists the pods still there.
    const health = JSON.parse((await d.get('/mirror/health')).body) as { pods: { pod: string; namespace: string }[] };
    expect(health.pods.map((p) => `${p.namespace}/${p.pod}`)).toEqual(['quay/quay-app-a', 'quay/quay-app-c']);

    expect(await d.stop('SIGTERM')).toBe(0);
    expect(paths()).toEqual([a.link, c.link].sort());
    expect(readdirSync(join(d.dir, 'state')).sort()).toEqual(['mirror-status.json', 'offsets-quay-pods.json']);
  }, 90_000);

  it('limits.pod_label (opt-in): lines and GC series per pod; mirror attempts stay per repository; off by default', async () => {
    const dir = mkdtempSync(join(root, 'replay-'));
    const T = 'gcworker stdout | 2026-11-30 09:00:00,000 [63] [DEBUG] [data.model.gc] Deleting tag ';
    const files = ['quay-app-a', 'quay-app-b'].map((pod, i) => {
      const f = join(dir, `${pod}_quay_quay-app-${'c'.repeat(63)}${i}.log`);
      // Pod A deletes 2 tags, pod B 1; each also syncs one tag of redis.
      const lines = [...(i === 0 ? [`${T}1 under repository 42`, `${T}2 under repository 42`] : [`${T}3 under repository 42`]), result('09:00:01,000', REDIS, `7.${i}`, true)];
      writeFileSync(f, lines.map(cri).join(''));
      return f;
    });
    const replay = async (limits: Record<string, unknown>) => {
      const cfg = join(dir, `config-${Object.keys(limits).length}.yaml`);
      writeFileSync(cfg, JSON.stringify({ state_dir: join(dir, 'state'), limits, inputs: [{ paths: ['/unused'], framing: 'cri', source: 'supervisord' }] }));
      const r = await runCli(['replay', '--config', cfg, ...files]);
      expect(r.code, r.stderr).toBe(0);
      return parseExposition(r.stdout);
    };
    const on = await replay({ pod_label: true });
    expect(value(on, 'quay_log_gc_table_rows_deleted_total', { table: 'Tag', pod: 'quay-app-a' })).toBe(2);
    expect(value(on, 'quay_log_gc_table_rows_deleted_total', { table: 'Tag', pod: 'quay-app-b' })).toBe(1);
    expect(value(on, 'quay_log_exporter_lines_total', { source: 'gcworker', result: 'matched', pod: 'quay-app-a' })).toBe(2);
    expect(value(on, 'quay_log_exporter_lines_total', { source: 'repomirrorworker', result: 'matched', pod: 'quay-app-b' })).toBe(1);
    // One repository, two pods: its tag syncs are one series without a pod (2 tags).
    expect(value(on, 'quay_log_repository_mirror_tag_syncs_total', { namespace: 'unknown', repository: 'unknown', result: 'success' })).toBe(2);
    const off = await replay({});
    expect(value(off, 'quay_log_gc_table_rows_deleted_total', { table: 'Tag' })).toBe(3);
    expect(off.filter((x) => 'pod' in x.labels)).toEqual([]);
    // A name that cannot have a pod label is refused, naming the key (exit 2).
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, JSON.stringify({ limits: { pod_label: ['quay_log_repository_mirror_sync_attempts_total'] } }));
    const r = await runCli(['check-config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('limits.pod_label');
  });

  it('series_ttl: a gone pod\'s repository series leave the scrape after the ttl; recorded again, they come back without a reset', async () => {
    const { config } = exampleConfig({});
    // Long enough that a scrape on a busy machine still sees the first value before it expires.
    config['limits'] = { series_ttl: '3s' };
    for (const f of readdirSync(containers)) unlinkSync(join(containers, f));
    const x = addPod('quay-app-x');
    const d = await startDaemon(config, mkdtempSync(join(root, 'exporter-')));
    try {
      const synced = async () => value(await d.samples(), 'quay_log_repository_mirror_tag_syncs_total', { namespace: 'mirrors', repository: 'redis', result: 'success' });
      await waitFor('pod x followed', async () => value(await d.samples(), 'quay_log_exporter_files_watched') === 1);
      write(x, job('10:00:00,000', REDIS, '7.2', 'mirrors/redis'));
      write(x, result('10:00:01,000', REDIS, '7.2', true));
      await waitFor('1 tag synced', async () => (await synced()) === 1);
      // Unchanged for 3 s: no longer exported; the fixed-label series stay.
      await waitFor('redis series expired', async () => (await synced()) === undefined, 15_000);
      expect(value(await d.samples(), 'quay_log_exporter_files_watched')).toBe(1);
      // The next tag of the same repository: 1 + 1 = 2, not a new series starting at 1.
      write(x, result('10:00:05,000', REDIS, '7.4', true));
      await waitFor('2 tags synced', async () => (await synced()) === 2);
    } finally {
      expect(await d.stop('SIGTERM')).toBe(0);
    }
  }, 60_000);
});

/**
 * Deterministic Quay-shaped corpus generator for the benchmark.
 *
 * One supervisord stream (`<program> stdout | …`) mixing ~60% nginx, 25%
 * gunicorn, 10% repomirrorworker and 5% gcworker lines, with failures,
 * redirects, slow transfers and multi-segment repository names. While it
 * writes, it keeps the TRUE counts of everything it wrote, so a replay can be
 * checked exactly: a fast wrong answer must fail the bench.
 *
 * Same seed + same options = byte-identical file and identical counts.
 *
 * CLI: node bench/corpus.mjs --lines 1000000 --seed 42 --out FILE [--truth FILE.json] [--repos 120]
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { SLOW, mirrorStory, gcStory } from './corpus-workers.mjs';

export { SLOW };

/** Small, fast, seedable PRNG (xorshift-multiply); Math.random is not seedable. */
export function rng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['acme', 'platform', 'ml', 'infra', 'qa', 'library', 'payments', 'edge', 'data', 'security', 'mobile', 'ops'];
const APPS = ['api', 'web', 'worker', 'db-migrate', 'frontend', 'backend', 'gateway', 'scheduler', 'ingest', 'cache', 'auth', 'search'];
const TEAMS = ['team-a', 'core', 'sre', 'research', 'build'];

/**
 * The repository universe: `count` repositories; about a third have a
 * multi-segment name (`org/team/app` → namespace `org`, repository `team/app`).
 * Large counts (the daemon test) use synthetic names.
 */
export function repositories(count, rand) {
  const out = [];
  const seen = new Set();
  if (count > 400) {
    for (let i = 0; i < count; i++) {
      const ns = `ns${i % 50}`;
      const repo = i % 3 === 0 ? `team${i % 7}/app${i}` : `app${i}`;
      out.push({ ns, repo });
    }
    return out;
  }
  while (out.length < count) {
    const ns = NAMESPACES[Math.floor(rand() * NAMESPACES.length)];
    const app = APPS[Math.floor(rand() * APPS.length)];
    const repo = rand() < 0.35 ? `${TEAMS[Math.floor(rand() * TEAMS.length)]}/${app}` : app;
    const key = `${ns}/${repo}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ns, repo });
  }
  return out;
}

/**
 * Request kinds the generator writes. The label value each one takes in
 * quay_registry_requests_total{operation} is the exporter's contract
 * (src/quay/registry-route.ts); `null` means the exporter does not count it.
 */
export const OPERATION_LABEL = {
  base: 'ping',
  catalog: 'catalog',
  manifest_get: 'pull_manifest',
  manifest_head: 'pull_manifest',
  manifest_put: 'push_manifest',
  manifest_delete: 'delete_manifest',
  blob_get: 'pull_blob',
  blob_head: 'pull_blob',
  upload_start: 'push_blob_start',
  upload_chunk: 'push_blob_chunk',
  upload_complete: 'push_blob_commit',
  tags_list: 'list_tags',
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n) => (n < 10 ? '0' + n : '' + n);

/** Counts keyed by metric, then by label values joined with \u0001 (catalogue order). */
class Truth {
  constructor() {
    this.metrics = Object.create(null);
  }
  add(metric, labels, n = 1) {
    const m = (this.metrics[metric] ??= Object.create(null));
    const key = labels.join('\u0001');
    m[key] = (m[key] ?? 0) + n;
  }
}

/** Log time advances 5 ms a line (200 lines/s): a busy pod, and worker stories stay well inside mirror.idle_gap. */
const LINE_MS = 5;
const START_MS = Date.UTC(2026, 10, 22, 0, 0, 0);

export function generateCorpus({ seed = 42, lines = 1_000_000, out, truthOut, repos: repoCount = 120 }) {
  const rand = rng(seed);
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];
  const repos = repositories(repoCount, rng(seed ^ 0x5bd1e995));
  // Skewed popularity: a few repositories get most of the traffic, as in life.
  const pickRepo = () => repos[Math.floor(rand() * rand() * repos.length)];
  const truth = new Truth();
  const T = (metric, labels, n) => truth.add(metric, labels, n);

  const digests = Array.from({ length: 256 }, () => {
    let h = '';
    for (let i = 0; i < 8; i++) h += Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
    return 'sha256:' + h;
  });
  const uuids = Array.from({ length: 128 }, () => {
    const h = Array.from({ length: 4 }, () => Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
  const ips = Array.from({ length: 64 }, () => `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${1 + Math.floor(rand() * 254)}`);
  const agents = [
    'docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.14.0 os/linux arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))',
    'containers/5.29.1 (github.com/containers/image)',
    'skopeo/1.14.2',
    'cri-o/1.28.2 go/go1.20.10 os/linux arch/amd64',
    'Go-http-client/1.1',
  ];
  const browsers = ['Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'curl/8.4.0'];
  const tags = ['latest', 'v1.2.3', '2026.11.1', 'main', 'stable', 'v2'];

  // Timestamps: format strings only when the second changes.
  let tsSec = -1;
  let nginxTs = '';
  let pyTs = '';
  const stamp = (i) => {
    const ms = START_MS + i * LINE_MS;
    const sec = Math.floor(ms / 1000);
    if (sec !== tsSec) {
      tsSec = sec;
      const d = new Date(sec * 1000);
      const hh = p2(d.getUTCHours()), mm = p2(d.getUTCMinutes()), ss = p2(d.getUTCSeconds());
      nginxTs = `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${hh}:${mm}:${ss} +0000`;
      pyTs = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${hh}:${mm}:${ss}`;
    }
    return ms;
  };
  const pyTime = (ms) => `${pyTs},${String(ms % 1000).padStart(3, '0')}`;

  const fd = out ? openSync(out, 'w') : -1;
  let buf = '';
  let bytes = 0;
  const collected = fd < 0 ? [] : null;
  const emit = (line) => {
    if (collected) collected.push(line);
    else {
      buf += line + '\n';
      if (buf.length > 1 << 20) flush();
    }
  };
  const flush = () => {
    if (fd >= 0 && buf.length > 0) {
      bytes += writeSync(fd, buf);
      buf = '';
    }
  };

  // ---- nginx ----
  const component = (path) => (path.startsWith('/v2/') || path === '/v2' ? 'registry' : path.startsWith('/api/') ? 'api' : 'web');
  const rt = (s) => s.toFixed(3);

  /** One nginx access line; records every metric it implies. */
  function nginxLine(ms) {
    const ip = pick(ips);
    // nginx logs an empty variable as "-" (no PROXY protocol in front).
    const ppa = rand() < 0.8 ? '-' : pick(ips);
    let method = 'GET', path, status, bytesSent = 0, reqLen = 300 + Math.floor(rand() * 900), time = 0.001 + rand() * 0.05;
    let ua = pick(agents), upstream = true;
    let kind = null, r = null;
    const x = rand();
    if (x < 0.05) {
      // web UI and static files
      const y = rand();
      if (y < 0.5) { path = `/static/js/main.${(seed % 997).toString(16)}.js`; bytesSent = 180_000 + Math.floor(rand() * 1000); upstream = false; status = rand() < 0.9 ? 200 : 304; }
      else if (y < 0.8) { r = pickRepo(); path = `/repository/${r.ns}/${r.repo}`; status = 200; bytesSent = 5200 + Math.floor(rand() * 400); }
      else { path = '/'; status = rand() < 0.97 ? 200 : 502; bytesSent = status === 200 ? 4100 : 157; }
      ua = pick(browsers);
      r = null;
    } else if (x < 0.10) {
      // API
      r = pickRepo();
      const y = rand();
      if (y < 0.6) { path = `/api/v1/repository/${r.ns}/${r.repo}?includeStats=true`; status = rand() < 0.93 ? 200 : 403; bytesSent = status === 200 ? 2400 : 90; }
      else if (y < 0.9) { path = `/api/v1/repository/${r.ns}/${r.repo}/tag/?limit=50&page=1&onlyActiveTags=true`; status = 200; bytesSent = 8000; }
      else { method = 'POST'; path = `/api/v1/repository/${r.ns}/${r.repo}/permissions/user/robot`; status = rand() < 0.7 ? 500 : 400; bytesSent = 120; time = 0.2 + rand(); }
      ua = pick(browsers);
      r = null;
    } else {
      const y = rand();
      r = pickRepo();
      const name = `${r.ns}/${r.repo}`;
      if (y < 0.04) {
        kind = 'base'; path = '/v2/'; status = rand() < 0.7 ? 401 : 200; bytesSent = 4; r = null;
      } else if (y < 0.05) {
        kind = 'catalog'; path = '/v2/_catalog?n=100'; status = 200; bytesSent = 900; r = null;
      } else if (y < 0.38) {
        const head = rand() < 0.3;
        kind = head ? 'manifest_head' : 'manifest_get';
        method = head ? 'HEAD' : 'GET';
        path = `/v2/${name}/manifests/${rand() < 0.6 ? pick(tags) : pick(digests)}`;
        const z = rand();
        status = z < 0.85 ? 200 : z < 0.93 ? 404 : z < 0.98 ? 401 : 500;
        bytesSent = head || status !== 200 ? 0 : 1500 + Math.floor(rand() * 4000);
        if (status === 404 || status === 401) bytesSent = head ? 0 : 110;
      } else if (y < 0.75) {
        const head = rand() < 0.15;
        path = `/v2/${name}/blobs/${pick(digests)}`;
        if (head) {
          kind = 'blob_head'; method = 'HEAD'; status = rand() < 0.8 ? 200 : 404; bytesSent = 0;
        } else {
          kind = 'blob_get';
          const z = rand();
          status = z < 0.5 ? 200 : z < 0.85 ? 302 : z < 0.88 ? 307 : z < 0.92 ? 206 : z < 0.97 ? 404 : 401;
          if (status === 200 || status === 206) {
            // Sizes and times kept well clear of the slow-transfer thresholds.
            const w = rand();
            if (w < 0.5) { bytesSent = 1000 + Math.floor(rand() * 500_000); time = 0.002 + rand() * 0.2; }
            else if (w < 0.9) { bytesSent = 2 * SLOW.minBytes + Math.floor(rand() * 60_000_000); time = bytesSent / (8 * SLOW.maxBps + rand() * 100 * SLOW.maxBps); }
            else { bytesSent = 2 * SLOW.minBytes + Math.floor(rand() * 30_000_000); time = bytesSent / (SLOW.maxBps * (0.1 + rand() * 0.4)); }
            time = Math.max(time, 0.001);
          } else if (status === 302 || status === 307) { bytesSent = 0; time = 0.005 + rand() * 0.03; }
          else bytesSent = 150;
        }
      } else if (y < 0.80) {
        kind = 'upload_start'; method = 'POST'; path = `/v2/${name}/blobs/uploads/`; status = rand() < 0.95 ? 202 : 401; bytesSent = 0;
      } else if (y < 0.89) {
        kind = 'upload_chunk'; method = 'PATCH'; path = `/v2/${name}/blobs/uploads/${pick(uuids)}`;
        const z = rand();
        status = z < 0.94 ? 202 : z < 0.97 ? 416 : 500;
        const w = rand();
        if (w < 0.5) { reqLen = 1000 + Math.floor(rand() * 400_000); time = 0.005 + rand() * 0.2; }
        else if (w < 0.9) { reqLen = 2 * SLOW.minBytes + Math.floor(rand() * 80_000_000); time = reqLen / (8 * SLOW.maxBps + rand() * 60 * SLOW.maxBps); }
        else { reqLen = 2 * SLOW.minBytes + Math.floor(rand() * 20_000_000); time = reqLen / (SLOW.maxBps * (0.1 + rand() * 0.4)); }
      } else if (y < 0.94) {
        kind = 'upload_complete'; method = 'PUT'; path = `/v2/${name}/blobs/uploads/${pick(uuids)}?digest=${pick(digests).replace(':', '%3A')}`;
        status = rand() < 0.96 ? 201 : 400; reqLen = 400 + Math.floor(rand() * 200); time = 0.01 + rand() * 0.3;
      } else if (y < 0.975) {
        kind = 'manifest_put'; method = 'PUT'; path = `/v2/${name}/manifests/${pick(tags)}`;
        const z = rand();
        status = z < 0.9 ? 201 : z < 0.96 ? 400 : 401; reqLen = 1800 + Math.floor(rand() * 3000);
      } else if (y < 0.99) {
        kind = 'tags_list'; path = `/v2/${name}/tags/list`; status = rand() < 0.9 ? 200 : 404; bytesSent = 200;
      } else {
        kind = 'manifest_delete'; method = 'DELETE'; path = `/v2/${name}/manifests/${pick(digests)}`; status = rand() < 0.8 ? 202 : 404;
      }
    }
    const timeStr = rt(time);
    const line = `nginx stdout | ${ip} (${ppa}) - - [${nginxTs}] "${method} ${path} HTTP/1.1" ${status} ${bytesSent} "-" "${ua}" (${timeStr} ${reqLen} ${upstream ? rt(time * 0.95) : '-'})`;

    const st = String(status);
    T('quay_http_requests_total', [component(path), method, st]);
    if (kind !== null) {
      const op = OPERATION_LABEL[kind];
      if (op !== null) T('quay_registry_requests_total', [op, r ? r.ns : '', r ? r.repo : '', st]);
      const ok = status >= 200 && status < 300;
      if (kind === 'manifest_get' && ok) T('quay_registry_pulls_total', [r.ns, r.repo]);
      if (kind === 'manifest_put' && ok) T('quay_registry_pushes_total', [r.ns, r.repo]);
      let dir = null, moved = 0;
      if (kind === 'blob_get' && (status === 200 || status === 206)) { dir = 'pull'; moved = bytesSent; }
      if ((kind === 'upload_chunk' || kind === 'upload_complete') && ok) { dir = 'push'; moved = reqLen; }
      if (dir !== null) {
        T('quay_registry_transfer_bytes_total', [dir, r.ns, r.repo], moved);
        // Compare with the time as written (3 decimals): that is all the exporter sees.
        const secs = Number(timeStr);
        if (moved >= SLOW.minBytes && secs > 0 && moved / secs < SLOW.maxBps) T('quay_registry_slow_transfers_total', [dir, r.ns, r.repo]);
      }
      if (kind === 'blob_get' && (status === 302 || status === 307)) T('quay_registry_blob_redirects_total', [r.ns, r.repo]);
    }
    return line;
  }

  // ---- gunicorn: access lines (traffic is counted from nginx) and some app chatter ----
  const gunicornPrograms = ['gunicorn-registry', 'gunicorn-registry', 'gunicorn-web', 'gunicorn-secscan'];
  function gunicornLine(ms) {
    const prog = pick(gunicornPrograms);
    const pid = 100 + Math.floor(rand() * 40);
    if (rand() < 0.9) {
      const r = pickRepo();
      const z = rand();
      const [method, path, status, size] =
        prog === 'gunicorn-registry'
          ? z < 0.5
            ? ['GET', `/v2/${r.ns}/${r.repo}/manifests/${pick(tags)}`, z < 0.45 ? 200 : 404, 1500]
            : z < 0.9
              ? ['GET', `/v2/${r.ns}/${r.repo}/blobs/${pick(digests)}`, 302, 0]
              : ['GET', '/v2/', 401, 4]
          : ['GET', `/api/v1/repository/${r.ns}/${r.repo}`, z < 0.95 ? 200 : 500, 2400];
      return `${prog} stdout | ${pyTime(ms)} [${pid}] [INFO] [gunicorn.access] ${pick(ips)} - - [${nginxTs}] "${method} ${path} HTTP/1.0" ${status} ${size} "-" "${pick(agents)}"`;
    }
    const msgs = [
      '[DEBUG] [data.database] Disconnecting from database.',
      '[INFO] [util.metrics.prometheus] pushed registry to pushgateway at http://localhost:9091 with grouping key {}',
      '[WARNING] [endpoints.v2.blob] Blob upload exceeds configured chunk size; retrying',
      '[ERROR] [app] Exception on /api/v1/superuser/logs [GET]',
    ];
    return `${prog} stdout | ${pyTime(ms)} [${pid}] ${pick(msgs)}`;
  }

  // ---- workers: stories (a sync attempt, a GC run) handed out one line at a time ----
  const ctx = { rand, pick, pickRepo, repos, tags, digests, T, pyTime };
  // (stories read the current timestamp through pyTime at the moment each line is written)
  let mirrorQueue = [];
  let gcQueue = [];
  const next = (queue, story, ms) => {
    if (queue.length === 0) queue.push(...story(ctx));
    const item = queue.shift();
    item.record?.();
    return item.line(ms);
  };

  const bySource = { nginx: 0, gunicorn: 0, repomirrorworker: 0, gcworker: 0 };
  for (let i = 0; i < lines; i++) {
    const ms = stamp(i);
    const x = rand();
    let line;
    if (x < 0.6) { line = nginxLine(ms); bySource.nginx++; }
    else if (x < 0.85) { line = gunicornLine(ms); bySource.gunicorn++; }
    else if (x < 0.95) { line = next(mirrorQueue, mirrorStory, ms); bySource.repomirrorworker++; }
    else { line = next(gcQueue, gcStory, ms); bySource.gcworker++; }
    emit(line);
  }
  // Finish the stories still open, so every sync attempt and GC run in the corpus is complete.
  let written = lines;
  for (const [queue, source] of [[mirrorQueue, 'repomirrorworker'], [gcQueue, 'gcworker']]) {
    while (queue.length > 0) {
      const item = queue.shift();
      item.record?.();
      emit(item.line(stamp(lines - 1)));
      bySource[source]++;
      written++;
    }
  }
  flush();
  if (fd >= 0) closeSync(fd);

  const result = { seed, lines: written, requestedLines: lines, repos: repoCount, bytes, linesBySource: bySource, metrics: truth.metrics, corpus: collected ?? undefined };
  if (truthOut) writeFileSync(truthOut, JSON.stringify({ ...result, corpus: undefined }, null, 1));
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, dflt) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : dflt;
  };
  const out = arg('out');
  if (!out) {
    console.error('usage: node bench/corpus.mjs --out FILE [--lines N] [--seed S] [--repos R] [--truth FILE.json]');
    process.exit(2);
  }
  const t0 = performance.now();
  const res = generateCorpus({ out, seed: Number(arg('seed', 42)), lines: Number(arg('lines', 1_000_000)), repos: Number(arg('repos', 120)), truthOut: arg('truth') });
  const secs = (performance.now() - t0) / 1000;
  console.error(`wrote ${res.lines} lines (${(res.bytes / 1e6).toFixed(1)} MB) to ${out} in ${secs.toFixed(1)} s; by source ${JSON.stringify(res.linesBySource)}`);
  if (!arg('truth')) console.log(JSON.stringify({ ...res, corpus: undefined }, null, 1));
}

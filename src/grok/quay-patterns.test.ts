import { describe, expect, it } from 'vitest';
import { PatternLibrary, type GrokMatch } from './index.js';

const lib = PatternLibrary.bundled();
// The way the pipeline uses them: sticky, the prefix first, then the message
// pattern from where the prefix ended.
const prefix = lib.compile('%{QUAY_SUPERVISOR_PREFIX}', { mode: 'sticky' });
const nginx = lib.compile('%{QUAY_NGINX_ACCESS}', { mode: 'sticky', anchorEnd: true });
const python = lib.compile('%{QUAY_PYTHON_LOG}', { mode: 'sticky', anchorEnd: true });
const gunicorn = lib.compile('%{QUAY_GUNICORN_ACCESS}', { mode: 'sticky', anchorEnd: true });

/** Splits a supervisord line: the prefix fields, and the offset where the message starts. */
function split(line: string): { program: string; stream: string; offset: number } {
  prefix.regex.lastIndex = 0;
  const m = prefix.regex.exec(line);
  if (!m) throw new Error(`no supervisord prefix: ${line}`);
  return { program: m[prefix.group('program')]!, stream: m[prefix.group('stream')]!, offset: m[0].length };
}

function nginxFields(line: string): GrokMatch['fields'] | undefined {
  return nginx.match(line)?.fields;
}

const TS = '[22/Nov/2026:10:15:32 +0000]';

describe('QUAY_SUPERVISOR_PREFIX', () => {
  it('reads program and stream', () => {
    expect(prefix.match('gunicorn-registry stdout | x')).toEqual({
      fields: { program: 'gunicorn-registry', stream: 'stdout' },
      tags: {},
    });
    expect(prefix.match('repomirrorworker stderr | Traceback')!.fields).toEqual({ program: 'repomirrorworker', stream: 'stderr' });
    expect(prefix.match('nginx stdin | x')).toBeNull();
    expect(prefix.match('nginx stdout |x')).toBeNull();
    // "gunicorn-registry stdout | " is 27 characters
    expect(split('gunicorn-registry stdout | x').offset).toBe(27);
  });
});

describe('the four sample lines', () => {
  it('gunicorn.access through QUAY_PYTHON_LOG then QUAY_GUNICORN_ACCESS', () => {
    const line =
      'gunicorn-web stdout | 2022-11-14 19:23:44,574 [233] [INFO] [gunicorn.access] 192.168.0.38 - - [14/Nov/2022:19:23:44 +0000] "DELETE /api/v1/repository/quayadmin/busybox/tag/test HTTP/1.0" 204 0 "http://quay-server.example.com/repository/quayadmin/busybox?tab=tags" "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0"';
    const s = split(line);
    // "gunicorn-web" 12 + " " 1 + "stdout" 6 + " | " 3 = 22
    expect(s).toEqual({ program: 'gunicorn-web', stream: 'stdout', offset: 22 });
    const py = python.match(line, s.offset)!;
    const message =
      '192.168.0.38 - - [14/Nov/2022:19:23:44 +0000] "DELETE /api/v1/repository/quayadmin/busybox/tag/test HTTP/1.0" 204 0 "http://quay-server.example.com/repository/quayadmin/busybox?tab=tags" "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0"';
    expect(py.fields).toEqual({
      timestamp: '2022-11-14 19:23:44,574',
      pid: 233,
      level: 'INFO',
      logger: 'gunicorn.access',
      message,
    });
    // the message starts where the python fields end: offset of "192.168…"
    expect(gunicorn.match(line, line.indexOf('192.168.0.38'))!.fields).toEqual({
      client: '192.168.0.38',
      timestamp: '14/Nov/2022:19:23:44 +0000',
      method: 'DELETE',
      request: '/api/v1/repository/quayadmin/busybox/tag/test',
      http_version: '1.0',
      status: 204,
      bytes_sent: 0,
      referrer: 'http://quay-server.example.com/repository/quayadmin/busybox?tab=tags',
      agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0',
    });
    expect(gunicorn.match(message)).not.toBeNull();
  });

  it('gcworker python log line', () => {
    const line =
      'gcworker stdout | 2022-11-14 18:46:52,458 [63] [INFO] [apscheduler.executors.default] Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2022-11-14 18:47:22 UTC)" executed successfully';
    const s = split(line);
    expect(s.program).toBe('gcworker');
    expect(python.match(line, s.offset)!.fields).toEqual({
      timestamp: '2022-11-14 18:46:52,458',
      pid: 63,
      level: 'INFO',
      logger: 'apscheduler.executors.default',
      message:
        'Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2022-11-14 18:47:22 UTC)" executed successfully',
    });
    expect(nginx.match(line, s.offset)).toBeNull();
  });

  it('nginx lb_logs line', () => {
    const line =
      'nginx stdout | 10.128.2.14 (-) - - [22/Nov/2026:10:15:32 +0000] "GET /v2/acme/app/blobs/sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e HTTP/1.1" 200 5242880 "-" "containers/5.30.0 (github.com/containers/image)" (1.532 512 1.530)';
    const s = split(line);
    // "nginx" 5 + " " 1 + "stdout" 6 + " | " 3 = 15
    expect(s).toEqual({ program: 'nginx', stream: 'stdout', offset: 15 });
    expect(nginx.match(line, s.offset)).toEqual({
      fields: {
        client: '10.128.2.14',
        timestamp: '22/Nov/2026:10:15:32 +0000',
        method: 'GET',
        request: '/v2/acme/app/blobs/sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e',
        http_version: '1.1',
        status: 200,
        bytes_sent: 5242880,
        agent: 'containers/5.30.0 (github.com/containers/image)',
        request_time: 1.532,
        request_length: 512,
        upstream_response_time: '1.530',
      },
      tags: {},
    });
    // "-" placeholders (proxy addr, user, referrer) leave their fields out: the pattern has the group,
    // the match has no key for it (toEqual above would also accept a key holding undefined).
    const keys = Object.keys(nginx.match(line, s.offset)!.fields);
    for (const absent of ['proxy_protocol_addr', 'remote_user', 'referrer', 'rawrequest']) {
      expect(nginx.group(absent), absent).toBeGreaterThan(0);
      expect(keys).not.toContain(absent);
    }
    // The 11 fields listed above, no more.
    expect(keys.sort()).toEqual(['agent', 'bytes_sent', 'client', 'http_version', 'method', 'request', 'request_length', 'request_time', 'status', 'timestamp', 'upstream_response_time']);
    expect(python.match(line, s.offset)).toBeNull();
  });

  it('repomirrorworker python log line', () => {
    const line =
      'repomirrorworker stdout | 2026-11-22 10:15:32,123 [88] [DEBUG] [util.repomirror.skopeomirror] Creating mirroring job: upstream image docker://quay.io/prometheus/node-exporter:v1.7.0, local repository docker://quay.example.com/mirrors/node-exporter:v1.7.0';
    const s = split(line);
    expect(s.program).toBe('repomirrorworker');
    expect(python.match(line, s.offset)!.fields).toEqual({
      timestamp: '2026-11-22 10:15:32,123',
      pid: 88,
      level: 'DEBUG',
      logger: 'util.repomirror.skopeomirror',
      message:
        'Creating mirroring job: upstream image docker://quay.io/prometheus/node-exporter:v1.7.0, local repository docker://quay.example.com/mirrors/node-exporter:v1.7.0',
    });
  });
});

describe('QUAY_NGINX_ACCESS variants', () => {
  it('IPv6 client and IPv6 proxy protocol address', () => {
    expect(
      nginxFields(`2001:db8::7 (2001:db8:1::9) - - ${TS} "HEAD /v2/ HTTP/1.1" 401 0 "-" "docker/24.0.7 go/go1.20.10" (0.003 98 0.003)`),
    ).toEqual({
      client: '2001:db8::7',
      proxy_protocol_addr: '2001:db8:1::9',
      timestamp: '22/Nov/2026:10:15:32 +0000',
      method: 'HEAD',
      request: '/v2/',
      http_version: '1.1',
      status: 401,
      bytes_sent: 0,
      agent: 'docker/24.0.7 go/go1.20.10',
      request_time: 0.003,
      request_length: 98,
      upstream_response_time: '0.003',
    });
  });

  it('proxy protocol address, a remote user and a referrer', () => {
    expect(
      nginxFields(
        `10.128.2.14 (203.0.113.9) - quayadmin ${TS} "PUT /v2/acme/app/manifests/v1 HTTP/2.0" 201 0 "https://quay.example.com/repository/acme/app" "skopeo/1.14" (0.250 4096 0.248)`,
      ),
    ).toEqual({
      client: '10.128.2.14',
      proxy_protocol_addr: '203.0.113.9',
      remote_user: 'quayadmin',
      timestamp: '22/Nov/2026:10:15:32 +0000',
      method: 'PUT',
      request: '/v2/acme/app/manifests/v1',
      http_version: '2.0',
      status: 201,
      bytes_sent: 0,
      referrer: 'https://quay.example.com/repository/acme/app',
      agent: 'skopeo/1.14',
      request_time: 0.25,
      request_length: 4096,
      upstream_response_time: '0.248',
    });
  });

  it('"-" upstream time (nginx answered itself)', () => {
    const f = nginxFields(`10.0.0.5 (-) - - ${TS} "GET /health/instance HTTP/1.1" 503 197 "-" "kube-probe/1.28" (0.000 120 -)`)!;
    expect(f.status).toBe(503);
    expect(f.request_time).toBe(0);
    expect(f.request_length).toBe(120);
    expect('upstream_response_time' in f).toBe(false);
  });

  it('several upstream times, comma and colon separated', () => {
    expect(
      nginxFields(`10.0.0.5 (-) - - ${TS} "GET /v2/ HTTP/1.1" 200 2 "-" "curl/8.5.0" (0.045 78 0.010, 0.035)`)!.upstream_response_time,
    ).toBe('0.010, 0.035');
    expect(
      nginxFields(`10.0.0.5 (-) - - ${TS} "GET /v2/ HTTP/1.1" 200 2 "-" "curl/8.5.0" (0.045 78 0.010, - : 0.030)`)!.upstream_response_time,
    ).toBe('0.010, - : 0.030');
  });

  it('escaped quotes in the user agent stay as written', () => {
    const f = nginxFields(
      String.raw`10.0.0.5 (-) - - ${TS} "GET /api/v1/discovery HTTP/1.1" 200 1234 "-" "Mozilla/5.0 \"evil\" \\agent" (0.020 300 0.019)`,
    )!;
    expect(f.agent).toBe(String.raw`Mozilla/5.0 \"evil\" \\agent`);
    expect(f.bytes_sent).toBe(1234);
  });

  it('a malformed request still matches, without method and request', () => {
    const tls = nginxFields(String.raw`198.51.100.7 (-) - - ${TS} "\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03" 400 157 "-" "-" (0.001 0 -)`)!;
    expect(tls).toEqual({
      client: '198.51.100.7',
      timestamp: '22/Nov/2026:10:15:32 +0000',
      rawrequest: String.raw`\x16\x03\x01\x00\xA5\x01\x00\x00\xA1\x03\x03`,
      status: 400,
      bytes_sent: 157,
      request_time: 0.001,
      request_length: 0,
    });
    const dash = nginxFields(`198.51.100.7 (-) - - ${TS} "-" 400 0 "-" "-" (0.000 0 -)`)!;
    expect(dash).toEqual({
      client: '198.51.100.7',
      timestamp: '22/Nov/2026:10:15:32 +0000',
      status: 400,
      bytes_sent: 0,
      request_time: 0,
      request_length: 0,
    });
    const spaced = nginxFields(`198.51.100.7 (-) - - ${TS} "GET /a b c HTTP/1.1" 400 0 "-" "-" (0.000 0 -)`)!;
    expect(spaced.rawrequest).toBe('GET /a b c HTTP/1.1');
    expect(spaced.method).toBeUndefined();
  });

  it('an HTTP/0.9-style request has no version', () => {
    const f = nginxFields(`10.0.0.5 (-) - - ${TS} "GET /" 400 0 "-" "-" (0.000 0 -)`)!;
    expect([f.method, f.request, f.http_version]).toEqual(['GET', '/', undefined]);
  });

  it('does not match other lines, and bad input does not hang', () => {
    expect(nginxFields('2022-11-14 19:23:44,574 [233] [INFO] [gunicorn.access] x')).toBeUndefined();
    expect(nginxFields(`10.0.0.5 (-) - - ${TS} "GET / HTTP/1.1" 200 0 "-" "-"`)).toBeUndefined(); // no timing part
    expect(nginxFields('\u0000\u00ff\ufffd binary \x1b[31m')).toBeUndefined();
    // a huge line with an unterminated quote, in search mode (the slow case for a bad
    // pattern: it is tried at every position); the test timeout catches a quadratic pattern
    const search = lib.compile('%{QUAY_NGINX_ACCESS}');
    expect(search.match(`10.0.0.5 (-) - - ${TS} "GET /${'a'.repeat(200_000)}`)).toBeNull();
    expect(search.match('x'.repeat(200_000))).toBeNull();
  });
});

describe('QUAY_PYTHON_LOG', () => {
  it('allows an empty message, with or without the space', () => {
    // An empty capture makes no field (as in Telegraf and Logstash): message is absent.
    expect(python.match('2026-11-22 10:15:32,123 [1] [WARNING] [data.model] ')!.fields).toEqual({
      timestamp: '2026-11-22 10:15:32,123',
      pid: 1,
      level: 'WARNING',
      logger: 'data.model',
    });
    expect(python.match('2026-11-22 10:15:32,123 [1] [ERROR] [x]')).not.toBeNull();
    expect(python.match('2026-11-22 10:15:32,123 [1] [ERROR] [x]')!.fields.message).toBeUndefined();
  });

  it('keeps brackets in the message', () => {
    expect(python.match('2026-11-22 10:15:32,123 [7] [ERROR] [workers.worker] [x] failed: [Errno 111]')!.fields).toMatchObject({
      logger: 'workers.worker',
      message: '[x] failed: [Errno 111]',
    });
  });

  it('rejects lines of another shape', () => {
    expect(python.match('2026-11-22T10:15:32Z [1] [INFO] [x] y')).toBeNull();
    expect(python.match('2026-11-22 10:15:32,123 [x] [INFO] [x] y')).toBeNull();
  });
});

describe('QUAY_GUNICORN_ACCESS', () => {
  it('keeps a user agent with unescaped quotes whole (gunicorn does not escape them)', () => {
    const f = gunicorn.match('10.0.0.9 - - [22/Nov/2026:10:15:32 +0000] "GET /v2/ HTTP/1.1" 200 2 "-" "Bot "quoted" 1.0"')!.fields;
    expect(f.agent).toBe('Bot "quoted" 1.0');
    expect(f.referrer).toBeUndefined();
    expect(gunicorn.match('10.0.0.9 - - [22/Nov/2026:10:15:32 +0000] "GET /v2/ HTTP/1.1" 200 2 "-" "-"')!.fields.agent).toBeUndefined();
  });

  it('allows "-" bytes and reads ident and auth', () => {
    expect(
      gunicorn.match('10.0.0.9 ident1 robot$ci [22/Nov/2026:10:15:32 +0000] "POST /oauth2/token HTTP/1.1" 302 - "-" "python-requests/2.31"')!
        .fields,
    ).toEqual({
      client: '10.0.0.9',
      ident: 'ident1',
      auth: 'robot$ci',
      timestamp: '22/Nov/2026:10:15:32 +0000',
      method: 'POST',
      request: '/oauth2/token',
      http_version: '1.1',
      status: 302,
      agent: 'python-requests/2.31',
    });
  });
});

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PatternLibrary, bundledPatternFiles } from './index.js';

const lib = PatternLibrary.bundled();

/** The whole text must be one NAME (sticky at 0, anchored at the end). */
function whole(name: string, text: string): boolean {
  return lib.compile(`%{${name}}`, { mode: 'sticky', anchorEnd: true }).match(text) !== null;
}

/** What NAME captures when searched for in text. */
function found(name: string, text: string): string | undefined {
  return lib.compile(`%{${name}:v}`).match(text)?.fields.v as string | undefined;
}

describe('bundled library', () => {
  it('has the names grok users know', () => {
    const expected = [
      'USERNAME', 'USER', 'INT', 'BASE10NUM', 'NUMBER', 'BASE16NUM', 'POSINT', 'NONNEGINT', 'WORD', 'NOTSPACE',
      'SPACE', 'DATA', 'GREEDYDATA', 'QUOTEDSTRING', 'QS', 'UUID', 'MAC', 'IPV6', 'IPV4', 'IP', 'HOSTNAME',
      'IPORHOST', 'HOSTPORT', 'PATH', 'UNIXPATH', 'URIPROTO', 'URIHOST', 'URIPATH', 'URIPARAM', 'URIPATHPARAM',
      'URI', 'MONTH', 'MONTHNUM', 'MONTHDAY', 'DAY', 'YEAR', 'HOUR', 'MINUTE', 'SECOND', 'TIME', 'DATE_US',
      'DATE_EU', 'ISO8601_TIMEZONE', 'TIMESTAMP_ISO8601', 'DATE', 'DATESTAMP', 'TZ', 'HTTPDATE', 'SYSLOGTIMESTAMP',
      'LOGLEVEL', 'HTTPDUSER', 'COMMONAPACHELOG', 'COMBINEDAPACHELOG',
      'QUAY_SUPERVISOR_PREFIX', 'QUAY_NGINX_ACCESS', 'QUAY_PYTHON_LOG', 'QUAY_GUNICORN_ACCESS',
    ];
    expect(expected.filter((n) => !lib.has(n))).toEqual([]);
  });

  it('compiles every bundled pattern', () => {
    expect(lib.validate().map((e) => e.message)).toEqual([]);
  });

  it('loads grok-base.grok first', () => {
    expect(basename(bundledPatternFiles()[0]!)).toBe('grok-base.grok');
    expect(lib.origin('WORD')).toMatch(/patterns[/\\]grok-base\.grok:\d+$/);
    expect(lib.origin('QUAY_NGINX_ACCESS')).toMatch(/patterns[/\\]quay\.grok:\d+$/);
  });

  it('has no name defined in two bundled files (one would silently change the other)', () => {
    const seen = new Map<string, string>();
    const dupes: string[] = [];
    for (const file of bundledPatternFiles()) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^\s*([A-Za-z0-9_.-]+)\s/.exec(line);
        if (!m || line.trim().startsWith('#')) continue;
        const prev = seen.get(m[1]!);
        if (prev && prev !== file) dupes.push(`${m[1]} in ${basename(prev)} and ${basename(file)}`);
        seen.set(m[1]!, file);
      }
    }
    expect(dupes).toEqual([]);
  });
});

describe('IPV6', () => {
  it.each([
    '::1',
    '::',
    'fe80::1%eth0',
    'fe80::',
    '2001:db8::8a2e:370:7334',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
    '1::8',
    '1:2:3:4:5::8',
    '::ffff:10.0.0.1',
    '64:ff9b::192.0.2.33',
    '1:2:3:4:5:6:10.0.0.1',
    'fe80::a00:27ff:fe4e:66a1%enp0s3',
  ])('accepts %s', (ip) => {
    expect(whole('IPV6', ip)).toBe(true);
    expect(found('IP', `client ${ip} port`)).toBe(ip);
  });

  it.each(['1:2:3', ':::1', '1::2::3', '12345::1', '1:2:3:4:5:6:7:8:9', 'g::1', '::ffff:256.0.0.1', '1:2:3:4:5:6:7::8'])(
    'rejects %s',
    (text) => {
      expect(whole('IPV6', text)).toBe(false);
    },
  );
});

describe('other base patterns', () => {
  it('IPV4 and IP', () => {
    expect(whole('IPV4', '10.0.0.1')).toBe(true);
    expect(whole('IPV4', '255.255.255.255')).toBe(true);
    expect(whole('IPV4', '256.1.1.1')).toBe(false);
    expect(whole('IPV4', '1.2.3')).toBe(false);
    expect(found('IPV4', 'from 1.2.3.45:80')).toBe('1.2.3.45');
    expect(found('IPORHOST', '[quay.example.com]:443')).toBe('quay.example.com');
    expect(found('IPORHOST', '(2001:db8::1)')).toBe('2001:db8::1');
    expect(found('HOSTPORT', '-> quay.example.com:443 now')).toBe('quay.example.com:443');
  });

  it('HTTPDATE', () => {
    const c = lib.compile('\\[%{HTTPDATE:t}\\]');
    expect(c.match('x [14/Nov/2022:19:23:44 +0000] y')!.fields).toEqual({ t: '14/Nov/2022:19:23:44 +0000' });
    expect(whole('HTTPDATE', '01/Jan/2026:00:00:00 -0530')).toBe(true);
    expect(whole('HTTPDATE', '14/Nox/2022:19:23:44 +0000')).toBe(false);
    expect(whole('HTTPDATE', '14/Nov/2022:24:23:44 +0000')).toBe(false); // hour 24
  });

  it('TIMESTAMP_ISO8601', () => {
    for (const ts of [
      '2022-11-14T19:23:44.574Z',
      '2022-11-14 19:23:44,574',
      '2026-11-22T10:15:32+01:00',
      '2026-11-22T10:15:32.123456-0500',
      '2026-11-22T10:15',
    ]) {
      expect(whole('TIMESTAMP_ISO8601', ts)).toBe(true);
    }
    expect(whole('TIMESTAMP_ISO8601', '2026-13-22T10:15:32Z')).toBe(false); // month 13
    expect(found('TIMESTAMP_ISO8601', 'at 2026-11-22T10:15:32Z: ok')).toBe('2026-11-22T10:15:32Z');
  });

  it('UUID', () => {
    expect(whole('UUID', '123e4567-e89b-12d3-a456-426614174000')).toBe(true);
    expect(whole('UUID', '123E4567-E89B-12D3-A456-426614174000')).toBe(true);
    expect(whole('UUID', '123e4567-e89b-12d3-a456-42661417400g')).toBe(false);
    expect(whole('UUID', '123e4567e89b12d3a456426614174000')).toBe(false);
  });

  it('QS and QUOTEDSTRING with escapes', () => {
    expect(found('QS', 'say "hi" now')).toBe('"hi"');
    expect(found('QS', String.raw`x "say \"hi\" \\" y "z"`)).toBe(String.raw`"say \"hi\" \\"`);
    expect(found('QS', String.raw`'it\'s' x`)).toBe(String.raw`'it\'s'`);
    expect(found('QS', 'run `ls -l` now')).toBe('`ls -l`');
    expect(found('QS', '""')).toBe('""');
    expect(found('QS', '"unterminated')).toBeUndefined();
    // no catastrophic backtracking: a long unterminated string fails (quickly; the
    // test timeout would catch an exponential pattern)
    expect(found('QS', '"' + 'a\\"'.repeat(20_000))).toBeUndefined();
  });

  it('numbers', () => {
    expect(lib.compile('%{NUMBER:n:float}').match('took -1.5s')!.fields).toEqual({ n: -1.5 });
    expect(found('NUMBER', 'x .5 y')).toBe('.5');
    expect(found('INT', 'code=-42;')).toBe('-42');
    expect(found('POSINT', 'a 0 17 b')).toBe('17');
    expect(found('NONNEGINT', 'a 0 17 b')).toBe('0');
    expect(found('BASE16NUM', '= 0x1F2e')).toBe('0x1F2e');
    expect(found('BASE16NUM', 'at deadbeef')).toBe('a'); // the first hex run wins in search mode
    expect(whole('POSINT', '017')).toBe(false);
  });

  it('words, spaces and data', () => {
    expect(found('WORD', '  hello-there')).toBe('hello');
    expect(found('NOTSPACE', '  a/b:c d')).toBe('a/b:c');
    expect(lib.compile('a%{SPACE:s}b').match('a \t b')!.fields).toEqual({ s: ' \t ' });
    expect(lib.compile('%{DATA:d},').match('x,y,z')!.fields).toEqual({ d: 'x' });
    expect(lib.compile('%{GREEDYDATA:d},').match('x,y,z')!.fields).toEqual({ d: 'x,y' });
    expect(found('USERNAME', '<quay_admin.2-x>')).toBe('quay_admin.2-x');
    expect(found('HTTPDUSER', '<ops@example.com>')).toBe('ops@example.com');
  });

  it('MAC', () => {
    expect(whole('MAC', '00:1A:2b:3c:4D:5e')).toBe(true);
    expect(whole('MAC', '00-1a-2b-3c-4d-5e')).toBe(true);
    expect(whole('MAC', '001a.2b3c.4d5e')).toBe(true);
    expect(whole('MAC', '00:1a:2b:3c:4d')).toBe(false);
    expect(whole('MAC', '00:1a-2b:3c:4d:5e')).toBe(false);
  });

  it('paths and URIs', () => {
    expect(found('UNIXPATH', 'open /var/log/quay/nginx.log: no')).toBe('/var/log/quay/nginx.log:');
    expect(found('PATH', 'at C:\\Program Files\\x')).toBe('C:\\Program');
    expect(found('URIPROTO', 'docker://quay.io')).toBe('docker');
    expect(found('URIPATHPARAM', 'GET /v2/acme/app/manifests/v1?digest=sha256:ab#frag')).toBe('/v2/acme/app/manifests/v1?digest=sha256:ab');
    expect(found('URIPATH', 'GET /v2/_catalog?n=5')).toBe('/v2/_catalog');
    expect(found('URIPARAM', 'GET /v2/_catalog?n=5&last=a b')).toBe('?n=5&last=a');
    expect(found('URI', 'see https://user:pw@quay.example.com:8443/api/v1/user?x=1 now')).toBe(
      'https://user:pw@quay.example.com:8443/api/v1/user?x=1',
    );
    expect(found('URI', 'from docker://quay.io/prometheus/node-exporter:v1.7.0, to')).toBe(
      'docker://quay.io/prometheus/node-exporter:v1.7.0,',
    );
    expect(found('URIHOST', '@[::1]:8080/x')).toBe('[::1]:8080');
  });

  it('dates and times', () => {
    expect(whole('MONTH', 'September')).toBe(true);
    expect(whole('MONTH', 'Sept')).toBe(true);
    expect(whole('MONTH', 'Septmber')).toBe(false);
    expect(whole('MONTHNUM', '09')).toBe(true);
    expect(whole('MONTHNUM', '13')).toBe(false);
    expect(whole('MONTHDAY', '31')).toBe(true);
    expect(whole('MONTHDAY', '32')).toBe(false);
    expect(whole('DAY', 'Wednesday')).toBe(true);
    expect(whole('YEAR', '2026')).toBe(true);
    expect(whole('TIME', '23:59:60.5')).toBe(true);
    expect(whole('TIME', '23:60:00')).toBe(false);
    expect(whole('DATE_US', '11/22/2026')).toBe(true);
    expect(whole('DATE_EU', '22.11.2026')).toBe(true);
    expect(whole('DATE', '22.11.2026')).toBe(true);
    expect(whole('DATESTAMP', '11-22-2026 10:15:32')).toBe(true);
    expect(whole('ISO8601_TIMEZONE', '+05:30')).toBe(true);
    expect(whole('TZ', 'UTC')).toBe(true);
    expect(whole('TZ', 'CEST')).toBe(true);
    expect(whole('TZ', 'INFO')).toBe(false);
    expect(lib.compile('%{SYSLOGTIMESTAMP:t} %{WORD:h}').match('Nov  4 19:23:44 quay1 sshd')!.fields).toEqual({
      t: 'Nov  4 19:23:44',
      h: 'quay1',
    });
  });

  it('LOGLEVEL takes the whole word', () => {
    expect(found('LOGLEVEL', '[WARNING] x')).toBe('WARNING');
    expect(found('LOGLEVEL', 'level=error x')).toBe('error');
    expect(whole('LOGLEVEL', 'INFORMATIONAL')).toBe(false);
  });

  it('COMMONAPACHELOG and COMBINEDAPACHELOG with the classic field names', () => {
    const line =
      '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';
    expect(lib.compile('%{COMBINEDAPACHELOG}').match(line)!.fields).toEqual({
      clientip: '127.0.0.1',
      ident: '-',
      auth: 'frank',
      timestamp: '10/Oct/2000:13:55:36 -0700',
      verb: 'GET',
      request: '/apache_pb.gif',
      httpversion: '1.0',
      response: '200',
      bytes: '2326',
      referrer: '"http://www.example.com/start.html"',
      agent: '"Mozilla/4.08 [en] (Win98; I ;Nav)"',
    });
    const raw = lib.compile('%{COMMONAPACHELOG}').match('::1 - - [10/Oct/2000:13:55:36 -0700] "-" 408 -')!;
    expect(raw.fields).toEqual({
      clientip: '::1',
      ident: '-',
      auth: '-',
      timestamp: '10/Oct/2000:13:55:36 -0700',
      rawrequest: '-',
      response: '408',
    });
  });

  it("syslog and date names of the grok library Telegraf uses (SYSLOGBASE, PROG, DATESTAMP_*, HTTPDERROR_DATE, TTY, URN, HOST)", () => {
    const line = 'Mar 16 00:01:25 <3.4> evita postfix/smtpd[1713]: connect from camomile.cloud9.net[168.100.1.3]';
    expect(lib.compile('%{SYSLOGBASE} %{GREEDYDATA:rest}').match(line)!.fields).toEqual({
      timestamp: 'Mar 16 00:01:25',
      facility: '3',
      priority: '4',
      logsource: 'evita',
      program: 'postfix/smtpd',
      pid: '1713',
      rest: 'connect from camomile.cloud9.net[168.100.1.3]',
    });
    // PROG stops at a bracket: "sshd" of "sshd[22]"
    expect(lib.compile('%{PROG:p}').match('sshd[22]:')!.fields).toEqual({ p: 'sshd' });
    expect(whole('DATESTAMP_RFC822', 'Wed Jan 12 2014 14:32:52 UTC')).toBe(true);
    expect(whole('DATESTAMP_RFC2822', 'Wed, 12 Jan 2014 14:32:52 +0100')).toBe(true);
    expect(whole('DATESTAMP_OTHER', 'Wed Jan 12 14:32:52 UTC 2014')).toBe(true);
    expect(whole('DATESTAMP_EVENTLOG', '20140112143252')).toBe(true);
    expect(whole('HTTPDERROR_DATE', 'Wed Oct 11 14:32:52 2000')).toBe(true);
    expect(whole('TTY', '/dev/pts/3')).toBe(true);
    expect(whole('TTY', '/dev/ttyS0')).toBe(true);
    expect(whole('URN', 'urn:isbn:0451450523')).toBe(true);
    expect(whole('URN', 'urn:isbn')).toBe(false);
    expect(whole('HOST', 'registry.example.com')).toBe(true);
  });
});

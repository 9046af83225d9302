import { beforeEach, describe, expect, it } from 'vitest';
import { PatternLibrary } from '../grok/index.js';
import { MetricRegistry } from '../metrics/series.js';
import { LineFields } from '../records/fields.js';
import { ContainerParser, SupervisordParser } from './supervisord.js';
import { LineResult } from './types.js';

describe('SupervisordParser', () => {
  it('counts exits by program and expected, from supervisor 4 process.py texts; other lines match only', () => {
    const registry = new MetricRegistry(100);
    const p = new SupervisordParser(registry);
    const lines = [
      "2021-07-14 12:23:40,001 INFO spawned: 'gunicorn-web' with pid 55",
      '2021-07-14 12:23:41,002 INFO success: gunicorn-web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)',
      '2021-07-14 12:23:46,123 WARN exited: gunicorn-web (terminated by SIGKILL; not expected)',
      '2021-07-14 12:23:47,000 WARN exited: repomirrorworker (exit status 1; not expected)',
      '2021-07-14 12:23:48,000 INFO exited: gcworker (exit status 0; expected)',
      '2021-07-14 12:23:49,000 WARN exited: my-sidecar (exit status 2; not expected)',
      '2021-07-14 12:23:50,000 WARN stopped: gunicorn-registry (terminated by SIGTERM)',
      '2021-07-14 12:23:51,000 INFO gave up: repomirrorworker entered FATAL state, too many start retries too quickly',
    ];
    expect(lines.map((l) => p.parse(l, 0))).toEqual(lines.map(() => LineResult.Matched));
    expect(p.parse('quay started at noon', 0)).toBe(LineResult.Unmatched);
    expect(p.parse('2021-07-14 12:23:43,100 INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.', 0)).toBe(LineResult.Unmatched);
    const exits = Object.fromEntries([...registry.counter('quay_process_exits_total').slots.values()].map((s) => [Object.values(s.attributes).join('|'), s.value]));
    // lines 3, 4, 5, 6: one exit each; "stopped:" is a requested stop, not an exit; an unknown program is "other"
    expect(exits).toEqual({ 'gunicorn-web|no': 1, 'repomirrorworker|no': 1, 'gcworker|yes': 1, 'other|no': 1 });
  });
});

describe('SupervisordParser: exits counted, edge by edge', () => {
  it('an exit needs a name before " (" and a text ending in "; expected)" or "; not expected)"; only at the line start', () => {
    const registry = new MetricRegistry(100);
    const p = new SupervisordParser(registry);
    const T = '2021-07-14 12:23:46,123 WARN ';
    // Counted: nginx/no. Not counted: no name, no "expected" ending, something after the ")".
    for (const l of [`${T}exited: nginx (exit status 1; not expected)`, `${T}exited:  (exit status 1; not expected)`, `${T}exited: nginx (exit status 1)`, `${T}exited: nginx (exit status 1; expected) x`]) {
      expect(p.parse(l, 0)).toBe(LineResult.Matched);
    }
    // A supervisord line handed with start > 0 (after a program prefix) is no supervisord line, even one that is from 0.
    expect(p.parse(`x stdout | ${T}exited: nginx (exit status 1; not expected)`, 11)).toBe(LineResult.Unmatched);
    expect(p.parse(`${T}exited: nginx (exit status 1; not expected)`, 1)).toBe(LineResult.Unmatched);
    const f = registry.counter('quay_process_exits_total');
    expect([...f.slots.values()].map((s) => [s.attributes, s.value])).toEqual([[{ program: 'nginx', expected: 'no' }, 1]]);
  });
});

describe('SupervisordParser: records out', () => {
  it("each state line's kind, program and what ended it (supervisor 4.x process.py texts)", () => {
    const fields = new LineFields();
    fields.active = true;
    const p = new SupervisordParser(new MetricRegistry(100), fields);
    const got = (line: string) => {
      p.parse(line, 0);
      return fields.take();
    };
    expect(got("2021-07-14 12:23:40,001 INFO spawned: 'gunicorn-web' with pid 55")).toStrictEqual({ level: 'INFO', kind: 'spawned', program: 'gunicorn-web', pid: 55 });
    expect(got('2021-07-14 12:23:41,002 INFO success: gunicorn-web entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)')).toStrictEqual({
      level: 'INFO',
      kind: 'success',
      program: 'gunicorn-web',
    });
    expect(got('2021-07-14 12:23:46,123 WARN exited: gunicorn-web (terminated by SIGKILL; not expected)')).toStrictEqual({
      level: 'WARN',
      kind: 'exited',
      program: 'gunicorn-web',
      signal: 'SIGKILL',
      expected: false,
    });
    expect(got('2021-07-14 12:23:48,000 INFO exited: gcworker (exit status 0; expected)')).toStrictEqual({ level: 'INFO', kind: 'exited', program: 'gcworker', exit_status: 0, expected: true });
    expect(got('2021-07-14 12:23:47,000 WARN exited: repomirrorworker (exit status 1; not expected)')).toStrictEqual({
      level: 'WARN',
      kind: 'exited',
      program: 'repomirrorworker',
      exit_status: 1,
      expected: false,
    });
    // A requested stop: the signal, no "expected".
    expect(got('2021-07-14 12:23:50,000 WARN stopped: gunicorn-registry (terminated by SIGTERM)')).toStrictEqual({ level: 'WARN', kind: 'stopped', program: 'gunicorn-registry', signal: 'SIGTERM' });
    expect(got('2021-07-14 12:23:51,000 INFO gave up: repomirrorworker entered FATAL state, too many start retries too quickly')).toStrictEqual({
      level: 'INFO',
      kind: 'gave_up',
      program: 'repomirrorworker',
    });
    // Not about one program: the level only (no ": ", or a word that is no state).
    expect(got('2021-07-14 12:23:39,000 INFO supervisord started with pid 1')).toStrictEqual({ level: 'INFO' });
    expect(got("2021-07-14 12:23:39,500 INFO spawnerr: can't find command '/bin/nope'")).toStrictEqual({ level: 'INFO' });
    // A state word with nothing the program pattern reads after it.
    expect(got('2021-07-14 12:23:52,000 INFO exited:  (x)')).toStrictEqual({ level: 'INFO', kind: 'exited' });
    fields.active = false;
    expect(got('2021-07-14 12:23:48,000 INFO exited: gcworker (exit status 0; expected)')).toStrictEqual({});
  });
});

describe('ContainerParser', () => {
  // Built per test (beforeEach), not in beforeEach: Stryker records per-test coverage from a beforeEach
  // of its own, so what beforeEach reaches is "static" coverage no test owns (test/MUTATION.md).
  let p: ContainerParser;
  beforeEach(() => {
    p = new ContainerParser(PatternLibrary.bundled());
  });
  it('matches the start-up script lines of quay-entrypoint.sh and conf/init/*.sh', () => {
    for (const l of [
      '',
      'Startup timestamp: ',
      'Wed Jul 14 12:23:40 UTC 2021',
      'Thu Jul  1 02:03:04 UTC 2021',
      'Running all default registry services',
      'Running services repomirrorworker,pushgateway',
      'Entering repository mirroring mode',
      "Running init script '/quay-registry/conf/init/certs_create.sh'",
      'Installing extra certificates found in /quay-registry/conf/stack/extra_ca_certs directory',
      'Validating Configuration',
      '+------------------------+-------+--------+',
      '2021-07-14 12:23:40,100 [12] [INFO] [alembic.runtime.migration] Context impl PostgresqlImpl.',
      // alembic.ini's format (conf/init/runmigration.sh): not supervisord's, though it starts alike
      '2021-07-14 12:23:43,100 INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.',
      '2021-07-14 12:23:43,101 INFO  [alembic.runtime.migration] Will assume transactional DDL.',
    ])
      expect([l, p.parse(l, 0)]).toEqual([l, LineResult.Matched]);
  });
  it('leaves anything else unmatched', () => {
    expect(p.parse('quay started at 2026-11-22T10:14:00Z', 0)).toBe(LineResult.Unmatched);
    expect(p.parse('Running services', 0)).toBe(LineResult.Unmatched);
  });
});

/**
 * The formats of src/formats, one real line per case. Texts: Quay's
 * conf/logging*.conf and loghandler.py (v3.5.1 … v3.18.0), supervisor 4's
 * process.py log messages, Python's traceback printing.
 */
import { describe, expect, it } from 'vitest';
import { PatternLibrary } from '../grok/index.js';
import { PythonFormat, PythonLogReader } from './python-log.js';
import { isTracebackLine, startsRecord } from './python-traceback.js';
import { prefixEnd, readSupervisordLog, supervisordTextStart } from './supervisord.js';

const grok = PatternLibrary.bundled();

describe('supervisord prefix', () => {
  it('finds the text after "<program> stdout | " and "… stderr | "', () => {
    expect(supervisordTextStart('nginx stdout | 10.0.0.1 (-) - -')).toBe(15); // "nginx stdout | " is 15 chars
    expect(supervisordTextStart('gunicorn-registry stderr | x')).toBe(27);
    expect(prefixEnd('gcworker stdout |')).toBe(8); // empty text, trailing space trimmed
    expect(supervisordTextStart('gcworker stdout |')).toBe(17);
  });

  it('finds none in supervisord\'s own lines, the start-up script\'s, or look-alikes', () => {
    expect(prefixEnd('2021-07-14 12:23:46,123 INFO spawned: \'nginx\' with pid 55')).toBe(-1);
    expect(prefixEnd('Running init script \'/quay-registry/conf/init/certs_create.sh\'')).toBe(-1);
    expect(prefixEnd('nginx stdout |x')).toBe(-1);
    expect(prefixEnd('nginx stdin | x')).toBe(-1);
    expect(prefixEnd(`${'p'.repeat(65)} stdout | x`)).toBe(-1); // longer than any program name
  });
});

describe('supervisord\'s own log line', () => {
  const out = { level: '', messageStart: 0 };
  it('reads level and message of every supervisord level', () => {
    const line = '2021-07-14 12:23:46,123 WARN exited: gunicorn-web (terminated by SIGKILL; not expected)';
    expect(readSupervisordLog(line, out)).toBe(true);
    expect([out.level, line.slice(out.messageStart)]).toEqual(['WARN', 'exited: gunicorn-web (terminated by SIGKILL; not expected)']);
    for (const level of ['CRIT', 'ERRO', 'INFO', 'DEBG', 'TRAC', 'BLAT']) expect(readSupervisordLog(`2021-07-14 12:23:46,123 ${level} x`, out)).toBe(true);
  });
  it('does not take a Python record or an unknown level for one', () => {
    expect(readSupervisordLog('2021-07-14 12:23:46,123 [55] [INFO] [data.model] x', out)).toBe(false);
    expect(readSupervisordLog('2021-07-14 12:23:46,123 NOTE something', out)).toBe(false);
    expect(readSupervisordLog('2021-07-14 12:23:46 INFO no millis here', out)).toBe(false);
  });
});

describe('PythonLogReader: one record whatever the format', () => {
  const r = new PythonLogReader(grok);
  it('reads the text header', () => {
    expect(r.read('gcworker stdout | 2021-07-14 12:23:46,574 [72] [INFO] [apscheduler.executors.default] Job done', 18)).toBe(true);
    expect([r.format, r.timestamp, r.pid, r.level, r.logger, r.message]).toEqual([
      PythonFormat.Text, '2021-07-14 12:23:46,574', '72', 'INFO', 'apscheduler.executors.default', 'Job done',
    ]);
    expect(r.timeMs()).toBe(Date.UTC(2021, 6, 14, 12, 23, 46, 574));
  });
  it('reads JSONLOG records of Quay <= 3.14 ({"data": {}}) and 3.15+ (Python 3.12: taskName)', () => {
    expect(r.read('{"data": {}, "message": "Job \\"GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2021-07-14 12:24:16 UTC)\\" executed successfully"}', 0)).toBe(true);
    expect([r.format, r.timestamp, r.level, r.logger]).toEqual([PythonFormat.Json, '', '', '']);
    expect(r.message).toBe('Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2021-07-14 12:24:16 UTC)" executed successfully');
    expect(Number.isNaN(r.timeMs())).toBe(true); // a JSON record has no time
    expect(r.read('repomirrorworker stdout | {"data": {"taskName": null}, "message": "Source \'quay.io/x\' successful sync."}', 26)).toBe(true);
    expect(r.message).toBe("Source 'quay.io/x' successful sync.");
  });
  it('reads a record with exc_info (frames in data) and a dict message with no "message" key', () => {
    const exc = '{"data": {"exc_info": ["  File \\"/quay-registry/workers/worker.py\\", line 87, in _operation_func\\n    return operation_func()\\n"]}, "message": "Operation raised exception"}';
    expect(r.read(exc, 0)).toBe(true);
    expect(r.message).toBe('Operation raised exception');
    expect(r.read('{"data": {"kind": "x"}, "message": null}', 0)).toBe(true);
    expect(r.message).toBe('');
  });
  it('reads a JSON record that a multi-line stage joined raw traceback lines to (its first line only)', () => {
    expect(r.read('{"data": {}, "message": "worker started"}\nTraceback (most recent call last):\n  File "x.py", line 1', 0)).toBe(true);
    expect([r.format, r.message]).toEqual([PythonFormat.Json, 'worker started']);
  });
  it('refuses what is no record: broken JSON, JSON without message, plain text', () => {
    expect(r.read('{"data": {}, "message": "cut', 0)).toBe(false);
    expect(r.read('{"level": "info", "msg": "x"}', 0)).toBe(false);
    expect(r.read('{"data": {}, "message": 5}', 0)).toBe(false);
    expect(r.read('time="2021-07-14T12:23:46Z" level=fatal msg="x"', 0)).toBe(false);
  });
});

describe('one traceback rule', () => {
  it('recognises every line of a traceback, the bare "Exception: …" included', () => {
    for (const l of [
      'Traceback (most recent call last):',
      '  File "/quay-registry/workers/worker.py", line 87, in _operation_func',
      '    return operation_func()',
      'During handling of the above exception, another exception occurred:',
      'The above exception was the direct cause of the following exception:',
      'Exception: GC interrupted; will retry',
      'peewee.OperationalError: (2006, "MySQL server has gone away")',
      'botocore.exceptions.ClientError: An error occurred (AccessDenied)',
      'KeyboardInterrupt',
      'SystemExit: 1',
      '', // between chained tracebacks
    ])
      expect([l, isTracebackLine(l, 0)]).toEqual([l, true]);
  });
  it('does not take ordinary text for one', () => {
    for (const l of ['Running services nginx', 'Exceptions are rare', 'ErrorCount: 3 things', 'this is not an access line'])
      expect([l, isTracebackLine(l, 0)]).toEqual([l, false]);
  });
  it('knows which lines start a new record (the end of exception text)', () => {
    expect(startsRecord('2021-07-14 12:23:46,574 [72] [INFO] [x] y', 0)).toBe(true);
    expect(startsRecord('{"data": {}, "message": "x"}', 0)).toBe(true);
    expect(startsRecord('time="2021-07-14T12:23:46Z" level=debug msg="x"', 0)).toBe(true);
    expect(startsRecord('level=fatal msg="Error reading manifest latest in quay.io/x: unauthorized"', 0)).toBe(true);
    expect(startsRecord('more text of the message', 0)).toBe(false);
  });
});

/**
 * Records in (forward, stdin json/msgpack) to lines: which key is the line, the newline the program
 * wrote, the supervisord prefix given back, the line bound, the counters, the origin for records out,
 * and Fluentd's tag patterns. The streams opened are recorded as opened (source, info, lines, end).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { InputSource } from '../config/schema.js';
import { MetricRegistry } from '../metrics/series.js';
import type { OriginSlot } from '../records/record.js';
import { compileTagSources, createRecordLines, tagPattern } from './records.js';
import type { StreamInfo } from './types.js';

interface Opened {
  source: InputSource;
  info: StreamInfo;
  lines: string[];
  ended: boolean;
}

function setup(input: Record<string, unknown>, origin?: OriginSlot) {
  const config = parseConfig({ inputs: [{ type: 'forward', ...input }] }).inputs[0]!;
  const registry = new MetricRegistry();
  const opened: Opened[] = [];
  const lines = createRecordLines(
    config,
    registry,
    (source, info) => {
      const o: Opened = { source, info, lines: [], ended: false };
      opened.push(o);
      return { line: (l) => void o.lines.push(l), end: () => void (o.ended = true) };
    },
    origin,
  );
  const received = (source: string) => registry.counter('quay_log_exporter_records_received_total').at(config.name ?? config.type, source).value;
  const skipped = (reason: string) => registry.counter('quay_log_exporter_records_skipped_total').at(config.name ?? config.type, reason).value;
  const truncated = () => registry.counter('quay_log_exporter_lines_truncated_total').at().value;
  return { lines, opened, received, skipped, truncated };
}

describe('createRecordLines', () => {
  it('the line is record[message_key] (text or bytes), its newline (\\n or \\r\\n) dropped; a record without it is counted', () => {
    const { lines, opened, received, skipped } = setup({ source: 'nginx' });
    const s = lines.open('conn-1', 'kube.quay');
    expect(s.source).toBe('nginx');
    s.push({ log: 'GET /a\n' });
    s.push({ log: 'GET /b\r\n' });
    s.push({ log: Buffer.from('GET /c') });
    s.push({ log: 'GET /d\n\n' }); // only the last newline is the program's
    s.push({ message: 'not here' });
    s.push({ log: 42 });
    s.end();
    expect(opened).toEqual([{ source: 'nginx', info: { id: 'conn-1', tag: 'kube.quay' }, lines: ['GET /a', 'GET /b', 'GET /c', 'GET /d\n'], ended: true }]);
    // 4 lines received, 2 records without a text `log`
    expect([received('nginx'), skipped('no_message')]).toEqual([4, 2]);
  });

  it('message_key chooses the key', () => {
    const { lines, opened } = setup({ source: 'nginx', message_key: 'message' });
    const s = lines.open('c', 't');
    s.push({ log: 'no', message: 'yes' });
    expect(opened[0]!.lines).toEqual(['yes']);
  });

  it('program_key gives the supervisord prefix back, unless the line already has it or the program is empty', () => {
    const { lines, opened } = setup({ source: 'supervisord', program_key: 'program' });
    const s = lines.open('c', 't');
    s.push({ log: '10.0.0.1 - - "GET /v2/ HTTP/1.1" 200', program: 'nginx' });
    s.push({ log: 'nginx stdout | already prefixed', program: 'nginx' });
    s.push({ log: 'nginxish', program: 'nginx' });
    s.push({ log: 'no program', program: '' });
    s.push({ log: 'not text', program: 7 });
    expect(opened[0]!.lines).toEqual(['nginx stdout | 10.0.0.1 - - "GET /v2/ HTTP/1.1" 200', 'nginx stdout | already prefixed', 'nginx stdout | nginxish', 'no program', 'not text']);
  });

  it('program_key is not used for a stream routed to another source by its tag', () => {
    const { lines, opened } = setup({ source: 'supervisord', program_key: 'program', tag_sources: { 'web.*': 'gunicorn' } });
    lines.open('c', 'web.1').push({ log: 'text', program: 'gunicorn-web' });
    expect(opened[0]).toMatchObject({ source: 'gunicorn', lines: ['text'] });
  });

  it('a line past max_line_bytes is cut to it (bytes, not characters) and counted; exactly at it is kept', () => {
    const { lines, opened, truncated } = setup({ source: 'nginx', max_line_bytes: 1024 });
    const s = lines.open('c', 't');
    s.push({ log: 'a'.repeat(1024) });
    s.push({ log: 'a'.repeat(1025) });
    // 400 × "é" = 800 bytes (under 1024) although 400 × 3 > 1024: kept
    s.push({ log: 'é'.repeat(400) });
    // 600 × "é" = 1200 bytes: cut at 1024 bytes = 512 characters
    s.push({ log: 'é'.repeat(600) });
    expect(opened[0]!.lines.map((l) => l.length)).toEqual([1024, 1024, 400, 512]);
    expect(truncated()).toBe(2);
  });

  it('with records out: the origin of each line is set just before it is handed over', () => {
    const origin: OriginSlot = { active: true, current: undefined };
    const seen: unknown[] = [];
    const config = parseConfig({ inputs: [{ type: 'forward', source: 'nginx' }] }).inputs[0]!;
    const lines = createRecordLines(config, new MetricRegistry(), () => ({ line: () => void seen.push(origin.current), end() {} }), origin);
    const record = { log: 'x' };
    lines.open('c', 'tag.a').push(record, 1_700_000_000_500);
    expect(seen).toEqual([{ record, tag: 'tag.a', time: 1_700_000_000_500 }]);
    // not active: left alone
    const off: OriginSlot = { active: false, current: undefined };
    const lines2 = createRecordLines(config, new MetricRegistry(), () => ({ line: () => void seen.push(off.current), end() {} }), off);
    lines2.open('c', 't').push(record);
    expect(seen[1]).toBeUndefined();
  });

  it('skip counts by reason, n at a time; an input name labels the counters', () => {
    const { lines, skipped } = setup({ name: 'fwd', source: 'nginx' });
    lines.skip('invalid_entry');
    lines.skip('invalid_entry', 3);
    expect(skipped('invalid_entry')).toBe(4);
  });
});

describe('tag patterns (Fluentd <match>)', () => {
  // [pattern, tag, match] worked out from Fluentd's docs: * one part, ** zero or more, {a,b} either
  const cases: [string, string, boolean][] = [
    ['quay.*', 'quay.nginx', true],
    ['quay.*', 'quay', false],
    ['quay.*', 'quay.a.b', false],
    ['quay.**', 'quay', true],
    ['quay.**', 'quay.a.b', true],
    ['quay.**', 'quayx', false],
    ['**.nginx', 'nginx', true],
    ['**.nginx', 'a.b.nginx', true],
    ['**.nginx', 'anginx', false],
    ['**', 'anything.at.all', true],
    ['a.{b,c}', 'a.c', true],
    ['a.{b,c}', 'a.d', false],
    ['a.b', 'aXb', false], // the dot is literal
    ['a+b', 'a+b', true], // so is +
    ['a+b', 'aab', false],
    ['x.*.z', 'x.y.z', true],
    ['x.*.z', 'x..z', false],
  ];
  it.each(cases)('%s ~ %s: %s', (pattern, tag, want) => {
    expect(tagPattern(pattern).test(tag)).toBe(want);
  });

  it('the first pattern that matches wins; none: the fallback', () => {
    const of = compileTagSources({ 'a.**': 'nginx', 'a.b': 'gunicorn' }, 'supervisord');
    expect([of('a.b'), of('z')]).toEqual(['nginx', 'supervisord']);
    expect(compileTagSources({}, 'gcworker')('anything')).toBe('gcworker');
  });
});

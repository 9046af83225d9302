/**
 * ForwardStreams on its own (no sockets): which stream a record goes to, the one-entry cache, idle
 * ends and the bound on open streams, with the input's real RecordLines (src/inputs/records.ts)
 * opening streams into a recorder. forward.test.ts runs the same through TCP.
 */
import { describe, expect, it } from 'vitest';
import { inputSchema } from '../../config/schema.js';
import { MetricRegistry } from '../../metrics/series.js';
import { createRecordLines } from '../records.js';
import { MAX_STREAMS, ForwardStreams } from './streams.js';

function streams(idleMs = 1000) {
  const opened: Record<string, unknown>[] = [];
  const ended: string[] = [];
  const lines: [string, string][] = [];
  const config = inputSchema.parse({ type: 'forward', name: 'fw' });
  const records = createRecordLines(config, new MetricRegistry(), (_source, info) => {
    opened.push({ ...info });
    return { line: (l: string) => void lines.push([info.id, l]), end: () => void ended.push(info.id) };
  });
  return { s: new ForwardStreams('fw', records, idleMs), opened, ended, lines };
}

const k8s = (pod: unknown, namespace: unknown = 'quay', container: unknown = 'quay-app') => ({ log: 'x', kubernetes: { pod_name: pod, namespace_name: namespace, container_name: container } });

describe('ForwardStreams.of', () => {
  it('one stream per tag; per Kubernetes container when the record names its pod', () => {
    const { s, opened } = streams();
    const a = s.of('quay.app', { log: 'a' }, 0);
    expect(s.of('quay.app', { log: 'b' }, 1)).toBe(a);
    const p1 = s.of('quay.app', k8s('quay-1'), 2);
    const p2 = s.of('quay.app', k8s('quay-2'), 3);
    const p1again = s.of('quay.app', k8s('quay-1'), 4);
    expect(p1again).toBe(p1);
    expect(p2).not.toBe(p1);
    expect(s.size).toBe(3);
    expect(opened).toEqual([
      { id: 'forward:fw:quay.app', tag: 'quay.app' },
      { id: 'forward:fw:quay.app:quay/quay-1/quay-app', tag: 'quay.app', pod: 'quay-1', namespace: 'quay' },
      { id: 'forward:fw:quay.app:quay/quay-2/quay-app', tag: 'quay.app', pod: 'quay-2', namespace: 'quay' },
    ]);
  });

  it('no pod name (or not text): the tag\'s stream; a namespace or container that is not text is ""', () => {
    const { s, opened } = streams();
    const tag = s.of('t', { log: 'a' }, 0);
    for (const record of [k8s(undefined), k8s(7), { log: 'x', kubernetes: null }, { log: 'x', kubernetes: 'pod' }, { log: 'x', kubernetes: new Uint8Array(3) }]) {
      expect(s.of('t', record, 1)).toBe(tag);
    }
    s.of('t', k8s('p', 5, ['c']), 2);
    // id: forward:<input>:<tag>:<namespace>/<pod>/<container> = 'forward:fw:t:' + '' + '/p/' + ''
    expect(opened.map((o) => o['id'])).toEqual(['forward:fw:t', 'forward:fw:t:/p/']);
    expect(opened[1]).toMatchObject({ pod: 'p', namespace: '' });
  });

  it('the last stream is remembered only for its own key: another tag, then back, gives each its own', () => {
    const { s, lines } = streams();
    s.of('a', { log: '1' }, 0).push({ log: '1' });
    s.of('b', { log: '2' }, 0).push({ log: '2' });
    s.of('a', { log: '3' }, 0).push({ log: '3' });
    expect(lines).toEqual([
      ['forward:fw:a', '1'],
      ['forward:fw:b', '2'],
      ['forward:fw:a', '3'],
    ]);
  });
});

describe('ForwardStreams.sweep', () => {
  it('ends the streams with no record for stream_idle_timeout (exactly that long included), keeps the others', () => {
    const { s, ended } = streams(100);
    s.of('old', { log: 'x' }, 0);
    s.of('new', { log: 'x' }, 50);
    s.sweep(99); // old idle 99 ms: kept
    expect(ended).toEqual([]);
    s.sweep(100); // old idle 100 ms: ended; new idle 50 ms: kept
    expect(ended).toEqual(['forward:fw:old']);
    expect(s.size).toBe(1);
  });

  it('a record keeps its stream alive, also through the remembered last stream', () => {
    const { s, ended } = streams(100);
    s.of('a', { log: 'x' }, 0);
    s.of('a', { log: 'x' }, 80); // the same stream, by the one-entry cache: active at 80
    s.sweep(150);
    expect(ended).toEqual([]);
    s.sweep(180);
    expect(ended).toEqual(['forward:fw:a']);
  });

  it('after its stream ended, the tag opens a new one (not the ended one remembered as last)', () => {
    const { s, opened, ended } = streams(10);
    const first = s.of('a', { log: 'x' }, 0);
    s.sweep(10);
    expect(ended).toEqual(['forward:fw:a']);
    const second = s.of('a', { log: 'x' }, 11);
    expect(second).not.toBe(first);
    expect(opened).toHaveLength(2);
    expect(s.size).toBe(1);
  });
});

describe('ForwardStreams bound', () => {
  it(`at ${MAX_STREAMS} open streams a new one ends the one idle longest, whatever order they were opened in`, () => {
    const { s, ended } = streams(1_000_000);
    // t0 … t4095 active at 10 … 4105, except t7, active at 1: the idlest
    for (let i = 0; i < MAX_STREAMS; i++) s.of(`t${i}`, { log: 'x' }, i === 7 ? 1 : 10 + i);
    expect([s.size, ended]).toEqual([MAX_STREAMS, []]);
    s.of('new', { log: 'x' }, 5000);
    expect(ended).toEqual(['forward:fw:t7']);
    expect(s.size).toBe(MAX_STREAMS);
    expect(MAX_STREAMS).toBe(4096);
  });
});

/**
 * The streams contract at the router: each stream gets its own parser state,
 * made once (not per line), handed to the parser with every line, and closed
 * once by end(). The parsers here record what they are handed; the real
 * parsers' per-stream behaviour is tested beside them (mirror, gc).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { EventBus } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import type { StreamInfo } from '../inputs/types.js';
import { compileConfigRules, RuleSet } from '../rules/index.js';
import { MetricRegistry } from '../metrics/series.js';
import { createRouter, type Parsers } from './router.js';
import { LineResult, type ParserStream, type SourceParser } from './types.js';

interface Recorded extends ParserStream {
  readonly lines: string[];
}

function recorder(name: string, log: string[]): SourceParser<Recorded> {
  return {
    openStream: (info: StreamInfo) => {
      log.push(`open ${name} ${info.id}`);
      return { info, lines: [] };
    },
    parse: (line, start, stream) => {
      stream!.lines.push(line.slice(start));
      return LineResult.Matched;
    },
    endStream: (stream) => log.push(`end ${name} ${stream.info.id} after ${stream.lines.join(',')}`),
  };
}

function setup() {
  const log: string[] = [];
  const stateless: SourceParser = { parse: () => LineResult.Matched };
  const parsers: Parsers = {
    nginx: stateless,
    gunicorn: stateless,
    repomirrorworker: recorder('mirror', log),
    gcworker: recorder('gc', log),
    'oc-mirror': stateless,
  };
  const registry = new MetricRegistry();
  return { log, parsers, registry, lines: (source: string, result: string) => registry.counter('quay_log_exporter_lines_total').at(source, result).value };
}

describe('router: streams', () => {
  it('supervisord: state per stream and parser, made on its first line, ended once', () => {
    const { log, parsers, registry, lines } = setup();
    const router = createRouter('supervisord', parsers, registry);
    const a = router.open({ id: 'a', pod: 'p1' });
    const b = router.open({ id: 'b', pod: 'p2' });
    a.line('repomirrorworker stdout | a1');
    b.line('repomirrorworker stdout | b1');
    a.line('repomirrorworker stdout | a2');
    a.line('gcworker stdout | g1');
    b.line('nginx stdout | n1');
    b.line('repomirrorworker stdout | b2');
    // 3 states made (a/mirror, b/mirror, a/gc), each once, on its first line; nginx keeps none.
    expect(log).toEqual(['open mirror a', 'open mirror b', 'open gc a']);
    a.end();
    a.end(); // a second end() closes nothing more
    expect(log.slice(3)).toEqual(['end mirror a after a1,a2', 'end gc a after g1']);
    b.end();
    expect(log.slice(5)).toEqual(['end mirror b after b1,b2']);
    // A line after end() starts afresh.
    a.line('repomirrorworker stdout | a3');
    expect(log.slice(6)).toEqual(['open mirror a']);
    // 5 mirror + 1 gc + 1 nginx lines, each counted once.
    expect(lines('repomirrorworker', 'matched')).toBe(5);
    expect(lines('gcworker', 'matched')).toBe(1);
    expect(lines('nginx', 'matched')).toBe(1);
  });

  it('one source: the line from byte 0, its stream each time', () => {
    const { log, parsers, registry, lines } = setup();
    const router = createRouter('repomirrorworker', parsers, registry);
    const s = router.open({ id: 's' });
    s.line('x');
    s.line('y');
    s.end();
    expect(log).toEqual(['open mirror s', 'end mirror s after x,y']);
    expect(lines('repomirrorworker', 'matched')).toBe(2);
  });

  it('programs of one name length go each to their own source; an unknown one of that length is other/ignored', () => {
    const { log, parsers, registry, lines } = setup();
    const s = createRouter('supervisord', parsers, registry).open({ id: 's' });
    s.line('namespacegcworker stdout | ns1'); // 17 characters, gcworker
    s.line('gunicorn-registry stdout | r1'); // 17, gunicorn
    s.line('buildlogsarchiver stdout | x'); // 17, no parser: other/ignored
    s.line('repomirrorworker stdout | m1'); // 16, repomirrorworker
    s.line('gunicorn-secscan stdout | sc1'); // 16, gunicorn
    s.line('nginxx stdout | n'); // 6: no program of that length
    s.line('gcworke stdout | g'); // 7: none either
    s.end();
    expect(log).toEqual(['open gc s', 'open mirror s', 'end mirror s after m1', 'end gc s after ns1']);
    expect(lines('gcworker', 'matched')).toBe(1);
    expect(lines('gunicorn', 'matched')).toBe(2);
    expect(lines('repomirrorworker', 'matched')).toBe(1);
    expect(lines('other', 'ignored')).toBe(3);
  });
});

describe('router: what records out is told (observe), and rules on programs no parser reads', () => {
  it('each line once, with the source that read it and its result', () => {
    const { parsers, registry, lines } = setup();
    const lib = PatternLibrary.bundled();
    const config = parseConfig({ shipped_rules: false, rules: [{ name: 'r', programs: 'storagereplication', match: 'copied', metrics: [{ name: 'r_total', type: 'counter' }] }] });
    const rules = new RuleSet(compileConfigRules(config, lib, registry), lib, new EventBus());
    const unprefixed = {
      supervisord: { parse: (l: string) => (l.startsWith('SV ') ? LineResult.Matched : LineResult.Unmatched) },
      container: { parse: (l: string) => (l.startsWith('CT ') ? LineResult.Matched : LineResult.Unmatched) },
    };
    const seen: string[] = [];
    const observe = (source: string, result: LineResult, line: string) => seen.push(`${source} ${['matched', 'unmatched', 'ignored'][result]} ${line}`);
    const s = createRouter('supervisord', parsers, registry, unprefixed, rules, observe).open({ id: 's' });
    for (const l of ['SV spawned', 'CT starting', 'what', 'storagereplication stdout | copied', 'storagereplication stdout | nothing', 'nosuchprogram stdout | x', 'gcworker stdout | g'])
      s.line(l);
    expect(seen).toEqual([
      'supervisord matched SV spawned',
      'container matched CT starting',
      'other unmatched what',
      // Only a rule reads storagereplication: matched when it matched, else ignored, under other.
      'other matched storagereplication stdout | copied',
      'other ignored storagereplication stdout | nothing',
      'other ignored nosuchprogram stdout | x',
      'gcworker matched gcworker stdout | g',
    ]);
    expect([lines('supervisord', 'matched'), lines('container', 'matched'), lines('other', 'unmatched'), lines('other', 'matched'), lines('other', 'ignored')]).toEqual([1, 1, 1, 1, 2]);
    expect(registry.definedCounter('r_total').at().value).toBe(1);
  });

  it('one source: its rules read every line from byte 0, told whether the parser matched it', () => {
    const { parsers, registry, lines } = setup();
    const lib = PatternLibrary.bundled();
    const config = parseConfig({
      shipped_rules: false,
      rules: [
        { name: 'a', sources: 'oc-mirror', match: '^x', metrics: [{ name: 'a_total', type: 'counter' }] },
        { name: 'b', sources: 'oc-mirror', include_matched: true, match: '^x', metrics: [{ name: 'b_total', type: 'counter' }] },
      ],
    });
    const rules = new RuleSet(compileConfigRules(config, lib, registry), lib, new EventBus());
    const seen: string[] = [];
    const s = createRouter('oc-mirror', parsers, registry, undefined, rules, (source, result, line) => seen.push(`${source} ${result} ${line}`)).open({ id: 's' });
    s.line('x1');
    // The stateless oc-mirror parser here matches every line: only b (include_matched) reads it.
    expect(registry.definedCounter('a_total').at().value).toBe(0);
    expect(registry.definedCounter('b_total').at().value).toBe(1);
    expect(seen).toEqual([`oc-mirror ${LineResult.Matched} x1`]);
    expect(lines('oc-mirror', 'matched')).toBe(1);
  });

  it('without records out, unprefixed lines are counted all the same (nothing to tell)', () => {
    const { parsers, registry, lines } = setup();
    const unprefixed = {
      supervisord: { parse: (l: string) => (l.startsWith('SV ') ? LineResult.Matched : LineResult.Unmatched) },
      container: { parse: (l: string) => (l.startsWith('CT ') ? LineResult.Matched : LineResult.Unmatched) },
    };
    const s = createRouter('supervisord', parsers, registry, unprefixed).open({ id: 's' });
    for (const l of ['SV spawned', 'CT starting', 'what']) s.line(l);
    expect([lines('supervisord', 'matched'), lines('container', 'matched'), lines('other', 'unmatched')]).toEqual([1, 1, 1]);
  });

  it('a parser without state of its own is handed the stream it reads (its events carry the pod)', () => {
    const { parsers, registry } = setup();
    const handed: unknown[] = [];
    const s = createRouter('supervisord', { ...parsers, nginx: { parse: (_l, _s, st) => (handed.push(st), LineResult.Matched) } }, registry).open({ id: 'f', pod: 'quay-0' });
    s.line('nginx stdout | x');
    expect(handed).toEqual([{ info: { id: 'f', pod: 'quay-0' } }]);
  });
});

/**
 * The rule compiler and engine, with rules written as a user writes them.
 * Values were counted by hand from the lines fed (comments say how).
 */
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '../config/load.js';
import { EventBus, type QuayEvent } from '../events.js';
import { PatternLibrary } from '../grok/index.js';
import { silentLogger } from '../log.js';
import { MetricRegistry, OVERFLOW } from '../metrics/series.js';
import { Pipeline } from '../pipeline.js';
import { analyseCaptures } from './cardinality.js';
import { compileRules } from './compile.js';
import { describeMatch, RuleSet } from './engine.js';
import { compileConfigRules, readRuleFile, ruleSources, shippedRules } from './index.js';
import { LineFields } from '../records/fields.js';

const open: Pipeline[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.shutdown();
});

function pipeline(rules: unknown[], extra: Record<string, unknown> = {}) {
  const p = new Pipeline(parseConfig({ state_dir: '/nonexistent', shipped_rules: false, rules, ...extra }), { log: silentLogger });
  open.push(p);
  const events: QuayEvent[] = [];
  p.events.add({ emit: (e) => events.push(e) });
  return { p, events, feed: (source: 'supervisord' | 'nginx', ...lines: string[]) => lines.forEach((l) => p.handler(source)(l)) };
}

/** The problems a config's rules are refused with. */
function problems(rules: unknown[], extra: Record<string, unknown> = {}): string[] {
  try {
    const config = parseConfig({ shipped_rules: false, rules, ...extra });
    const lib = PatternLibrary.bundled();
    for (const [n, r] of Object.entries((extra['grok'] as { patterns?: Record<string, string> } | undefined)?.patterns ?? {})) lib.define(n, r);
    compileConfigRules(config, lib, new MetricRegistry());
    return [];
  } catch (err) {
    // Every problem ends with the rule's name; checked once below, stripped here.
    if (err instanceof ConfigError) return err.problems.map((p) => p.replace(/ \[rule [a-z0-9_]+\]$/, ''));
    throw err;
  }
}

const H = (level: string, logger: string) => `2026-11-30 09:00:00,000 [7] [${level}] [${logger}] `;

describe('metrics from a rule', () => {
  it('counter +1, counter + a captured number, gauge set, histogram observe, from one rule', () => {
    const { p, feed } = pipeline([
      {
        name: 'builds',
        programs: 'builder',
        match: 'build %{WORD:phase} took %{NUMBER:seconds:float}s, %{INT:bytes:int} bytes, queue %{INT:queue:int}',
        metrics: [
          { name: 'b_total', type: 'counter', labels: ['phase'] },
          { name: 'b_bytes_total', type: 'counter', value: 'bytes' },
          { name: 'b_queue', type: 'gauge', value: 'queue' },
          { name: 'b_seconds', type: 'histogram', value: 'seconds', buckets: [1, 10] },
        ],
      },
    ]);
    feed(
      'supervisord',
      'builder stdout | build push took 0.5s, 100 bytes, queue 7',
      'builder stdout | build push took 12s, 50 bytes, queue 3',
      'builder stdout | build pull took 3s, -5 bytes, queue 4',
    );
    const r = p.registry;
    expect(r.definedCounter('b_total').at('push').value).toBe(2);
    expect(r.definedCounter('b_total').at('pull').value).toBe(1);
    // 100 + 50; the -5 of the third line is not added (a counter only goes up).
    expect(r.definedCounter('b_bytes_total').at().value).toBe(150);
    // the last value set: 4
    expect(r.definedCounter('b_queue').at().value).toBe(4);
    const h = r.definedHistogram('b_seconds').at();
    // 0.5 → ≤1, 3 → ≤10, 12 → +Inf
    expect(Array.from(h.counts)).toEqual([1, 1, 1]);
    expect(h.sum).toBe(15.5);
  });

  it('const labels, a label default, and the program as a label', () => {
    const { p, feed } = pipeline([
      {
        name: 'hits',
        programs: ['w1', 'w2'],
        match: 'hit(?: on (?<shard>[a-z]))?',
        metrics: [{ name: 'hits_total', type: 'counter', labels: { program: 'program', shard: { field: 'shard', default: 'none' } }, const_labels: { team: 'sre' } }],
      },
    ]);
    feed('supervisord', 'w1 stdout | hit on a', 'w2 stderr | hit', 'w2 stderr | hit', 'w3 stdout | hit on a');
    const f = p.registry.definedCounter('hits_total');
    expect(f.def.labels).toEqual(['program', 'shard', 'team']);
    expect(f.at('w1', 'a', 'sre').value).toBe(1);
    expect(f.at('w2', 'none', 'sre').value).toBe(2);
    expect(f.slots.size).toBe(2); // w3 is not named by the rule
  });

  it('level and logger select Python lines before the pattern is tried', () => {
    const { p, feed } = pipeline([{ name: 'e', programs: 'x', level: ['ERROR', 'CRITICAL'], logger: 'a.b', match: 'boom', metrics: [{ name: 'e_total', type: 'counter', labels: ['level'] }] }]);
    feed('supervisord', `x stdout | ${H('ERROR', 'a.b')}boom`, `x stdout | ${H('CRITICAL', 'a.b')}boom`, `x stdout | ${H('INFO', 'a.b')}boom`, `x stdout | ${H('ERROR', 'c')}boom`, 'x stdout | boom');
    const f = p.registry.definedCounter('e_total');
    expect(f.at('ERROR').value).toBe(1);
    expect(f.at('CRITICAL').value).toBe(1);
    expect(f.slots.size).toBe(2);
  });

  it('each_match counts every match in the line; a plain rule once per line', () => {
    const { p, feed } = pipeline([
      { name: 'each', programs: 'x', each_match: true, match: 'id=(?<id>[0-9])', metrics: [{ name: 'each_total', type: 'counter' }] },
      { name: 'once', programs: 'x', match: 'id=(?<id>[0-9])', metrics: [{ name: 'once_total', type: 'counter' }] },
    ]);
    feed('supervisord', 'x stdout | id=1 id=2 id=3', 'x stdout | id=4');
    expect(p.registry.definedCounter('each_total').at().value).toBe(4); // 3 + 1
    expect(p.registry.definedCounter('once_total').at().value).toBe(2);
    expect(p.registry.counter('quay_log_exporter_rule_matches_total').at('each').value).toBe(4);
  });

  it('each_match ends on a pattern that can match empty text, and counts each match once', () => {
    const { p, feed } = pipeline([{ name: 'z', programs: 'x', each_match: true, match: '(?<d>[0-9]*)', metrics: [{ name: 'z_total', type: 'counter' }] }]);
    // "12 3": "12", then "" at the space, "3", "" at the end of the line = 4 matches.
    feed('supervisord', 'x stdout | 12 3');
    expect(p.registry.definedCounter('z_total').at().value).toBe(4);
  });

  it('sees lines a built-in parser matched only with include_matched; built-in counting is unchanged', () => {
    const access =
      '10.128.2.14 (-) - - [22/Nov/2026:10:15:32 +0000] "GET /v2/acme/app/manifests/latest HTTP/1.1" 200 5242880 "-" "containers/5.30.0 (github.com/containers/image)" (1.532 512 1.530)';
    const rule = (name: string, include: boolean) => ({
      name,
      sources: 'nginx',
      include_matched: include,
      match: '"%{WORD:method} /v2/',
      metrics: [{ name: `${name}_total`, type: 'counter', labels: ['method'] }],
    });
    // nginx counts traffic (with no input configured, `auto` would pick gunicorn and nginx access lines would be `ignored`).
    const { p, feed } = pipeline([rule('with', true), rule('without', false)], { traffic: { source: 'nginx' } });
    feed('supervisord', `nginx stdout | ${access}`);
    feed('nginx', access, 'not an nginx line "GET /v2/');
    // with: the two access lines the nginx parser matched; the garbage line is unmatched by the parser, so both rules read it.
    expect(p.registry.definedCounter('with_total').at('GET').value).toBe(3);
    expect(p.registry.definedCounter('without_total').at('GET').value).toBe(1);
    const lines = p.registry.counter('quay_log_exporter_lines_total');
    expect(lines.at('nginx', 'matched').value).toBe(2);
    expect(lines.at('nginx', 'unmatched').value).toBe(1);
    expect(p.registry.counter('quay_registry_requests_total').at('pull_manifest', 'acme', 'app', '200').value).toBe(2);
  });

  it('a program no rule names has no rule table: its lines never reach the rules', () => {
    const { p } = pipeline([{ name: 'a', programs: 'storagereplication', match: 'x', metrics: [{ name: 'a_total', type: 'counter' }] }]);
    expect(p.rules.forProgram('storagereplication')?.rules).toHaveLength(1);
    expect(p.rules.forProgram('nginx')).toBeUndefined();
    expect(p.rules.forProgram('gcworker')).toBeUndefined();
  });

  it('capture labels go through the series cap: past it they fold into __overflow__, constants stay', () => {
    const { p, feed } = pipeline(
      [{ name: 'c', programs: 'x', match: 'user (?<u>[a-z]+)', metrics: [{ name: 'c_total', type: 'counter', labels: ['u'], const_labels: { k: 'v' } }] }],
      { limits: { max_series_per_metric: 2 } },
    );
    feed('supervisord', 'x stdout | user a', 'x stdout | user b', 'x stdout | user c', 'x stdout | user d');
    const f = p.registry.definedCounter('c_total');
    expect(f.at('a', 'v').value).toBe(1);
    expect(f.at(OVERFLOW, 'v').value).toBe(2); // c and d
    expect(p.registry.counter('quay_log_exporter_series_overflow_total').at('c_total').value).toBe(2);
  });

  it('an event point: tags, typed fields, const tags, the Python line time', () => {
    const { p, events } = pipeline(
      [
        {
          name: 'ev',
          programs: 'x',
          match: 'pushed %{INT:bytes:int} bytes to (?<loc>[a-z]+) as %{NOTSPACE:digest}',
          event: { measurement: 'my_push', tags: ['loc'], const_tags: { kind: 'push' } },
        },
      ],
      { python_log_timezone: '+02:00' },
    );
    const stream = { id: '/var/log/pods/q_quay-0_1/quay/0.log', pod: 'quay-0', namespace: 'q' };
    p.openStream('supervisord', stream).line(`x stdout | ${H('INFO', 'w')}pushed 42 bytes to eu as sha256:ab`);
    expect(events).toEqual([
      // 09:00 at +02:00 is 07:00 UTC; the stream (its pod) travels with the event
      { measurement: 'my_push', time: Date.UTC(2026, 10, 30, 7, 0, 0), tags: { kind: 'push', loc: 'eu' }, fields: { bytes: 42, digest: 'sha256:ab' }, stream },
    ]);
  });
});

describe('event tags by Telegraf modifier', () => {
  it('without a tags list, :tag captures are the tags and the rest are fields', () => {
    const { p, events } = pipeline([{ name: 't', programs: 'x', match: '%{WORD:zone:tag} took %{INT:ms:int} for %{NOTSPACE:who}', event: { measurement: 'm' } }]);
    p.handler('supervisord')('x stdout | eu took 12 for bob');
    expect(events.map((e) => [e.tags, e.fields])).toEqual([[{ zone: 'eu' }, { ms: 12, who: 'bob' }]]);
  });
});

describe('event points: time and fields', () => {
  it('a :ts- capture is the time; without one, or when it does not parse, the Python header; a point with no field counts 1', () => {
    const { p, events } = pipeline([
      { name: 'ts', programs: 'x', match: 'at %{WORD:t:ts-epoch} job %{WORD:job:tag} done', event: { measurement: 'j' } },
      { name: 'opt', programs: 'y', match: 'took (?:%{INT:ms:int}ms|forever)', event: { measurement: 'o', fields: ['ms'] } },
    ]);
    const feed = p.handler('supervisord');
    // 1764493200 s since the epoch = 2025-11-30 09:00:00 UTC.
    feed(`x stdout | ${H('INFO', 'w')}at 1764493200 job build done`);
    // "never" is no epoch: the header's 2026-11-30 09:00:00 (UTC, the default zone).
    feed(`x stdout | ${H('INFO', 'w')}at never job push done`);
    // ms took part: a field; it did not ("forever"): no field, so count = 1.
    feed(`y stdout | ${H('INFO', 'w')}took 12ms`);
    feed(`y stdout | ${H('INFO', 'w')}took forever`);
    // The handler's one anonymous stream travels with each point.
    const stream = { id: 'anonymous' };
    expect(events).toEqual([
      { measurement: 'j', time: 1_764_493_200_000, tags: { job: 'build' }, fields: { count: 1 }, stream },
      { measurement: 'j', time: Date.UTC(2026, 10, 30, 9, 0, 0), tags: { job: 'push' }, fields: { count: 1 }, stream },
      { measurement: 'o', time: Date.UTC(2026, 10, 30, 9, 0, 0), tags: {}, fields: { ms: 12 }, stream },
      { measurement: 'o', time: Date.UTC(2026, 10, 30, 9, 0, 0), tags: {}, fields: { count: 1 }, stream },
    ]);
  });
});

describe('values and optional fields', () => {
  it('a rule that names a program both by name and by its source reads each line once', () => {
    const { p, feed } = pipeline([{ name: 'twice', programs: 'gcworker', sources: 'gcworker', match: 'tick', metrics: [{ name: 'ticks_total', type: 'counter' }] }]);
    feed('supervisord', 'gcworker stdout | tick', 'namespacegcworker stdout | tick');
    // One line of gcworker (named both ways) and one of namespacegcworker (by source): 2, not 3.
    expect(p.registry.definedCounter('ticks_total').at().value).toBe(2);
  });

  it('a :duration capture is read as Go duration seconds; a text field that did not take part is left out', () => {
    const { p, events } = pipeline([
      {
        name: 'd',
        programs: 'x',
        match: 'took %{NOTSPACE:d:duration}(?: by (?<who>[a-z]+))?',
        metrics: [{ name: 'd_seconds', type: 'histogram', value: 'd', buckets: [60, 120] }],
        event: { measurement: 'dm', fields: ['d', 'who'] },
      },
    ]);
    const feed = p.handler('supervisord');
    feed(`x stdout | ${H('INFO', 'w')}took 1m30s by bob`);
    feed(`x stdout | ${H('INFO', 'w')}took 2s`);
    // 1m30s = 90 s (≤ 120), 2 s (≤ 60): one in each of the first two buckets, sum 92.
    const h = p.registry.definedHistogram('d_seconds').at();
    expect([Array.from(h.counts), h.sum]).toEqual([[1, 1, 0], 92]);
    expect(events.map((e) => e.fields)).toEqual([{ d: 90, who: 'bob' }, { d: 2 }]);
  });
});

describe('refused rules: every problem, with the rule and key path', () => {
  const base = { name: 'r', programs: 'x' };

  it('names a field the pattern does not capture, and a non-number value', () => {
    expect(
      problems([{ ...base, match: '%{WORD:a}', metrics: [{ name: 'g', type: 'gauge', value: 'a', labels: { l: 'b' } }] }]),
    ).toEqual([
      'rules[0].metrics[0].labels.l: field "b" is not captured by the pattern (fields: a, program, level, logger)',
      'rules[0].metrics[0].value: field "a" is not a number: capture it as %{NAME:a:int}, :float or :duration',
    ]);
  });

  it('refuses unbounded labels (address, path, uuid, free text, number) unless accepted', () => {
    const m = (label: string) => [{ name: 'u_total', type: 'counter', labels: [label] }];
    const cases: Array<[string, string]> = [
      ['%{IP:f}', '%{IP}'],
      ['%{IPORHOST:f}', '%{IPORHOST}'],
      ['%{URIPATH:f}', '%{URIPATH}'],
      ['%{UUID:f}', '%{UUID}'],
      ['%{GREEDYDATA:f}', '%{GREEDYDATA}'],
      ['%{INT:f:int}', 'a number (:int)'],
      ['(?<f>.*)', '(?<f>…) matches open-ended text'],
      ['(?<f>[^ ]+)', '(?<f>…) matches open-ended text'],
      ['(?<f>%{HOSTNAME})', '(?<f>…) uses %{HOSTNAME}'],
    ];
    for (const [match, why] of cases) {
      expect(problems([{ ...base, match, metrics: m('f') }]), match).toEqual([
        `rules[0].metrics[0].labels.f: field "f" would make an unbounded label (${why}); capture it with a bounded pattern, or add it to accept_unbounded if you know its values are few`,
      ]);
      expect(problems([{ ...base, match, accept_unbounded: ['f'], metrics: m('f') }]), match).toEqual([]);
    }
    // Bounded: a word, a level, an alternation, a fixed-size number.
    for (const match of ['%{WORD:f}', '%{LOGLEVEL:f}', '(?<f>copy|verify)', '(?<f>[0-9]{3})', '(?<f>[a-z_-]+)']) {
      expect(problems([{ ...base, match, metrics: m('f') }]), match).toEqual([]);
    }
  });

  it('follows a user pattern to the unbounded name it uses', () => {
    expect(
      problems([{ ...base, match: '%{CLIENT:c}', metrics: [{ name: 'c_total', type: 'counter', labels: ['c'] }] }], { grok: { patterns: { CLIENT: 'from %{IPORHOST}' } } }),
    ).toEqual([
      'rules[0].metrics[0].labels.c: field "c" would make an unbounded label (%{CLIENT} uses %{IPORHOST}); capture it with a bounded pattern, or add it to accept_unbounded if you know its values are few',
    ]);
  });

  it('event tags are checked like labels; fields may be anything', () => {
    expect(problems([{ ...base, match: '%{IP:ip} %{WORD:w}', event: { measurement: 'm', tags: ['ip', 'w'], fields: ['ip', 'nope'] } }])).toEqual([
      'rules[0].event.tags[0]: field "ip" would make an unbounded label (%{IP}); capture it with a bounded pattern, or add it to accept_unbounded if you know its values are few',
      'rules[0].event.fields[1]: field "nope" is not captured by the pattern (fields: ip, w, program, level, logger)',
    ]);
  });

  it('metric shape: built-in name, counter suffix, gauge without value, buckets order, conflicting shapes across rules', () => {
    expect(
      problems([
        { ...base, match: 'a', metrics: [{ name: 'quay_registry_pulls_total', type: 'counter' }, { name: 'n', type: 'counter' }, { name: 'g', type: 'gauge' }] },
        { name: 's', programs: 'x', match: '%{INT:v:int}', metrics: [{ name: 'h', type: 'histogram', value: 'v', buckets: [5, 1] }] },
        { name: 't', programs: 'x', match: '(?<k>a|b)', metrics: [{ name: 'shared_total', type: 'counter', labels: ['k'] }] },
        { name: 'u', programs: 'x', match: 'c', metrics: [{ name: 'shared_total', type: 'counter' }] },
      ]),
    ).toEqual([
      'rules[0].metrics[0].name: quay_registry_pulls_total is a built-in metric; choose another name',
      "rules[0].metrics[1].name: a counter's name ends in _total (n_total)",
      'rules[0].metrics[2].value: a gauge needs the field whose number it records',
      'rules[1].metrics[0].buckets: bounds must be ascending',
      'rules[3].metrics[0].labels: shared_total has labels [k] in rules[2].metrics[0], here []',
    ]);
  });

  it('the lines, the pattern, the name: no lines named, unknown source, bad grok, a name used twice, nothing made', () => {
    expect(
      problems([
        { name: 'a', match: 'x', metrics: [{ name: 'a_total', type: 'counter' }] },
        { name: 'b', sources: 'ngnix', match: '%{NOPE}', metrics: [] },
        { name: 'a', programs: 'y', match: 'x' },
      ]),
    ).toEqual([
      'rules[0]: name the lines the rule reads with "programs" (supervisord programs) or "sources"',
      'rules[1].sources[0]: "ngnix" is not a source (nginx, gunicorn, repomirrorworker, gcworker, oc-mirror)',
      'rules[1]: the rule makes nothing: give "metrics" or "event"',
      expect.stringMatching(/^rules\[1\]\.match: unknown pattern "NOPE"/),
      'rules[2].name: "a" is also the name of rules[0]',
      'rules[2]: the rule makes nothing: give "metrics" or "event"',
    ]);
  });

  it('names the rule in every problem; a leading ^ anchors at the program text, not with each_match', () => {
    const config = parseConfig({ shipped_rules: false, rules: [{ name: 'my_rule', programs: 'x', each_match: true, match: '^%{WORD:a}', metrics: [{ name: 'g', type: 'gauge' }] }] });
    let got: string[] = [];
    try {
      compileConfigRules(config, PatternLibrary.bundled(), new MetricRegistry());
    } catch (err) {
      got = (err as ConfigError).problems;
    }
    expect(got).toEqual([
      'rules[0].each_match: a rule anchored at the start matches once per line; drop anchor (or the leading ^) or each_match [rule my_rule]',
      'rules[0].metrics[0].value: a gauge needs the field whose number it records [rule my_rule]',
    ]);
  });

  it('a leading ^ matches right after the supervisord prefix, and only there', () => {
    const { p, feed } = pipeline([{ name: 'a', programs: 'x', match: '^start %{WORD:w}', metrics: [{ name: 'a_total', type: 'counter', labels: ['w'] }] }]);
    feed('supervisord', 'x stdout | start one', 'x stdout | not start two', 'x stderr | start three');
    const f = p.registry.definedCounter('a_total');
    expect([...f.slots.values()].map((s) => [s.attributes['w'], s.value])).toEqual([
      ['one', 1],
      ['three', 1],
    ]);
  });

  it('a refused rule leaves no metric defined', () => {
    const registry = new MetricRegistry();
    const config = parseConfig({ shipped_rules: false, rules: [{ name: 'a', programs: 'x', match: 'x', metrics: [{ name: 'ok_total', type: 'counter' }, { name: 'bad', type: 'gauge' }] }] });
    expect(() => compileConfigRules(config, PatternLibrary.bundled(), registry)).toThrow(ConfigError);
    expect([...registry.definitions()].some(([n]) => n === 'ok_total')).toBe(false);
  });

  it('schema problems carry the key path too (check-config exit 2)', () => {
    expect(() => parseConfig({ rules: [{ name: 'Bad Name', programs: 'x', match: 'x', metrics: [{ name: 'x_total', type: 'summary' }] }] })).toThrow(
      /rules\[0\]\.name: lower-case snake_case[\s\S]*rules\[0\]\.metrics\[0\]\.type/,
    );
  });
});

describe('src/rules/example.yaml', () => {
  it('compiles: its 3 rules and their 4 metrics', () => {
    const registry = new MetricRegistry();
    const rules = compileRules(readRuleFile(fileURLToPath(new URL('./example.yaml', import.meta.url))), PatternLibrary.bundled(), registry);
    expect(rules.map((r) => r.name)).toEqual(['builder_phases', 'quota_calculation', 'nginx_limit_req']);
    expect(rules.flatMap((r) => r.metrics.map((m) => m.metric))).toEqual([
      'site_builder_phases_total',
      'site_quota_calculation_seconds',
      'site_nginx_rate_limited_total',
      'site_nginx_rate_limit_excess',
    ]);
  });
});

describe('analyseCaptures', () => {
  it('reads %{NAME:field:type} and every inline capture form', () => {
    const lib = PatternLibrary.bundled();
    const got = analyseCaptures(lib, "%{WORD:a} (?<b>x|y) (?'c'.+) (?P<d>[0-9]{2}) %{NUMBER:e:float}");
    expect([...got.values()].map((c) => [c.field, c.unbounded])).toEqual([
      ['a', undefined],
      ['e', 'a number (:float)'],
      ['b', undefined],
      ['c', '(?<c>…) matches open-ended text'],
      ['d', undefined],
    ]);
  });
});

describe('metric shape across rules and within one', () => {
  it('refuses a longer label list second, another kind, other buckets (named or default); takes the same shape in another order', () => {
    expect(
      problems([
        { name: 'a', programs: 'x', match: '(?<k>a|b)', metrics: [{ name: 's_total', type: 'counter' }] },
        // [] first, [k] second: the longer list second is refused too.
        { name: 'b', programs: 'x', match: '(?<k>a|b)', metrics: [{ name: 's_total', type: 'counter', labels: ['k'] }] },
        { name: 'c', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 's_total', type: 'gauge', value: 'n' }] },
        { name: 'd', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 'h', type: 'histogram', value: 'n', buckets: [1, 2] }] },
        { name: 'e', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 'h', type: 'histogram', value: 'n', buckets: [1, 3] }] },
        // No buckets: the 11 defaults, not [1, 2].
        { name: 'f', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 'h', type: 'histogram', value: 'n' }] },
        // The same buckets again: no problem.
        { name: 'g', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 'h', type: 'histogram', value: 'n', buckets: [1, 2] }] },
      ]),
    ).toEqual([
      'rules[1].metrics[0].labels: s_total has labels [] in rules[0].metrics[0], here [k]',
      'rules[2].metrics[0].type: s_total is a counter in rules[0].metrics[0]',
      'rules[4].metrics[0].buckets: h has other buckets in rules[3].metrics[0]',
      'rules[5].metrics[0].buckets: h has other buckets in rules[3].metrics[0]',
    ]);
  });

  it('two rules of one metric with its labels in another order: each value under its own label', () => {
    const { p, feed } = pipeline([
      { name: 'a', programs: 'x', match: 'A (?<z>[a-z]) (?<y>[a-z])', metrics: [{ name: 'zy_total', type: 'counter', labels: ['z', 'y'] }] },
      { name: 'b', programs: 'x', match: 'B (?<y>[a-z]) (?<z>[a-z])', metrics: [{ name: 'zy_total', type: 'counter', labels: ['y', 'z'] }] },
    ]);
    // A p q: z=p y=q; B q p: y=q z=p: the same series (labels in the first rule's order z, y) twice.
    feed('supervisord', 'x stdout | A p q', 'x stdout | B q p');
    const f = p.registry.definedCounter('zy_total');
    expect(f.def.labels).toEqual(['z', 'y']);
    expect([...f.slots.values()].map((s) => [s.attributes, s.value])).toEqual([[{ z: 'p', y: 'q' }, 2]]);
  });

  it('a label named by both labels and const_labels; more than 5 labels; exactly 5 with a constant', () => {
    const match = '%{WORD:a} %{WORD:b} %{WORD:c} %{WORD:d} %{WORD:e} %{WORD:f}';
    expect(
      problems([
        { name: 'r', programs: 'x', match, metrics: [{ name: 'k_total', type: 'counter', labels: ['a'], const_labels: { a: 'v' } }] },
        { name: 's', programs: 'x', match, metrics: [{ name: 'six_total', type: 'counter', labels: ['a', 'b', 'c', 'd', 'e', 'f'] }] },
        { name: 't', programs: 'x', match, metrics: [{ name: 'six2_total', type: 'counter', labels: ['a', 'b', 'c', 'd', 'e'], const_labels: { g: '1' } }] },
        { name: 'u', programs: 'x', match, metrics: [{ name: 'five_total', type: 'counter', labels: ['a', 'b', 'c', 'd'], const_labels: { g: '1' } }] },
      ]),
    ).toEqual([
      'rules[0].metrics[0].const_labels.a: also a label from a field',
      'rules[1].metrics[0].labels: at most 5 labels (with const_labels), got 6',
      'rules[2].metrics[0].labels: at most 5 labels (with const_labels), got 6',
    ]);
  });

  it('the help text: the rule\'s, or one naming the metric; only capture labels fold', () => {
    const registry = new MetricRegistry();
    compileConfigRules(
      parseConfig({
        shipped_rules: false,
        rules: [
          {
            name: 'r',
            programs: 'x',
            match: '(?<k>a|b)',
            metrics: [
              { name: 'with_help_total', type: 'counter', help: 'Mine.', labels: { k: 'k', p: 'program' }, const_labels: { c: 'v' } },
              { name: 'no_help_total', type: 'counter' },
            ],
          },
        ],
      }),
      PatternLibrary.bundled(),
      registry,
    );
    const defs = new Map(registry.definitions());
    expect(defs.get('with_help_total')).toEqual({ kind: 'counter', help: 'Mine.', labels: ['k', 'p', 'c'], fold: ['k'] });
    expect(defs.get('no_help_total')).toEqual({ kind: 'counter', help: 'Made by a rule from log lines (no_help_total).', labels: [], fold: [] });
  });
});

describe('captures: alternatives, modifiers, line fields', () => {
  it('a field captured in two alternatives is read from the one that took part, as label and as field', () => {
    const { p, events } = pipeline([
      {
        name: 'alt',
        programs: 'x',
        match: '(?:left=(?<side>[a-z]+)|right=(?<side>[a-z]+)) n=%{INT:n:int}',
        metrics: [{ name: 'alt_total', type: 'counter', labels: ['side'], value: 'n' }],
        event: { measurement: 'alt', tags: ['side'] },
      },
    ]);
    const feed = p.handler('supervisord');
    feed(`x stdout | ${H('INFO', 'w')}left=aa n=2`);
    feed(`x stdout | ${H('INFO', 'w')}right=bb n=3`);
    const f = p.registry.definedCounter('alt_total');
    expect([...f.slots.values()].map((s) => [s.attributes['side'], s.value])).toEqual([
      ['aa', 2],
      ['bb', 3],
    ]);
    expect(events.map((e) => [e.tags, e.fields])).toEqual([
      [{ side: 'aa' }, { n: 2 }],
      [{ side: 'bb' }, { n: 3 }],
    ]);
  });

  it(':drop and :measurement captures are no fields: not in an event, not readable by an action', () => {
    const match = '%{WORD:skip:drop} %{WORD:name:measurement} %{INT:n:int}';
    const { p, events } = pipeline([{ name: 'mod', programs: 'x', match, event: { measurement: 'mod' } }]);
    p.handler('supervisord')(`x stdout | ${H('INFO', 'w')}aa bb 7`);
    expect(events.map((e) => [e.tags, e.fields])).toEqual([[{}, { n: 7 }]]);
    expect(problems([{ name: 'r', programs: 'x', match, metrics: [{ name: 'a_total', type: 'counter', labels: ['skip', 'name'] }] }])).toEqual([
      'rules[0].metrics[0].labels.skip: field "skip" is not captured by the pattern (fields: n, program, level, logger)',
      'rules[0].metrics[0].labels.name: field "name" is not captured by the pattern (fields: n, program, level, logger)',
    ]);
  });

  it('a rule that filters on logger alone, or on level alone, reads only Python lines of that logger or level', () => {
    const { p, feed } = pipeline([
      { name: 'lg', programs: 'x', logger: 'a.b', match: 'boom', metrics: [{ name: 'lg_total', type: 'counter', labels: ['level'] }] },
      { name: 'lv', programs: 'x', level: 'ERROR', match: 'boom', metrics: [{ name: 'lv_total', type: 'counter', labels: ['logger'] }] },
    ]);
    feed('supervisord', `x stdout | ${H('INFO', 'a.b')}boom`, `x stdout | ${H('ERROR', 'c')}boom`, `x stdout | ${H('ERROR', 'a.b')}boom`, 'x stdout | boom');
    // lg: the two a.b lines (INFO, ERROR); lv: the two ERROR lines (c, a.b); the bare line: neither.
    expect([...p.registry.definedCounter('lg_total').slots.values()].map((s) => [s.attributes['level'], s.value])).toEqual([
      ['INFO', 1],
      ['ERROR', 1],
    ]);
    expect([...p.registry.definedCounter('lv_total').slots.values()].map((s) => [s.attributes['logger'], s.value])).toEqual([
      ['c', 1],
      ['a.b', 1],
    ]);
  });

  it('level and logger of a line without a Python header are "" (a label default does not apply to line fields)', () => {
    const { p, feed } = pipeline([{ name: 'r', programs: 'x', match: 'go', metrics: [{ name: 'r_total', type: 'counter', labels: ['program', 'level', 'logger'] }] }]);
    feed('supervisord', 'x stdout | go');
    expect([...p.registry.definedCounter('r_total').slots.values()].map((s) => [s.attributes, s.value])).toEqual([[{ program: 'x', level: '', logger: '' }, 1]]);
  });
});

describe('event time without a Python header', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a :ts- capture that parses is the time; one that does not, or none, falls back to the clock', () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 10, 30, 12, 34, 56) });
    const { p, events } = pipeline([
      { name: 'ts', programs: 'x', match: 'at %{WORD:t:ts-epoch} job %{WORD:job:tag}', event: { measurement: 'j' } },
      { name: 'plain', programs: 'y', match: 'job %{WORD:job:tag}', event: { measurement: 'k' } },
    ]);
    const feed = p.handler('supervisord');
    // 1764493200 s = 2025-11-30 09:00:00 UTC; "never" is no epoch and the line has no header: the clock.
    for (const l of ['x stdout | at 1764493200 job a', 'x stdout | at never job b', 'y stdout | job c']) feed(l);
    const now = Date.UTC(2026, 10, 30, 12, 34, 56);
    expect(events.map((e) => [e.measurement, e.time, e.tags])).toEqual([
      ['j', 1_764_493_200_000, { job: 'a' }],
      ['j', now, { job: 'b' }],
      ['k', now, { job: 'c' }],
    ]);
  });
});

describe('describeMatch (grok --rule) shapes', () => {
  const lib = PatternLibrary.bundled();
  const compile = (rule: Record<string, unknown>) =>
    compileRules([{ rule: parseConfig({ shipped_rules: false, rules: [rule] }).rules[0]!, at: 'rules[0]' }], lib, new MetricRegistry())[0]!;

  it('skipped lines carry no metrics; a line the pattern misses is null; no event key for a rule without one', () => {
    const rule = compile({ name: 'r', programs: 'x', level: 'ERROR', logger: 'w', match: 'n=%{INT:n:int}', metrics: [{ name: 'r_total', type: 'counter', value: 'n' }] });
    expect(describeMatch(rule, 'n=1', 0, 'x', lib, 0)).toEqual({ metrics: [], skipped: 'not a Python log line (the rule filters on level or logger)' });
    expect(describeMatch(rule, `${H('INFO', 'w')}n=1`, 0, 'x', lib, 0)).toEqual({ metrics: [], skipped: 'level INFO is not one the rule reads' });
    expect(describeMatch(rule, `${H('ERROR', 'v')}n=1`, 0, 'x', lib, 0)).toEqual({ metrics: [], skipped: 'logger v is not one the rule reads' });
    expect(describeMatch(rule, `${H('ERROR', 'w')}n=x`, 0, 'x', lib, 0)).toBeNull();
    // A counter of 0 is recorded (+0); -1 is not (undefined).
    expect(describeMatch(rule, `${H('ERROR', 'w')}n=0`, 0, 'x', lib, 0)).toEqual({ metrics: [{ metric: 'r_total', type: 'counter', labels: {}, value: 0 }] });
    expect(describeMatch(rule, `${H('ERROR', 'w')}n=-1`, 0, 'x', lib, 0)).toEqual({ metrics: [{ metric: 'r_total', type: 'counter', labels: {}, value: undefined }] });
  });

  it('a gauge keeps a negative number; an unparsable number is no value; the match starts at `start`', () => {
    const rule = compile({ name: 'g', programs: 'x', match: '^v=%{NUMBER:v:float}', metrics: [{ name: 'g', type: 'gauge', value: 'v' }] });
    const line = 'x stdout | v=-2.5';
    expect(describeMatch(rule, line, 11, 'x', lib, 0)).toEqual({ metrics: [{ metric: 'g', type: 'gauge', labels: {}, value: -2.5 }] });
    // Anchored at 0, "x stdout | v=" does not start with v=.
    expect(describeMatch(rule, line, 0, 'x', lib, 0)).toBeNull();
  });
});

describe('records out: the first matching rule and its captures', () => {
  it('names the rule and its typed captures, those that took part; a second rule on the line changes nothing', () => {
    const lib = PatternLibrary.bundled();
    const config = parseConfig({
      shipped_rules: false,
      rules: [
        { name: 'first', programs: 'x', match: 'took %{INT:ms:int}ms(?: by (?<who>[a-z]+))?(?: %{WORD:w:drop})?', metrics: [{ name: 'f_total', type: 'counter' }] },
        { name: 'second', programs: 'x', match: 'took (?<all>.*)', accept_unbounded: ['all'], metrics: [{ name: 's_total', type: 'counter' }] },
      ],
    });
    const fields = new LineFields();
    fields.active = true;
    const set = new RuleSet(compileConfigRules(config, lib, new MetricRegistry()), lib, new EventBus(), 0, fields);
    const table = set.forProgram('x')!;
    const line = 'x stdout | took 12ms';
    expect(table.apply(line, 11, false, 'x')).toBe(true);
    // who did not take part; w is :drop.
    expect(fields.take()).toEqual({ rule: 'first', captures: { ms: 12 } });
    expect(table.apply('x stdout | took 5ms by bob zz', 11, false, 'x')).toBe(true);
    expect(fields.take()).toEqual({ rule: 'first', captures: { ms: 5, who: 'bob' } });
    // Only the second rule matches: its own capture.
    expect(table.apply('x stdout | took long', 11, false, 'x')).toBe(true);
    expect(fields.take()).toEqual({ rule: 'second', captures: { all: 'long' } });
    // Inactive: nothing written.
    fields.active = false;
    expect(table.apply(line, 11, false, 'x')).toBe(true);
    expect(fields.take()).toEqual({});
    // A line a built-in parser matched: no rule here has include_matched.
    expect(table.apply(line, 11, true, 'x')).toBe(false);
  });
});

describe('analyseCaptures: where an inline group ends', () => {
  const lib = PatternLibrary.bundled();
  const verdict = (expression: string) => Object.fromEntries([...analyseCaptures(lib, expression).values()].map((c) => [c.field, c.unbounded ?? 'bounded']));

  it('nested groups, escaped brackets and brackets in a class do not carry a group past its end', () => {
    // Each f is bounded; g after it is open text. A group end found too late would give f g's ".+".
    expect(verdict('(?<f>(?:a|b)c) (?<g>.+)')).toEqual({ f: 'bounded', g: '(?<g>…) matches open-ended text' });
    expect(verdict('(?<f>\\(x\\)) (?<g>.+)')).toEqual({ f: 'bounded', g: '(?<g>…) matches open-ended text' });
    expect(verdict('(?<f>[(]x) (?<g>.+)')).toEqual({ f: 'bounded', g: '(?<g>…) matches open-ended text' });
    expect(verdict('(?<f>[\\](]x) (?<g>.+)')).toEqual({ f: 'bounded', g: '(?<g>…) matches open-ended text' });
    // A group that never closes runs to the end.
    expect(verdict('(?<f>a .+')).toEqual({ f: '(?<f>…) matches open-ended text' });
  });

  it("the body of (?'f'…) and (?P<f>…) is read like (?<f>…); a name captured twice is unbounded if either is", () => {
    expect(verdict("(?'f'[a-z]{2}) (?P<g>x.+)")).toEqual({ f: 'bounded', g: '(?<g>…) matches open-ended text' });
    expect(verdict('(?:%{WORD:f}|%{IP:f})')).toEqual({ f: '%{IP}' });
    expect(verdict('(?:%{IP:f}|%{WORD:f})')).toEqual({ f: '%{IP}' });
    // %{WORD:} (empty field) and %{WORD} capture nothing.
    expect(verdict('%{WORD} %{WORD:}')).toEqual({});
  });

  it('follows user patterns through each other, and a pattern that refers to itself ends', () => {
    const l = PatternLibrary.bundled();
    l.define('INNER', '[a-z]+');
    l.define('OUTER', 'x%{INNER}');
    l.define('WIDE', 'y%{INNER}.*');
    l.define('SELF', 'a|%{SELF}');
    const v = (e: string) => [...analyseCaptures(l, e).values()].map((c) => [c.field, c.unbounded]);
    expect(v('%{OUTER:o} %{WIDE:w} %{SELF:s}')).toEqual([
      ['o', undefined],
      ['w', '%{WIDE} matches open-ended text'],
      ['s', undefined],
    ]);
  });
});

describe('rule files', () => {
  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('a YAML syntax error and a rule failing the schema are refused naming the file and the key path', () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-'));
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - name: a\n    match: [unclosed\n');
    writeFileSync(join(dir, 'shape.yaml'), 'rules:\n  - name: Bad\n    programs: x\n    match: x\n');
    const refusal = (path: string, label?: string) => {
      try {
        readRuleFile(path, label);
      } catch (err) {
        return [(err as ConfigError).message.split('\n')[0], (err as ConfigError).problems];
      }
      return undefined;
    };
    const [, yamlProblems] = refusal(join(dir, 'bad.yaml'), 'rules/bad.yaml')!;
    expect(yamlProblems).toHaveLength(1);
    expect((yamlProblems as string[])[0]).toMatch(/^YAML: [^\n]+$/);
    expect(refusal(join(dir, 'shape.yaml'))).toEqual([expect.stringContaining(join(dir, 'shape.yaml')), ['rules[0].name: lower-case snake_case']]);
  });

  it('a directory of rule files: .yaml files only, in name order, each labelled by its path below the parent', () => {
    dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const rule = (name: string) => `rules:\n  - name: ${name}\n    programs: x\n    match: x\n    metrics: [{name: ${name}_total, type: counter}]\n`;
    writeFileSync(join(dir, 'b.yaml'), rule('bee'));
    writeFileSync(join(dir, 'a.yaml'), rule('ay') + `  - name: ay2\n    programs: x\n    match: y\n    metrics: [{name: ay2_total, type: counter}]\n`);
    writeFileSync(join(dir, 'c.yml'), rule('not_read'));
    writeFileSync(join(dir, 'notes.txt'), 'not a rule file');
    const base = dir.split('/').pop()!;
    expect(shippedRules(dir).map((s) => [s.rule.name, s.at])).toEqual([
      ['ay', `${base}/a.yaml: rules[0]`],
      ['ay2', `${base}/a.yaml: rules[1]`],
      ['bee', `${base}/b.yaml: rules[0]`],
    ]);
  });

  it("a config rule with a shipped rule's name replaces it; shipped_rules: false keeps only the config's", () => {
    const shipped = shippedRules();
    const name = shipped[0]!.rule.name;
    const own = { name, programs: 'x', match: 'x', metrics: [{ name: 'mine_total', type: 'counter' }] };
    const sources = ruleSources(parseConfig({ rules: [own] }));
    // Every shipped rule but the one replaced, then the config's: 19 - 1 + 1.
    expect(sources).toHaveLength(shipped.length);
    expect(sources.filter((s) => s.rule.name === name).map((s) => s.at)).toEqual(['rules[0]']);
    expect(sources.at(-1)!.rule.metrics[0]!.name).toBe('mine_total');
    expect(sources.slice(0, -1).map((s) => s.rule.name)).toEqual(shipped.slice(1).map((s) => s.rule.name));
    expect(ruleSources(parseConfig({ shipped_rules: false, rules: [own] })).map((s) => s.at)).toEqual(['rules[0]']);
  });
});

describe('event time from a :ts- capture, match by match', () => {
  it('each_match: every match its own time; a `$` ending the first line of a joined event still finds the capture', () => {
    const { p, events } = pipeline([
      { name: 'each', programs: 'x', each_match: true, match: 'at %{NUMBER:t:ts-epoch} %{WORD:job:tag}', event: { measurement: 'e' } },
      { name: 'eol', programs: 'y', match: 'done at %{NUMBER:t:ts-epoch}$', event: { measurement: 'l' } },
    ]);
    const feed = p.handler('supervisord');
    // 1764493200 = 2025-11-30 09:00:00 UTC, 1764493260 one minute later.
    feed(`x stdout | ${H('INFO', 'w')}at 1764493200 a; at 1764493260 b`);
    // As multiline (python-traceback) hands a joined event: the rule's `$` ends the first line.
    feed(`y stdout | ${H('ERROR', 'w')}done at 1764493260\ny stdout | Traceback (most recent call last):\ny stdout | Exception: x`);
    expect(events.map((e) => [e.measurement, e.time, e.tags])).toEqual([
      ['e', 1_764_493_200_000, { job: 'a' }],
      ['e', 1_764_493_260_000, { job: 'b' }],
      ['l', 1_764_493_260_000, {}],
    ]);
  });
});

describe('the compiler, problem by problem (second round of survivors)', () => {
  it('accept_unbounded of a field the pattern lacks; buckets on a counter; equal buckets; a line field as value; an event tag not captured', () => {
    expect(
      problems([
        { name: 'a', programs: 'x', match: '%{WORD:w}', accept_unbounded: ['w', 'nope'], metrics: [{ name: 'a_total', type: 'counter', buckets: [1] }] },
        { name: 'b', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 'b', type: 'histogram', value: 'n', buckets: [1, 1] }] },
        { name: 'c', programs: 'x', match: '%{INT:n:int}', metrics: [{ name: 'c', type: 'gauge', value: 'program' }] },
        { name: 'd', programs: 'x', match: '%{INT:n:int}', event: { measurement: 'd', tags: ['nope'] } },
      ]),
    ).toEqual([
      'rules[0].accept_unbounded[1]: "nope" is not a field of the pattern',
      'rules[0].metrics[0].buckets: only a histogram has buckets',
      'rules[1].metrics[0].buckets: bounds must be ascending',
      'rules[2].metrics[0].value: field "program" is not a number: capture it as %{NAME:program:int}, :float or :duration',
      'rules[3].event.tags[0]: field "nope" is not captured by the pattern (fields: n, program, level, logger)',
    ]);
  });

  it('labels listed in the message in order; a refused metric gives no shape to the rules after it', () => {
    expect(
      problems([
        { name: 'a', programs: 'x', match: '(?<k>a|b) (?<l>c|d)', metrics: [{ name: 's_total', type: 'counter', labels: ['k', 'l'] }] },
        { name: 'b', programs: 'x', match: '(?<k>a|b) (?<m>e|f) (?<l>c|d)', metrics: [{ name: 's_total', type: 'counter', labels: ['k', 'm', 'l'] }] },
        // A gauge without value is refused: its shape is not remembered, so the counter of the same name is not "another kind".
        { name: 'c', programs: 'x', match: 'g', metrics: [{ name: 'g_total', type: 'gauge' }] },
        { name: 'e', programs: 'x', match: 'g', metrics: [{ name: 'g_total', type: 'counter' }] },
      ]),
    ).toEqual([
      'rules[1].metrics[0].labels: s_total has labels [k, l] in rules[0].metrics[0], here [k, m, l]',
      'rules[2].metrics[0].value: a gauge needs the field whose number it records',
    ]);
  });

  it('the refusal names where the rules came from: "rules" by default, "(config)" for a config', () => {
    const lib = PatternLibrary.bundled();
    const bad = { name: 'a', programs: 'x', match: 'x', metrics: [{ name: 'g', type: 'gauge' }] };
    const config = parseConfig({ shipped_rules: false, rules: [bad] });
    const fileOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as ConfigError).file;
      }
      return undefined;
    };
    expect(fileOf(() => compileRules([{ rule: config.rules[0]!, at: 'rules[0]' }], lib, new MetricRegistry()))).toBe('rules');
    expect(fileOf(() => compileConfigRules(config, lib, new MetricRegistry()))).toBe('(config)');
  });

  it('unbounded :duration and :seconds captures; a pattern name no library defines is not called unbounded', () => {
    const m = [{ name: 'u_total', type: 'counter', labels: ['f'] }];
    const why = (w: string) =>
      `rules[0].metrics[0].labels.f: field "f" would make an unbounded label (${w}); capture it with a bounded pattern, or add it to accept_unbounded if you know its values are few`;
    expect(problems([{ name: 'r', programs: 'x', match: '%{WORD:f:duration}', metrics: m }])).toEqual([why('a number (:duration)')]);
    expect(problems([{ name: 'r', programs: 'x', match: '%{WORD:f:seconds}', metrics: m }])).toEqual([why('a number (:seconds)')]);
    expect([...analyseCaptures(PatternLibrary.bundled(), '%{NOPE_NOT_DEFINED:f}').values()]).toEqual([{ field: 'f', unbounded: undefined }]);
  });

  it('a group body: an escaped "(" does not open a group, an inner group does not end the outer one, an unclosed class ends the text', () => {
    const lib = PatternLibrary.bundled();
    const verdict = (expression: string) => Object.fromEntries([...analyseCaptures(lib, expression).values()].map((c) => [c.field, c.unbounded ?? 'bounded']));
    expect(verdict('(?<f>\\() (?<g>.+)')).toEqual({ f: 'bounded', g: '(?<g>…) matches open-ended text' });
    expect(verdict('(?<f>(?:a)b.*)')).toEqual({ f: '(?<f>…) matches open-ended text' });
    expect(verdict('(?<f>[ab')).toEqual({ f: 'bounded' });
  });
});

describe('the engine, value by value (second round of survivors)', () => {
  it(':seconds and :int values; a value that is no number records nothing', () => {
    const { p, feed } = pipeline([
      { name: 's', programs: 'x', match: 'took %{NOTSPACE:s:seconds}', metrics: [{ name: 's_seconds', type: 'gauge', value: 's' }] },
      { name: 'i', programs: 'y', match: 'n=%{NUMBER:n:int}', metrics: [{ name: 'n_last', type: 'gauge', value: 'n' }] },
      { name: 'f', programs: 'z', match: 'v=%{NOTSPACE:v:float}', metrics: [{ name: 'v_last', type: 'gauge', value: 'v' }, { name: 'v_seconds', type: 'histogram', value: 'v', buckets: [1] }] },
    ]);
    // 1m30s = 90 s (a Go duration); n=5 is set, then "12.7" is no int (not recorded: 5 stays); "abc" is no float.
    feed('supervisord', 'x stdout | took 1m30s', 'y stdout | n=5', 'y stdout | n=12.7', 'z stdout | v=abc');
    expect(p.registry.definedCounter('s_seconds').at().value).toBe(90);
    expect(p.registry.definedCounter('n_last').at().value).toBe(5);
    // A metric without labels has its one series from the start: still 0, nothing observed (not NaN).
    expect(p.registry.definedCounter('v_last').at().value).toBe(0);
    expect(p.registry.definedHistogram('v_seconds').at().count).toBe(0);
  });

  it('a label from a string-form field that took no part is ""; an event tag that took no part is left out; line fields as event fields', () => {
    const { p, events } = pipeline([
      {
        name: 'o',
        programs: 'x',
        match: 'hit(?: on (?<shard>[a-z]))?(?: (?<w>[a-z]+)!)?',
        metrics: [{ name: 'o_total', type: 'counter', labels: ['shard'] }],
        event: { measurement: 'o', tags: ['shard'], fields: ['w', 'program', 'level'] },
      },
    ]);
    const feed = p.handler('supervisord');
    feed(`x stdout | ${H('WARNING', 'a')}hit`);
    feed(`x stdout | ${H('WARNING', 'a')}hit on b bob!`);
    expect([...p.registry.definedCounter('o_total').slots.values()].map((s) => [s.attributes['shard'], s.value])).toEqual([
      ['', 1],
      ['b', 1],
    ]);
    expect(events.map((e) => [e.tags, e.fields])).toStrictEqual([
      [{}, { program: 'x', level: 'WARNING' }],
      [{ shard: 'b' }, { w: 'bob', program: 'x', level: 'WARNING' }],
    ]);
  });

  it('a field captured in two alternatives is an event field from whichever took part', () => {
    const { p, events } = pipeline([{ name: 'alt', programs: 'x', match: '(?:left=(?<side>[a-z]+)|right=(?<side>[a-z]+))', event: { measurement: 'alt', fields: ['side'] } }]);
    const feed = p.handler('supervisord');
    feed('x stdout | left=aa');
    feed('x stdout | right=bb');
    expect(events.map((e) => e.fields)).toEqual([{ side: 'aa' }, { side: 'bb' }]);
  });

  it('a rule that names a source reads only the programs of that source', () => {
    const { p, feed } = pipeline([{ name: 'g', sources: 'gcworker', match: 'tick', metrics: [{ name: 'g_total', type: 'counter' }] }]);
    feed('supervisord', 'gcworker stdout | tick', 'repositorygcworker stdout | tick', 'nginx stdout | tick', 'repomirrorworker stdout | tick');
    // gcworker and repositorygcworker are gcworker's programs; nginx and repomirrorworker are not.
    expect(p.registry.definedCounter('g_total').at().value).toBe(2);
  });

  it('a rule whose only capture is its time is timestamped', () => {
    const { p, events } = pipeline([{ name: 't', programs: 'x', match: 'at %{NUMBER:t:ts-epoch}', event: { measurement: 't' } }]);
    p.handler('supervisord')(`x stdout | ${H('INFO', 'w')}at 1764493200`);
    expect(events.map((e) => [e.time, e.fields])).toEqual([[1_764_493_200_000, { count: 1 }]]);
  });

  it('describeMatch: a rule filtering on logger alone or level alone; a counter without value; an event has no stream key', () => {
    const lib = PatternLibrary.bundled();
    const compile = (rule: Record<string, unknown>) =>
      compileRules([{ rule: parseConfig({ shipped_rules: false, rules: [rule] }).rules[0]!, at: 'rules[0]' }], lib, new MetricRegistry())[0]!;
    const lg = compile({ name: 'lg', programs: 'x', logger: 'w', match: 'go', metrics: [{ name: 'lg_total', type: 'counter' }], event: { measurement: 'lg' } });
    const lv = compile({ name: 'lv', programs: 'x', level: 'ERROR', match: 'go', metrics: [{ name: 'lv_total', type: 'counter' }] });
    expect(describeMatch(lg, `${H('INFO', 'v')}go`, 0, 'x', lib, 0)).toStrictEqual({ metrics: [], skipped: 'logger v is not one the rule reads' });
    expect(describeMatch(lg, 'go', 0, 'x', lib, 0)).toStrictEqual({ metrics: [], skipped: 'not a Python log line (the rule filters on level or logger)' });
    expect(describeMatch(lg, `${H('INFO', 'w')}go`, 0, 'x', lib, 0)).toStrictEqual({
      metrics: [{ metric: 'lg_total', type: 'counter', labels: {}, value: 1 }],
      event: { measurement: 'lg', time: Date.UTC(2026, 10, 30, 9, 0, 0), tags: {}, fields: { count: 1 } },
    });
    expect(describeMatch(lv, `${H('INFO', 'w')}go`, 0, 'x', lib, 0)).toStrictEqual({ metrics: [], skipped: 'level INFO is not one the rule reads' });
    expect(describeMatch(lv, `${H('ERROR', 'v')}go`, 0, 'x', lib, 0)).toStrictEqual({ metrics: [{ metric: 'lv_total', type: 'counter', labels: {}, value: 1 }] });
  });

  it('records out: captures without the time and measurement ones, and from whichever alternative took part', () => {
    const lib = PatternLibrary.bundled();
    const config = parseConfig({
      shipped_rules: false,
      rules: [{ name: 'r', programs: 'x', match: '%{WORD:m:measurement} at %{NUMBER:t:ts-epoch} (?:l=(?<v>[a-z]+)|r=(?<v>[a-z]+))(?: n=%{INT:n:int})?', metrics: [{ name: 'r_total', type: 'counter' }] }],
    });
    const fields = new LineFields();
    fields.active = true;
    const table = new RuleSet(compileConfigRules(config, lib, new MetricRegistry()), lib, new EventBus(), 0, fields).forProgram('x')!;
    table.apply('x stdout | job at 1764493200 l=aa', 11, false, 'x');
    // n took no part: no key at all.
    expect(fields.take()).toStrictEqual({ rule: 'r', captures: { v: 'aa' } });
    table.apply('x stdout | job at 1764493200 r=bb n=3', 11, false, 'x');
    expect(fields.take()).toStrictEqual({ rule: 'r', captures: { v: 'bb', n: 3 } });
  });
});

describe('rule files: the shipped cache is the shipped directory\'s only', () => {
  let dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs = [];
  });

  it('another directory is read each time (two of them, either side of the shipped set), in name order, YAML errors with their place', () => {
    const make = (names: string[]) => {
      const d = mkdtempSync(join(tmpdir(), 'rules-'));
      dirs.push(d);
      // Written in this order: a directory listing may come back in any order; the reader sorts.
      for (const n of names) writeFileSync(join(d, `${n}.yaml`), `rules:\n  - name: ${n}\n    programs: x\n    match: x\n    metrics: [{name: ${n}_total, type: counter}]\n`);
      return d;
    };
    const one = make(['a1', 'c1', 'b1']);
    const two = make(['z2', 'y2']);
    expect(shippedRules(one).map((s) => s.rule.name)).toEqual(['a1', 'b1', 'c1']);
    expect(shippedRules()).toHaveLength(19);
    expect(shippedRules(two).map((s) => s.rule.name)).toEqual(['y2', 'z2']);
    expect(shippedRules(one).map((s) => s.rule.name)).toEqual(['a1', 'b1', 'c1']);
    expect(shippedRules()).toHaveLength(19);
    writeFileSync(join(one, 'bad.yaml'), 'rules:\n  - name: a\n    match: [unclosed\n');
    let problem = '';
    try {
      readRuleFile(join(one, 'bad.yaml'), 'bad.yaml');
    } catch (err) {
      problem = (err as ConfigError).problems[0]!;
    }
    // The yaml library's message with prettyErrors: its place in the file, on the first line.
    expect(problem).toMatch(/^YAML: .+ at line \d+, column \d+:?$/);
  });
});

describe('captures inside the user patterns a rule uses', () => {
  it('are fields, checked for boundedness like the ones written in the rule', () => {
    const grok = { patterns: { CLIENT_AT: 'from %{IP:addr} as (?<who>.+)!', ZONE_OF: 'zone (?<zone>[a-z]{2})', VIA: '%{CLIENT_AT} via %{ZONE_OF}' } };
    const rule = (labels: string[], accept: string[] = []) => [{ name: 'c', programs: 'x', match: 'hit %{VIA:via}', accept_unbounded: accept, metrics: [{ name: 'c_total', type: 'counter', labels }] }];
    const why = (f: string, w: string) =>
      `rules[0].metrics[0].labels.${f}: field "${f}" would make an unbounded label (${w}); capture it with a bounded pattern, or add it to accept_unbounded if you know its values are few`;
    // addr (%{IP}) and who (.+) two levels down are unbounded; zone ([a-z]{2}) is not.
    expect(problems(rule(['addr', 'who', 'zone']), { grok })).toEqual([why('addr', '%{IP}'), why('who', '(?<who>…) matches open-ended text')]);
    expect(problems(rule(['addr', 'who', 'zone'], ['addr', 'who']), { grok })).toEqual([]);
    // Before: captures of a definition were not analysed, so these labels passed unchecked.
    const { p, feed } = pipeline(rule(['zone']), { grok });
    feed('supervisord', 'x stdout | hit from 10.0.0.1 as bob! via zone eu');
    expect([...p.registry.definedCounter('c_total').slots.values()].map((s) => [s.attributes, s.value])).toEqual([[{ zone: 'eu' }, 1]]);
  });
});

describe('anchor: start', () => {
  it('matches only at the start of the program text, like a leading ^', () => {
    const { p, feed } = pipeline([{ name: 'a', programs: 'x', anchor: 'start', match: 'start %{WORD:w}', metrics: [{ name: 'a_total', type: 'counter', labels: ['w'] }] }]);
    feed('supervisord', 'x stdout | start one', 'x stdout | not start two');
    expect([...p.registry.definedCounter('a_total').slots.values()].map((s) => [s.attributes['w'], s.value])).toEqual([['one', 1]]);
  });
});

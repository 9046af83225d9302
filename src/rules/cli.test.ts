/**
 * `grok --rule` in process (test/rules-cli.test.ts runs it through the real CLI; a child process
 * is out of mutation testing's sight). Every expected object is written out by hand from the line.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { PatternLibrary } from '../grok/index.js';
import { runRuleCommand, UnknownRuleError } from './cli.js';

const library = PatternLibrary.bundled();

async function run(rules: unknown[], rule: string, lines: string[], extra: Record<string, unknown> = {}) {
  const out: string[] = [];
  const counts = await runRuleCommand({ config: parseConfig({ shipped_rules: false, rules, ...extra }), library, rule, lines, out: (s) => out.push(s) });
  return { counts, out: out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SIZES = {
  name: 'sizes',
  programs: ['builder', 'b2'],
  level: 'ERROR',
  logger: 'w',
  match: 'size %{INT:bytes:int} in %{WORD:zone}',
  metrics: [
    { name: 'size_bytes', type: 'gauge', value: 'bytes', labels: ['zone'] },
    { name: 'size_total', type: 'counter', value: 'bytes' },
  ],
  event: { measurement: 'sz', tags: ['zone'] },
};
const H = (level: string, logger: string) => `2026-11-30 09:00:00,000 [7] [${level}] [${logger}] `;

describe('grok --rule, in process', () => {
  it('each line: the metrics and event it makes, or why it makes none', async () => {
    const lines = [
      `builder stdout | ${H('ERROR', 'w')}size 42 in eu\r`,
      `other stdout | ${H('ERROR', 'w')}size 1 in eu`,
      `b2 stderr | ${H('INFO', 'w')}size 1 in eu`,
      `b2 stdout | ${H('ERROR', 'v')}size 1 in eu`,
      'size 5 in eu',
      `${H('ERROR', 'w')}size -3 in us`,
      `builder stdout | ${H('ERROR', 'w')}nothing`,
    ];
    // python_log_timezone +01:00: 09:00 logged is 08:00 UTC.
    const { counts, out } = await run([SIZES], 'sizes', lines, { python_log_timezone: '+01:00' });
    expect(counts).toEqual({ matched: 2, unmatched: 5 });
    expect(out).toEqual([
      {
        // The \r of a CRLF line is not part of it.
        line: `builder stdout | ${H('ERROR', 'w')}size 42 in eu`,
        rule: 'sizes',
        match: true,
        metrics: [
          { metric: 'size_bytes', type: 'gauge', labels: { zone: 'eu' }, value: 42 },
          { metric: 'size_total', type: 'counter', labels: {}, value: 42 },
        ],
        // Tags: zone; fields: every other capture (bytes).
        event: { measurement: 'sz', time: Date.UTC(2026, 10, 30, 8, 0, 0), tags: { zone: 'eu' }, fields: { bytes: 42 } },
      },
      { line: lines[1], rule: 'sizes', match: false, reason: 'the rule does not read program other' },
      { line: lines[2], rule: 'sizes', match: false, reason: 'level INFO is not one the rule reads' },
      { line: lines[3], rule: 'sizes', match: false, reason: 'logger v is not one the rule reads' },
      // No prefix: a line of the rule's first program (builder), and no Python header.
      { line: 'size 5 in eu', rule: 'sizes', match: false, reason: 'not a Python log line (the rule filters on level or logger)' },
      {
        line: lines[5],
        rule: 'sizes',
        match: true,
        // The gauge takes -3; a counter records no negative number (no value: JSON drops undefined).
        metrics: [
          { metric: 'size_bytes', type: 'gauge', labels: { zone: 'us' }, value: -3 },
          { metric: 'size_total', type: 'counter', labels: {} },
        ],
        event: { measurement: 'sz', time: Date.UTC(2026, 10, 30, 8, 0, 0), tags: { zone: 'us' }, fields: { bytes: -3 } },
      },
      // Header and program fit, the pattern does not: no reason to give.
      { line: lines[6], rule: 'sizes', match: false },
    ]);
  });

  it('a rule that names a source reads the programs of that source; the pattern is tried after the prefix only', async () => {
    const rule = { name: 'found', sources: 'gcworker', match: '^Found %{INT:n:int} tags', metrics: [{ name: 'found_total', type: 'counter', value: 'n' }] };
    const lines = ['namespacegcworker stdout | Found 3 tags', 'nginx stdout | Found 4 tags', 'Found 2 tags', 'gcworker stdout | x Found 1 tags'];
    const { counts, out } = await run([rule], 'found', lines);
    expect(counts).toEqual({ matched: 2, unmatched: 2 });
    expect(out).toEqual([
      { line: lines[0], rule: 'found', match: true, metrics: [{ metric: 'found_total', type: 'counter', labels: {}, value: 3 }] },
      { line: lines[1], rule: 'found', match: false, reason: 'the rule does not read program nginx' },
      // No prefix: taken as a line of the rule's first source.
      { line: lines[2], rule: 'found', match: true, metrics: [{ metric: 'found_total', type: 'counter', labels: {}, value: 2 }] },
      // Anchored at the program's text: "x Found" does not start with Found.
      { line: lines[3], rule: 'found', match: false },
    ]);
  });

  it('a rule that is not there: the names there are, or none', async () => {
    await expect(run([SIZES], 'nope', ['x'])).rejects.toThrow(new UnknownRuleError('no rule named "nope" (rules: sizes)'));
    await expect(run([], 'nope', ['x'])).rejects.toThrow('no rule named "nope" (rules: none)');
  });

  it("a line without prefix is the first program's (a label from program says which), or the first source's", async () => {
    const byProgram = { name: 'p', programs: ['builder', 'b2'], match: 'go', metrics: [{ name: 'p_total', type: 'counter', labels: ['program'] }] };
    const bySource = { name: 's', sources: 'oc-mirror', match: 'go', metrics: [{ name: 's_total', type: 'counter', labels: ['program'] }] };
    const a = await run([byProgram, bySource], 'p', ['go']);
    expect(a.out).toEqual([{ line: 'go', rule: 'p', match: true, metrics: [{ metric: 'p_total', type: 'counter', labels: { program: 'builder' }, value: 1 }] }]);
    // oc-mirror is a source with no supervisord program: its lines come from its own input, without prefix.
    const b = await run([byProgram, bySource], 's', ['go']);
    expect(b.out).toEqual([{ line: 'go', rule: 's', match: true, metrics: [{ metric: 's_total', type: 'counter', labels: { program: 'oc-mirror' }, value: 1 }] }]);
    await expect(run([byProgram, bySource], 'nope', ['go'])).rejects.toThrow('no rule named "nope" (rules: p, s)');
  });
});

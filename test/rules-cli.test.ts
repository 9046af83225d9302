/**
 * The CLI around rules, as a real child process: check-config refuses a bad
 * rule with exit 2 and the key path; `grok --rule` prints what a rule makes
 * of each line (metric, labels, value, event), like `telegraf --test`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from './helpers/cli.js';

function configFile(config: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'qle-rules-cli-')), 'config.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

const LINE = 'storagereplication stdout | 2026-11-30 09:00:00,000 [61] [ERROR] [__main__] Failed to copy path `sha256/ab` of image storage 9999 to location eu_west';

describe('rules on the command line', () => {
  it('check-config: a rule with an unbounded label is refused with its key path, exit 2', async () => {
    const file = configFile({ rules: [{ name: 'clients', sources: 'nginx', match: '^%{IPORHOST:client} ', metrics: [{ name: 'clients_total', type: 'counter', labels: ['client'] }] }] });
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: invalid configuration`);
    expect(r.stderr).toContain('rules[0].metrics[0].labels.client: field "client" would make an unbounded label (%{IPORHOST})');
  });

  it('check-config: the same rule with accept_unbounded passes, and counts the shipped rules too', async () => {
    const file = configFile({ rules: [{ name: 'clients', sources: 'nginx', accept_unbounded: ['client'], match: '^%{IPORHOST:client} ', metrics: [{ name: 'clients_total', type: 'counter', labels: ['client'] }] }] });
    const r = await runCli(['check-config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 19 shipped + 1
    expect(r.stdout).toContain(', 20 rule(s)');
  });

  it('grok --rule: metric, labels and value of a shipped rule; no match exits 1', async () => {
    const r = await runCli(['grok', '--rule', 'storage_replication_copy_failed', LINE]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.metrics).toEqual([{ metric: 'quay_storage_replication_failures_total', type: 'counter', labels: { location: 'eu_west', reason: 'copy_failed' }, value: 1 }]);
    expect(out.event).toEqual({
      measurement: 'quay_storage_replication_failure',
      time: Date.UTC(2026, 10, 30, 9, 0, 0),
      tags: { reason: 'copy_failed', location: 'eu_west' },
      fields: { path: 'sha256/ab', storage: '9999' },
    });
    const miss = await runCli(['grok', '--rule', 'storage_replication_copy_failed', LINE.replace('[ERROR]', '[INFO]')]);
    expect(miss.code).toBe(1);
    expect(JSON.parse(miss.stdout.trim())).toMatchObject({ match: false, reason: 'level INFO is not one the rule reads' });
  });

  it('grok --rule: a user rule from --config, lines from stdin; an unknown rule exits 2', async () => {
    const file = configFile({
      shipped_rules: false,
      rules: [{ name: 'sizes', programs: 'builder', match: 'size %{INT:bytes:int}', metrics: [{ name: 'b', type: 'gauge', value: 'bytes' }] }],
    });
    const r = await runCli(['grok', '--config', file, '--rule', 'sizes'], { input: 'size 42\nnothing\n' });
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].metrics).toEqual([{ metric: 'b', type: 'gauge', labels: {}, value: 42 }]);
    expect(lines[1]).toMatchObject({ match: false });
    const unknown = await runCli(['grok', '--config', file, '--rule', 'nope', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no rule named "nope" (rules: sizes)');
  });
});

/**
 * Issue 9's "done when": a fixture per Quay version family, written from the
 * release texts (test/fixtures/quay-versions/SOURCES.md), replayed through the
 * real CLI, gives the hand counts in counts.ts, and no line is unmatched.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VERSION_FIXTURES } from './fixtures/quay-versions/counts.js';
import { runCli } from './helpers/cli.js';
import { family, parseExposition, type Sample } from './helpers/exposition.js';

const DIR = fileURLToPath(new URL('./fixtures/quay-versions/', import.meta.url));

async function replay(file: string, config?: string, multiline = false): Promise<Sample[]> {
  const args = ['replay'];
  if (config !== undefined || multiline) {
    const c = join(mkdtempSync(join(tmpdir(), 'qle-versions-')), 'c.yaml');
    const input = multiline ? 'inputs:\n  - paths: [unused]\n    multiline: {preset: python-traceback}\n' : '';
    writeFileSync(c, (config ?? '') + input);
    args.push('--config', c);
  }
  const r = await runCli([...args, join(DIR, file)]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return parseExposition(r.stdout);
}

const nonZero = (f: Record<string, number>) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== 0));

describe('Quay version families', () => {
  for (const fx of VERSION_FIXTURES) {
    it(`${fx.file}${fx.config ? ` with ${fx.config.trim().replace(/\n\s*/g, ' ')}` : ''}: the hand counts, no unmatched line`, async () => {
      const s = await replay(fx.file, fx.config);
      for (const [metric, expected] of Object.entries(fx.expect)) expect([metric, nonZero(family(s, metric))]).toEqual([metric, expected]);
      const unmatched = Object.entries(family(s, 'quay_log_exporter_lines_total')).filter(([k, v]) => k.endsWith('result=unmatched') && v !== 0);
      expect(unmatched).toEqual([]);
    });
  }

  it('v3.7 with the python-traceback preset: the traceback joins its record, every metric stays', async () => {
    const plain = VERSION_FIXTURES[0]!;
    const s = await replay(plain.file, undefined, true);
    // lines 38-44 (record + 6 traceback/message lines) are one entry: gunicorn matched 7 → 1
    expect(nonZero(family(s, 'quay_log_exporter_lines_total'))).toEqual({ ...plain.expect['quay_log_exporter_lines_total'], 'source=gunicorn,result=matched': 1 });
    for (const [metric, expected] of Object.entries(plain.expect)) if (metric !== 'quay_log_exporter_lines_total') expect(nonZero(family(s, metric))).toEqual(expected);
  });
});

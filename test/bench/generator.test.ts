/**
 * The benchmark's corpus generator against the real CLI: `replay` of a
 * generated corpus must give exactly the counts the generator recorded while
 * writing it. The generator computes those counts from its own choices
 * (bench/corpus.mjs, bench/corpus-workers.mjs), not from the exporter's code,
 * so this is two independent derivations of the same numbers.
 * A correctness test only: no timing here (the bench measures speed).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM JavaScript, no declarations
import { generateCorpus, repositories, rng } from '../../bench/corpus.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { upstreamOf } from '../../bench/corpus-workers.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { checkAgainstTruth } from '../../bench/lib/check.mjs';
// @ts-expect-error plain ESM JavaScript, no declarations
import { parsePrometheus } from '../../bench/lib/prom.mjs';
import { CATALOGUE } from '../../src/metrics/catalogue.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qle-gen-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench corpus generator', () => {
  it('is deterministic: same seed, same bytes and counts', () => {
    const a = generateCorpus({ seed: 7, lines: 500, out: join(dir, 'a.log') });
    const b = generateCorpus({ seed: 7, lines: 500, out: join(dir, 'b.log') });
    expect(readFileSync(join(dir, 'a.log'), 'utf8')).toBe(readFileSync(join(dir, 'b.log'), 'utf8'));
    expect(a.metrics).toEqual(b.metrics);
    // 500 lines asked for; open mirror/GC stories are finished, so a few more may follow.
    const bySource = a.linesBySource as Record<string, number>;
    expect(Object.values(bySource).reduce((x, y) => x + y, 0)).toBe(a.lines);
    expect(readFileSync(join(dir, 'a.log'), 'utf8').split('\n').length - 1).toBe(a.lines);
  });

  it('replay of 2000 generated lines equals the generator\'s true counts', async () => {
    const seed = 2024;
    const log = join(dir, 'corpus.log');
    const truth = generateCorpus({ seed, lines: 2000, out: log });
    // The mirror job lines name the local repository; the upstream map is the documented fallback.
    const repos = repositories(truth.repos, rng(seed ^ 0x5bd1e995)) as Array<{ ns: string; repo: string }>;
    const map: Record<string, string> = {};
    for (const r of repos) map[upstreamOf(r)] = `${r.ns}/${r.repo}`;
    const config = join(dir, 'config.yaml');
    writeFileSync(config, JSON.stringify({ log_level: 'warn', mirror: { repositories: map } }));

    const r = await runCli(['replay', '--config', config, '--format', 'prometheus', log]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = checkAgainstTruth(parsePrometheus(r.stdout), truth, CATALOGUE);
    expect(result.mismatches).toEqual([]);
    // Every registry/mirror/GC family the generator counts was compared, plus the 4 sources' line totals.
    expect(result.checked).toBeGreaterThan(100);
  });
});

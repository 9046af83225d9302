import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/helpers/cli.js';
import { GrokError, PatternLibrary, runGrokCommand } from './index.js';

const library = PatternLibrary.bundled();
const NGINX =
  '10.128.2.14 (-) - - [22/Nov/2026:10:15:32 +0000] "GET /v2/ HTTP/1.1" 200 2 "-" "curl/8.5.0" (0.004 78 0.003)';

async function* fromAsync(lines: string[]): AsyncIterable<string> {
  for (const l of lines) yield l;
}

describe('runGrokCommand', () => {
  it('prints one JSON object per line and counts matches (bare pattern name)', async () => {
    const out: string[] = [];
    const result = await runGrokCommand({ library, pattern: 'QUAY_NGINX_ACCESS', lines: [NGINX, 'not nginx'], out: (s) => out.push(s) });
    expect(result).toEqual({ matched: 1, unmatched: 1 });
    expect(out.map((s) => JSON.parse(s))).toEqual([
      {
        line: NGINX,
        fields: {
          client: '10.128.2.14',
          timestamp: '22/Nov/2026:10:15:32 +0000',
          method: 'GET',
          request: '/v2/',
          http_version: '1.1',
          status: 200,
          bytes_sent: 2,
          agent: 'curl/8.5.0',
          request_time: 0.004,
          request_length: 78,
          upstream_response_time: '0.003',
        },
        tags: {},
      },
      { line: 'not nginx', match: false },
    ]);
  });

  it('takes a grok expression, async lines, tags, and strips a CR', async () => {
    const out: string[] = [];
    const result = await runGrokCommand({
      library,
      pattern: '%{QUAY_SUPERVISOR_PREFIX}%{GREEDYDATA:rest}',
      lines: fromAsync(['nginx stderr | boom\r', 'gcworker stdout | ok', 'bad']),
      out: (s) => out.push(s),
    });
    expect(result).toEqual({ matched: 2, unmatched: 1 });
    expect(JSON.parse(out[0]!)).toEqual({ line: 'nginx stderr | boom', fields: { program: 'nginx', stream: 'stderr', rest: 'boom' }, tags: {} });
    const tagged: string[] = [];
    await runGrokCommand({ library, pattern: '%{WORD:program:tag} %{INT:n:int}', lines: ['gc 3'], out: (s) => tagged.push(s) });
    expect(JSON.parse(tagged[0]!)).toEqual({ line: 'gc 3', fields: { n: 3 }, tags: { program: 'gc' } });
  });

  it('throws a GrokError for an unknown pattern name', async () => {
    await expect(runGrokCommand({ library, pattern: 'QUAY_NGINX_ACCES', lines: [], out: () => {} })).rejects.toThrow(GrokError);
    await expect(runGrokCommand({ library, pattern: 'QUAY_NGINX_ACCES', lines: [], out: () => {} })).rejects.toThrow(
      'unknown pattern "QUAY_NGINX_ACCES"',
    );
  });
});

describe('pattern files with bad lines, through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qle-grok-'));
  // Line 2 is bad and unused; line 3 is fine; line 4 is bad and unused too.
  writeFileSync(join(dir, 'site.grok'), '# site\nMY_BAD (?<x>a\nMY_OK %{INT:n:int} apples\nMY_WORSE a\\1\n');
  writeFileSync(join(dir, 'ok.yaml'), 'grok:\n  pattern_files: [site.grok]\n');
  // The same plus a broken override of a name the built-in parsers use (WORD: QUAY_HTTP_REQUEST's method).
  writeFileSync(join(dir, 'override.grok'), 'WORD [a-z\n');
  writeFileSync(join(dir, 'broken.yaml'), 'grok:\n  pattern_files: [site.grok, override.grok]\n');

  it('check-config shows every bad line with file, line and the text as written, and passes when none is used', async () => {
    const r = await runCli(['check-config', join(dir, 'ok.yaml')]);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      `warning: ${join(dir, 'site.grok')}:2: pattern MY_BAD "(?<x>a": missing ")" (1 group(s) left open)`,
      `warning: ${join(dir, 'site.grok')}:4: pattern MY_WORSE "a\\\\1": numbered backreference "\\1" is not supported (groups are renumbered; name the group (?<name>…) and use \\k<name>)`,
    ]);
  });

  it('check-config fails, exit 2, when a bad line replaces a pattern the built-in parsers use', async () => {
    const r = await runCli(['check-config', join(dir, 'broken.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${join(dir, 'override.grok')}:1: pattern WORD "[a-z": unterminated character class starting at offset 0`);
    expect(r.stderr).toContain(`warning: ${join(dir, 'site.grok')}:2: pattern MY_BAD`);
    expect(r.stderr).toContain('1 bundled pattern(s) broken');
  });

  it('the grok command uses the good patterns of a file with bad ones', async () => {
    const r = await runCli(['grok', '--config', join(dir, 'ok.yaml'), '--pattern', 'MY_OK', '12 apples']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ line: '12 apples', fields: { n: 12 }, tags: {} });
    const bad = await runCli(['grok', '--config', join(dir, 'ok.yaml'), '--pattern', 'MY_BAD', 'a']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'site.grok')}:2: pattern MY_BAD "(?<x>a"`);
  });
});

describe("the grok command and Telegraf's modifiers", () => {
  it('prints measurement and the time (RFC 3339, ns) read in the configured zone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-grok-tz-'));
    writeFileSync(join(dir, 'c.yaml'), 'grok:\n  timezone: Europe/Berlin\n');
    const r = await runCli([
      'grok',
      '--config',
      join(dir, 'c.yaml'),
      '--pattern',
      '%{WORD:m:measurement} %{GREEDYDATA:t:ts-"2006-01-02 15:04:05.000"}',
      'cpu 2024-01-15 12:00:00.123',
    ]);
    expect(r.code).toBe(0);
    // 12:00:00.123 in Berlin in January (CET, +1) = 11:00:00.123 UTC
    expect(JSON.parse(r.stdout)).toEqual({ line: 'cpu 2024-01-15 12:00:00.123', fields: {}, tags: {}, measurement: 'cpu', time: '2024-01-15T11:00:00.123000000Z' });
  });

  it('refuses an unknown grok.timezone in the config, naming the key, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qle-grok-tz-'));
    writeFileSync(join(dir, 'c.yaml'), 'grok:\n  timezone: Mars/Olympus\n');
    const r = await runCli(['check-config', join(dir, 'c.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('grok.timezone: unknown time zone');
  });
});

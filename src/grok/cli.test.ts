import { describe, expect, it } from 'vitest';
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

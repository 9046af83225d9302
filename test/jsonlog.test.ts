/**
 * JSONLOG=true (issue 9): the same messages give the same metrics whichever
 * format Quay wrote them in. Each text fixture is turned into the JSONLOG
 * form Quay ≥ 3.15 prints (v3.15.0 conf/logging_json.conf + loghandler.py:
 * `{"data": {"taskName": null}, "message": "<message>"}` after the same
 * supervisord prefix; other lines unchanged), and both are replayed through
 * the CLI. JSON records carry no time and no pid: the series derived from the
 * log time (mirror last-sync timestamp, sync durations) cannot match and are
 * left out of the comparison (see src/formats/README.md).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const HEADER = /^(\S+ (?:stdout|stderr) \| )\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[\d+\] \[[A-Z]+\] \[[^\]]+\] ?(.*)$/;

function toJsonLog(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const m = HEADER.exec(line);
      return m ? `${m[1]}${JSON.stringify({ data: { taskName: null }, message: m[2] })}` : line;
    })
    .join('\n');
}

/** Metric sample lines of a replay, without the exporter's own and the time-derived ones. */
async function samples(file: string): Promise<string[]> {
  const r = await runCli(['replay', file]);
  expect(r.code).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('quay_log_exporter_'))
    .filter((l) => !l.startsWith('quay_log_repository_mirror_last_sync_timestamp_seconds') && !l.startsWith('quay_log_repository_mirror_sync_duration_seconds'));
}

describe('JSONLOG records give the metrics their text form gives', () => {
  for (const name of ['gc-workers.log', 'mirror-recovery.log', 'mirror-skopeo-debug.log']) {
    it(name, async () => {
      const text = readFileSync(join(FIXTURES, name), 'utf8');
      const json = toJsonLog(text);
      expect(json).not.toBe(text); // the conversion did turn records into JSON
      const file = join(mkdtempSync(join(tmpdir(), 'qle-jsonlog-')), name);
      writeFileSync(file, json);
      const [a, b] = await Promise.all([samples(join(FIXTURES, name)), samples(file)]);
      expect(a.filter((l) => !l.endsWith(' 0')).length).toBeGreaterThan(3); // the fixture does move metrics
      expect(b).toEqual(a);
    });
  }
});

describe('JSONLOG records have no time of their own', () => {
  it('the mirror last-sync timestamp is the time the record was read, never 1970', async () => {
    const json = toJsonLog(readFileSync(join(FIXTURES, 'mirror-recovery.log'), 'utf8'));
    const file = join(mkdtempSync(join(tmpdir(), 'qle-jsonlog-')), 'mirror.log');
    writeFileSync(file, json);
    const before = Math.floor(Date.now() / 1000);
    const r = await runCli(['replay', file]);
    const after = Math.ceil(Date.now() / 1000);
    expect(r.code).toBe(0);
    const stamps = [...r.stdout.matchAll(/^quay_log_repository_mirror_last_sync_timestamp_seconds\{[^}]*\} (\S+)$/gm)].map((m) => Number(m[1]));
    expect(stamps.length).toBeGreaterThan(0);
    // Every synced repository is stamped within the replay's own run, not at 0.
    for (const t of stamps) {
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(after);
    }
  });
});

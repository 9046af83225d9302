/**
 * Records out carry the parsed event of every line, in process: mirror, GC,
 * supervisord and rule-matched lines with the fields of README.md's table.
 * The same cases run through the CLI in test/fluent/records.test.ts.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { silentLogger } from '../log.js';
import { Pipeline } from '../pipeline.js';
import { LINE_CASES, RULES_CONFIG } from '../../test/fixtures/line-records.js';

type Rec = Record<string, unknown> & { quay: Record<string, unknown> };

function collector(): { stream: Writable & { writableLength: number }; records: () => Rec[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, records: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Rec) };
}

async function recordsOf(lines: readonly string[], select: 'all' | 'matched' | 'events', extra: Record<string, unknown> = {}): Promise<Rec[]> {
  const out = collector();
  const config = parseConfig({ state_dir: '/nonexistent-state', ...RULES_CONFIG, ...extra, outputs: { records: { select, stdout: { format: 'json' } } } }, 'test', {});
  const pipeline = await Pipeline.create(config, { log: silentLogger, recordsStdout: out.stream });
  const stream = pipeline.openStream('supervisord', { id: 'test' });
  for (const l of lines) stream.line(l);
  stream.end();
  await pipeline.shutdown();
  return out.records();
}

describe('records out: the fields of every kind of line', () => {
  it('each hand-written line gives exactly its record (mirror, GC, supervisord, a rule), the line under `log`', async () => {
    const out = await recordsOf(LINE_CASES.map((c) => c.line), 'all');
    const lines = out.filter((r) => r.quay.event === undefined);
    // 20 lines in, 20 line records out, in order
    expect(LINE_CASES).toHaveLength(20);
    expect(lines).toHaveLength(20);
    LINE_CASES.forEach((c, i) => expect({ i, ...lines[i] }).toEqual({ i, log: c.line, quay: c.quay }));
  });

  it('events come before the record of the line that made them', async () => {
    const out = await recordsOf(LINE_CASES.map((c) => c.line), 'all');
    const names = out.map((r) => (r.quay.event as string | undefined) ?? String(r.quay.kind ?? r.quay.source));
    // after the job line (0): the skopeo line, each tag line's quay_mirror_sync event then its record, and the run end's
    // closing of the attempt (partial: 1 of 2 tags failed) before the run end's own record
    expect(names.slice(1, 8)).toEqual(['skopeo_failed', 'quay_mirror_sync', 'tag_result', 'quay_mirror_sync', 'tag_result', 'quay_mirror_attempt', 'run_ended']);
    expect(out[6]!.quay).toMatchObject({ event: 'quay_mirror_attempt', namespace: 'mirrors', repository: 'node-exporter', result: 'partial' });
  });

  it('select matched: the ignored line is left out and lends no field to the next', async () => {
    const ignored = LINE_CASES[LINE_CASES.length - 1]!;
    const rule = LINE_CASES[LINE_CASES.length - 2]!;
    const out = await recordsOf([ignored.line, rule.line, ignored.line, LINE_CASES[11]!.line], 'matched');
    // 4 lines: 2 ignored (left out), the rule's line and the supervisord exit
    expect(out.map((r) => r.quay)).toEqual([rule.quay, LINE_CASES[11]!.quay]);
  });

  it('the first rule that matches names the line; a later rule that matches too does not overwrite it', async () => {
    const second = { ...RULES_CONFIG.rules[0]!, name: 'any_replication', match: 'Replicated %{NOTSPACE:what}', metrics: [{ name: 'test_any_total', type: 'counter', labels: {} }] };
    const rule = LINE_CASES[LINE_CASES.length - 2]!;
    const out = await recordsOf([rule.line], 'all', { rules: [...RULES_CONFIG.rules, second] });
    expect(out.map((r) => r.quay)).toEqual([rule.quay]);
  });

  it('a list-tags failure settled by the pid\'s next line is not put in that line\'s record (it is the failure\'s event)', async () => {
    const m = 'repomirrorworker stdout | 2026-11-22 10:15:';
    const out = await recordsOf(
      [
        `${m}40,005 [88] [DEBUG] [util.repomirror.skopeomirror] Skopeo command failed (exit code 1): time="2026-11-22T10:15:40Z" level=fatal msg="Error listing repository tags: fetching tags list: unauthorized"`,
        `${m}41,000 [88] [INFO] [apscheduler.executors.default] Job "RepoMirrorWorker._process_mirrors (trigger: interval[0:00:30], next run at: 2026-11-22 10:16:11 UTC)" executed successfully`,
      ],
      'all',
    );
    // skopeo line, the failure's sync event, the attempt's event, the run-end line: which carries only its own fields
    expect(out.map((r) => r.quay.event ?? r.quay.kind)).toEqual(['skopeo_failed', 'quay_mirror_sync', 'quay_mirror_attempt', 'run_ended']);
    expect(out[3]!.quay).toEqual({ source: 'repomirrorworker', result: 'matched', pid: 88, level: 'INFO', logger: 'apscheduler.executors.default', kind: 'run_ended' });
  });

  it('select events: parsers write no field at all (the boolean is off)', async () => {
    const config = parseConfig({ state_dir: '/nonexistent-state', outputs: { records: { select: 'events', stdout: { format: 'json' } } } }, 'test', {});
    const pipeline = await Pipeline.create(config, { log: silentLogger, recordsStdout: collector().stream });
    expect(pipeline.records!.fields.active).toBe(false);
    await pipeline.shutdown();
  });
});

/**
 * Issue 10 item 2: one traceback of 300 indented 1 MiB lines, read by the
 * real daemon (`run`) from a real file with the python-traceback preset, as
 * the Kubernetes example is configured. Before multiline.max_bytes the whole
 * event (300 MiB) was held and joined: peak RSS 694 MB, OOM-killed under the
 * example's 384 MiB limit at the same offset on every restart. Now the event
 * is cut at max_bytes (1 MiB by default) and counted once.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startDaemon, waitFor } from '../helpers/daemon.js';
import { value } from '../helpers/exposition.js';

const dir = mkdtempSync(join(tmpdir(), 'qle-mlmem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('cuts a 300 MiB traceback at max_bytes, counts it once, and stays far below the memory limit', async () => {
  const log = join(dir, 'quay.log');
  const fd = openSync(log, 'w');
  const prefix = 'gcworker stdout | ';
  writeSync(fd, `${prefix}2026-11-22 10:00:00,000 [77] [ERROR] [apscheduler.executors.default] Job "GarbageCollectionWorker._garbage_collection_repos (trigger: interval[0:00:30], next run at: 2026-11-22 10:00:30 UTC)" raised an exception\n`);
  writeSync(fd, `${prefix}Traceback (most recent call last):\n`);
  // 300 frames, each a line of 1 MiB - 1 bytes plus its newline: under max_line_bytes, so no line is cut by the splitter.
  const frame = Buffer.alloc(1024 * 1024, 'x');
  Buffer.from(`${prefix}  File "/quay-registry/workers/gc.py", line 1, in `).copy(frame);
  frame[frame.length - 1] = 0x0a;
  for (let i = 0; i < 300; i++) writeSync(fd, frame);
  writeSync(fd, `${prefix}ValueError: boom\n`);
  writeSync(fd, `${prefix}2026-11-22 10:00:05,000 [77] [INFO] [workers.gc] next\n`);
  closeSync(fd);

  const daemon = await startDaemon(
    { inputs: [{ paths: [log], start_at: 'beginning', source: 'supervisord', multiline: { preset: 'python-traceback' } }] },
    dir,
  );
  try {
    // 304 physical lines → 2 events: the exception with its whole traceback (303 lines) and "next".
    await waitFor('2 events', async () => value(await daemon.samples(), 'quay_log_exporter_lines_total', { source: 'gcworker', result: 'matched' }) === 2, 60_000);
    const samples = await daemon.samples();
    // the one traceback event is cut once; no physical line was longer than max_line_bytes
    expect(value(samples, 'quay_log_exporter_lines_truncated_total')).toBe(1);
    // the job failure is still counted, from the cut event
    expect(value(samples, 'quay_log_gc_job_runs_total', { job: 'GarbageCollectionWorker._garbage_collection_repos', result: 'error' })).toBe(1);
    // A bound far from the example's 384 MiB limit (held: one 1 MiB event and 1 MiB read buffers; was 694 MB).
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${daemon.proc.pid}/status`, 'utf8'))![1]) * 1024;
    expect(hwm).toBeLessThan(200 * 1024 * 1024);
  } finally {
    expect(await daemon.stop()).toBe(0);
  }
}, 120_000);

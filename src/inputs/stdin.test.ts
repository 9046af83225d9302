/**
 * The stdin input on a real pipe: a child process's stdout, as with
 * `kubectl logs -f … | quay-log-exporter`.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inputSchema, type InputConfig } from '../config/schema.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { StreamInput } from './stdin.js';
import { oneHandler } from './types.js';
import { waitFor } from '../../test/helpers/wait.js';

describe('stdin input', () => {
  it('hands over every line of a pipe, the partial last one at its end, then finishes', async () => {
    // 3000 lines written in 30 separate writes, then "tail" without a newline.
    const script = `let i=0;const t=setInterval(()=>{let s='';for(let k=0;k<100;k++)s+='pipe '+(i++)+'\\n';process.stdout.write(s);if(i>=3000){clearInterval(t);process.stdout.write('tail');}},1);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const config: InputConfig = { ...inputSchema.parse({ type: 'stdin', source: 'nginx' }), name: 'pipe' };
    const lines: string[] = [];
    const registry = new MetricRegistry();
    const input = new StreamInput(config, { open: oneHandler((l) => lines.push(l)), registry, log: silentLogger }, child.stdout!);
    await input.start();
    await input.finished;
    // 3000 numbered lines + "tail" = 3001
    expect(lines).toHaveLength(3001);
    expect(lines[2999]).toBe('pipe 2999');
    expect(lines[3000]).toBe('tail');
    // "pipe 0\n".."pipe 9\n" = 10×7, 10..99 = 90×8, 100..999 = 900×9, 1000..2999 = 2000×10, + 4
    expect(registry.counter('quay_log_exporter_input_bytes_total').at('pipe').value).toBe(70 + 720 + 8100 + 20000 + 4);
    await input.stop(); // after the end: a no-op
  });

  it('is one stream: it ends when the pipe ends (the pod is gone), not when the exporter stops', async () => {
    const run = async (stopFirst: boolean) => {
      const child = spawn(process.execPath, ['-e', stopFirst ? "process.stdout.write('a\\n');setTimeout(()=>{},5000)" : "process.stdout.write('a\\nb\\n')"], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const events: string[] = [];
      const config: InputConfig = { ...inputSchema.parse({ type: 'stdin', source: 'nginx' }), name: 'pipe' };
      const open = (info: { id: string }) => {
        events.push(`open ${info.id}`);
        return { line: (l: string) => events.push(l), end: () => events.push('end') };
      };
      const input = new StreamInput(config, { open, registry: new MetricRegistry(), log: silentLogger }, child.stdout!);
      await input.start();
      if (stopFirst) {
        while (!events.includes('a')) await new Promise((r) => setTimeout(r, 5));
        await input.stop();
        child.kill();
      } else {
        await input.finished;
      }
      return events;
    };
    // The pipe ends: 2 lines, then end() once.
    expect(await run(false)).toEqual(['open stdin:pipe', 'a', 'b', 'end']);
    // stop() while the writer goes on: the line read, no end().
    expect(await run(true)).toEqual(['open stdin:pipe', 'a']);
  });

  it('an open pipe: a partial last line waits for its newline, then after partial_line_timeout is handed over once', async () => {
    const stream = new PassThrough();
    const config: InputConfig = { ...inputSchema.parse({ type: 'stdin', source: 'nginx', partial_line_timeout: '200ms', poll_interval: '20ms' }), name: 'open' };
    const lines: string[] = [];
    const input = new StreamInput(config, { open: oneHandler((l) => lines.push(l)), registry: new MetricRegistry(), log: silentLogger }, stream);
    await input.start();
    stream.write('a\nb');
    await waitFor('"a", then "b" by timeout', () => (lines.length >= 2 ? true : undefined), 10_000, 10);
    expect(lines).toEqual(['a', 'b']);
    // The newline that ends "b" comes late: no empty line; "c" is a line.
    stream.write('\nc\n');
    await waitFor('"c"', () => (lines.length >= 3 ? true : undefined), 10_000, 10);
    expect(lines).toEqual(['a', 'b', 'c']);
    // stop(): what was received is handed over ("d" without newline), then finished; a second stop is a no-op.
    stream.write('d');
    await new Promise((r) => setImmediate(r));
    await input.stop();
    expect(lines).toEqual(['a', 'b', 'c', 'd']);
    await input.stop();
    expect(lines).toHaveLength(4);
  });

  it('a read error ends the input with what was received', async () => {
    const stream = new PassThrough();
    const config: InputConfig = { ...inputSchema.parse({ type: 'stdin', source: 'nginx' }), name: 'broken' };
    const lines: string[] = [];
    const errors: string[] = [];
    const log = { ...silentLogger, error: (msg: string) => void errors.push(msg) };
    const input = new StreamInput(config, { open: oneHandler((l) => lines.push(l)), registry: new MetricRegistry(), log }, stream);
    await input.start();
    stream.write('x\ny');
    await new Promise((r) => setImmediate(r));
    stream.destroy(new Error('EIO'));
    await input.finished;
    expect(lines).toEqual(['x', 'y']);
    expect(errors).toEqual(['stdin read failed']);
  });
});

describe('stdin records (format json | msgpack), as Fluentd out_exec_filter writes them', () => {
  /** Writes these bytes to a real pipe from a child process, in 7-byte pieces so records span reads. */
  async function readRecords(format: 'json' | 'msgpack', bytes: Buffer) {
    const script = `const b=Buffer.from(process.argv[1],'base64');let i=0;const t=setInterval(()=>{process.stdout.write(b.subarray(i,i+7));i+=7;if(i>=b.length)clearInterval(t);},0);`;
    const child = spawn(process.execPath, ['-e', script, bytes.toString('base64')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const config: InputConfig = { ...inputSchema.parse({ type: 'stdin', format, message_key: 'message', program_key: 'program' }), name: 'exec' };
    const got: { source: string; line: string }[] = [];
    const registry = new MetricRegistry();
    const input = new StreamInput(
      config,
      {
        open: () => {
          throw new Error('records open their stream by source');
        },
        registry,
        log: silentLogger,
        openSource: (source) => ({ line: (line) => void got.push({ source, line }), end: () => undefined }),
      },
      child.stdout!,
    );
    await input.start();
    await input.finished;
    const skipped = registry.counter('quay_log_exporter_records_skipped_total');
    return { got, noMessage: skipped.at('exec', 'no_message').value, invalid: skipped.at('exec', 'invalid_entry').value };
  }

  it('json: one object per line; a line that is no JSON and a record without the key are counted', async () => {
    const text = [
      JSON.stringify({ message: 'nginx stdout | one', tag: 'quay' }),
      'not json',
      JSON.stringify({ other: 1 }),
      JSON.stringify({ message: 'GET /v2/', program: 'nginx' }),
      JSON.stringify([1700000000, { message: 'entry' }]),
      JSON.stringify({ message: 'last, no newline' }),
    ].join('\n');
    const r = await readRecords('json', Buffer.from(text));
    expect(r.got).toEqual([
      { source: 'supervisord', line: 'nginx stdout | one' },
      { source: 'supervisord', line: 'nginx stdout | GET /v2/' },
      { source: 'supervisord', line: 'entry' },
      { source: 'supervisord', line: 'last, no newline' },
    ]);
    expect([r.noMessage, r.invalid]).toEqual([1, 1]);
  });

  it('msgpack: maps back to back (and [time, record] entries)', async () => {
    const { encoder } = await import('./forward/protocol.js');
    const bytes = Buffer.concat(
      [{ message: 'a' }, { message: 'b\n' }, [1700000000, { message: 'c' }], 'junk', { nope: true }, { message: 'd'.repeat(300) }].map((v) => Buffer.from(encoder.encode(v))),
    );
    const r = await readRecords('msgpack', bytes);
    // 6 values: a, b (newline dropped), c, junk (invalid), {nope} (no message), ddd…
    expect(r.got.map((g) => g.line)).toEqual(['a', 'b', 'c', 'd'.repeat(300)]);
    expect([r.noMessage, r.invalid]).toEqual([1, 1]);
  });
});

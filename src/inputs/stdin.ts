/**
 * `type: stdin`: lines from the process's standard input, so
 * `kubectl logs -f deploy/quay-app | quay-log-exporter --config …` works.
 * No offsets (a pipe cannot be re-read). At end of stream the partial last
 * line and any open event are handed over and `finished` resolves; whether
 * the process then exits is the caller's choice.
 */
import type { Readable } from 'node:stream';
import type { InputConfig } from '../config/schema.js';
import { buildLinePath, flushStages, tickStages } from './chain.js';
import { createRecordReader } from './record-reader.js';
import type { Input, InputDeps } from './types.js';

export class StreamInput implements Input {
  readonly name: string;
  readonly finished: Promise<void>;
  private done!: () => void;
  private ended = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onEnd: () => void;
  private readonly tick: () => void;

  constructor(
    private readonly config: InputConfig,
    private readonly deps: Pick<InputDeps, 'open' | 'registry' | 'log' | 'openSource' | 'origin'>,
    private readonly stream: Readable = process.stdin,
  ) {
    this.name = config.name ?? 'stdin';
    this.finished = new Promise((resolve) => (this.done = resolve));
    const bytes = deps.registry.counter('quay_log_exporter_input_bytes_total').at(this.name);
    if (config.format !== 'text') {
      // Records (JSON lines or MessagePack): no framing, multi-line or partial-line timeouts apply.
      // Without a per-source opener (tests), the stream goes to the input's own source.
      const openSource = deps.openSource ?? ((_source, info) => deps.open(info));
      const reader = createRecordReader(config, deps.registry, openSource, deps.log, deps.origin);
      this.onData = (chunk) => {
        bytes.value += chunk.length;
        reader.write(chunk);
      };
      this.onEnd = () => this.end(() => reader.end());
      this.tick = () => {};
      return;
    }
    // One stream; it ends with stdin (`kubectl logs -f` returns when the pod is gone), not with stop().
    const lines = deps.open({ id: `stdin:${this.name}` });
    const path = buildLinePath(config, lines.line, deps.registry);
    const sp = path.splitter;
    this.onData = (chunk) => {
      bytes.value += chunk.length;
      sp.write(chunk);
    };
    this.onEnd = () => this.end(() => {
      sp.flushPartial();
      flushStages(path);
      if (!this.stopped) lines.end();
    });
    // Timeouts: open multi-line events, partial records, a last line without newline.
    let partialAt = -1;
    let partialSeen = 0;
    this.tick = () => {
      const now = Date.now();
      if (sp.hasPartial) {
        if (sp.consumed !== partialAt) {
          partialAt = sp.consumed;
          partialSeen = now;
        } else if (now - partialSeen >= config.partial_line_timeout) {
          sp.flushPartial();
          partialAt = -1;
        }
      }
      tickStages(path, now);
    };
  }

  start(): Promise<void> {
    this.stream.on('data', this.onData);
    this.stream.once('end', this.onEnd);
    this.stream.once('error', (err) => {
      this.deps.log.error('stdin read failed', { input: this.name, error: err.message });
      this.onEnd();
    });
    this.timer = setInterval(this.tick, this.config.poll_interval);
    this.timer.unref();
    return Promise.resolve();
  }

  /** Stop reading; what was received is handed over (a pipe has no "already written" to wait for). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stream.off('data', this.onData);
    this.stream.pause();
    this.onEnd();
    await this.finished;
  }

  private end(flush: () => void): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.stream.off('data', this.onData);
    flush();
    this.done();
  }
}

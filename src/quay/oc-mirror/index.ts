/**
 * oc-image-mirror workers (source `oc-mirror`), e.g. OpenShift CI's
 * ci-images-mirror: JSON lines (logrus: `component`, `msg`, `output`…) and
 * the plain output of `oc image mirror`. README.md has the details.
 */
import type { CounterFamily, HistogramFamily } from '../../metrics/series.js';
import { createFailureClassifier } from '../failure-reasons.js';
import { MessagePattern } from '../message-pattern.js';
import { LineResult, type ParserContext, type SourceParser } from '../types.js';
import { parseGoDurationSeconds, parseRateBytesPerSecond } from './units.js';

/** `msg` of the worker → result label of quay_mirror_images_total. */
const RESULT_BY_MSG: Record<string, string> = {
  Mirroring: 'queued',
  'Image is up to date': 'up_to_date',
  'Mirrored successfully': 'mirrored',
  'Failed to mirror': 'failed',
  'Failed to mirror even with retries': 'failed_after_retries',
};

/** Component for plain `oc` output lines, which name none. */
export const PLAIN_COMPONENT = 'oc';
const COMPONENT = /^[A-Za-z0-9_.-]{1,64}$/;

class OcMirrorParser implements SourceParser {
  private readonly completed: MessagePattern;
  private readonly summary: MessagePattern;
  private readonly schema1: MessagePattern;
  private readonly error: MessagePattern;
  private readonly registryError: MessagePattern;
  private readonly info: MessagePattern;
  private readonly classify: (text: string) => string;
  private readonly images: CounterFamily;
  private readonly failures: CounterFamily;
  private readonly slow: CounterFamily;
  private readonly duration: HistogramFamily;
  private readonly throughput: HistogramFamily;
  private readonly slowMinBytes: number;
  private readonly slowMaxRate: number;

  constructor(ctx: ParserContext) {
    const g = ctx.grok;
    this.completed = new MessagePattern(g, 'OC_MIRROR_COMPLETED', ['duration', 'rate']);
    this.summary = new MessagePattern(g, 'OC_MIRROR_ERROR_SUMMARY', []);
    this.schema1 = new MessagePattern(g, 'OC_MIRROR_SCHEMA1_WARNING', ['error']);
    this.error = new MessagePattern(g, 'OC_MIRROR_ERROR', ['error']);
    this.registryError = new MessagePattern(g, 'OC_MIRROR_REGISTRY_ERROR', ['error']);
    this.info = new MessagePattern(g, 'OC_MIRROR_INFO', []);
    this.classify = createFailureClassifier(ctx.config.mirror.failure_reasons);
    const r = ctx.registry;
    this.images = r.counter('quay_mirror_images_total');
    this.failures = r.counter('quay_mirror_sync_failures_total');
    this.slow = r.counter('quay_mirror_slow_transfers_total');
    this.duration = r.histogram('quay_mirror_transfer_duration_seconds');
    this.throughput = r.histogram('quay_mirror_transfer_throughput_bytes_per_second');
    this.slowMinBytes = ctx.config.slow_transfer.min_bytes;
    this.slowMaxRate = ctx.config.slow_transfer.max_bytes_per_second;
  }

  parse(line: string, start: number): LineResult {
    let i = start;
    while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
    if (line.charCodeAt(i) === 123 /* { */) {
      let obj: unknown;
      try {
        obj = JSON.parse(i === 0 ? line : line.slice(i));
      } catch {
        obj = undefined;
      }
      if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) return this.json(obj as Record<string, unknown>);
    }
    return this.ocLines(line, i, PLAIN_COMPONENT) ? LineResult.Matched : LineResult.Unmatched;
  }

  /** A JSON log entry: `msg` counts images; `msg` and `output` may hold oc output. */
  private json(obj: Record<string, unknown>): LineResult {
    const raw = obj['component'];
    const component = typeof raw === 'string' && COMPONENT.test(raw) ? raw : 'unknown';
    const msg = obj['msg'];
    if (typeof msg === 'string') {
      const result = RESULT_BY_MSG[msg];
      if (result !== undefined) this.images.at(component, result).value++;
      else this.ocLines(msg, 0, component);
    }
    // ci-images-mirror logs oc's combined output once, in `output` of "Running command failed.".
    const output = obj['output'];
    if (typeof output === 'string' && output !== '') this.ocLines(output, 0, component);
    return LineResult.Matched;
  }

  /** Reads each line of `text` from `start` as oc output; true when any was recognised. */
  private ocLines(text: string, start: number, component: string): boolean {
    let any = false;
    let from = start;
    for (;;) {
      const nl = text.indexOf('\n', from);
      const end = nl < 0 ? text.length : nl;
      if (end > from && this.ocLine(nl < 0 && from === 0 ? text : text.slice(from, end), component)) any = true;
      if (nl < 0) return any;
      from = nl + 1;
    }
  }

  private ocLine(line: string, component: string): boolean {
    if (this.completed.match(line)) {
      const seconds = parseGoDurationSeconds(this.completed.get(0));
      const rate = parseRateBytesPerSecond(this.completed.get(1));
      if (Number.isFinite(seconds) && seconds >= 0) this.duration.observe(this.duration.at(component), seconds);
      // 0B/s: nothing was copied (everything existed); a rate says nothing then.
      if (Number.isFinite(rate) && rate > 0) {
        this.throughput.observe(this.throughput.at(component), rate);
        if (Number.isFinite(seconds) && rate * seconds >= this.slowMinBytes && rate < this.slowMaxRate) this.slow.at(component).value++;
      }
      return true;
    }
    if (this.summary.match(line)) return true; // each error was counted on its own line
    if (this.schema1.match(line)) return this.fail(component, this.schema1.get(0));
    if (this.error.match(line)) return this.fail(component, this.error.get(0));
    if (this.registryError.match(line)) return this.fail(component, this.registryError.get(0));
    return this.info.match(line);
  }

  private fail(component: string, error: string): boolean {
    this.failures.at(component, this.classify(error)).value++;
    return true;
  }
}

export function createOcMirrorParser(ctx: ParserContext): SourceParser {
  return new OcMirrorParser(ctx);
}

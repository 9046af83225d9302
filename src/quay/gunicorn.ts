/**
 * gunicorn-registry / gunicorn-web / gunicorn-secscan lines: Quay's Python
 * log lines (QUAY_PYTHON_LOG), whose `gunicorn.access` messages are access
 * lines in combined format (QUAY_GUNICORN_ACCESS), and gunicorn's own
 * master/worker lines (QUAY_GUNICORN_ERROR_LOG).
 *
 * Access lines count traffic only when gunicorn is the traffic source (no
 * nginx read); otherwise they are `ignored`, so a request proxied by nginx
 * is never counted twice.
 */
import { PythonLogReader } from './python-log.js';
import { parseZoneOffset } from './time.js';
import { AccessPattern, type TrafficRecorder } from './traffic.js';
import { LineResult, type ParserContext, type ParserStream, type SourceParser } from './types.js';

export class GunicornParser implements SourceParser {
  private readonly header: PythonLogReader;
  private readonly access: AccessPattern;
  private readonly ownLog: RegExp;

  /** `traffic` is undefined when nginx is the traffic source. */
  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder | undefined,
  ) {
    this.header = new PythonLogReader(ctx.grok, parseZoneOffset(ctx.config.python_log_timezone));
    this.access = new AccessPattern(ctx.grok, 'QUAY_GUNICORN_ACCESS');
    this.ownLog = ctx.grok.compile('%{QUAY_GUNICORN_ERROR_LOG}', { mode: 'sticky' }).regex;
  }

  parse(line: string, start: number, stream?: ParserStream): LineResult {
    const h = this.header;
    if (!h.read(line, start)) {
      this.ownLog.lastIndex = start;
      return this.ownLog.test(line) ? LineResult.Matched : LineResult.Unmatched;
    }
    if (h.logger !== 'gunicorn.access') return LineResult.Matched;
    if (this.traffic === undefined) return LineResult.Ignored;
    if (!this.access.read(h.message, 0)) return LineResult.Unmatched;
    this.traffic.record(this.access.record, stream);
    return LineResult.Matched;
  }
}

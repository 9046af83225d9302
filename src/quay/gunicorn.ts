/**
 * gunicorn-registry / gunicorn-web / gunicorn-secscan lines: Quay's Python
 * records (text or JSONLOG, src/formats/python-log.ts), whose `gunicorn.access`
 * messages are access lines in combined format (QUAY_GUNICORN_ACCESS),
 * gunicorn's own master/worker lines (QUAY_GUNICORN_ERROR_LOG), and traceback
 * lines (src/formats/python-traceback.ts: matched, no metric).
 *
 * A JSONLOG record has no logger name, so there an access line is a message
 * that matches QUAY_GUNICORN_ACCESS.
 *
 * Access lines count traffic only when gunicorn is the traffic source (no
 * nginx read); otherwise they are `ignored`, so a request proxied by nginx
 * is never counted twice.
 */
import { isTracebackLine } from '../formats/python-traceback.js';
import { PythonFormat, PythonLogReader } from '../formats/python-log.js';
import { LineFields } from '../records/fields.js';
import { MessagePattern } from './message-pattern.js';
import { parseZoneOffset } from './time.js';
import { AccessPattern, type TrafficRecorder } from './traffic.js';
import { LineResult, type ParserContext, type ParserStream, type SourceParser } from './types.js';

export class GunicornParser implements SourceParser {
  private readonly header: PythonLogReader;
  private readonly access: AccessPattern;
  private readonly ownLog: RegExp;
  /** Records out: what the line said (written only while active). */
  private readonly fields: LineFields;
  private readonly ownLogFields: MessagePattern;

  /** `traffic` is undefined when nginx is the traffic source. */
  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder | undefined,
  ) {
    this.header = new PythonLogReader(ctx.grok, parseZoneOffset(ctx.config.python_log_timezone));
    this.access = new AccessPattern(ctx.grok, 'QUAY_GUNICORN_ACCESS');
    this.ownLog = ctx.grok.compile('%{QUAY_GUNICORN_ERROR_LOG}', { mode: 'sticky' }).regex;
    this.fields = ctx.fields ?? new LineFields();
    // The same pattern, read for its fields only while records out is on (the metrics path only tests it).
    this.ownLogFields = new MessagePattern(ctx.grok, 'QUAY_GUNICORN_ERROR_LOG', ['pid', 'level']);
  }

  parse(line: string, start: number, stream?: ParserStream): LineResult {
    const h = this.header;
    if (!h.read(line, start)) {
      this.ownLog.lastIndex = start;
      if (this.ownLog.test(line)) {
        if (this.fields.active && this.ownLogFields.match(line, start)) {
          this.fields.python({ pid: this.ownLogFields.get(0), level: this.ownLogFields.get(1), logger: '' });
        }
        return LineResult.Matched;
      }
      return isTracebackLine(line, start) ? LineResult.Matched : LineResult.Unmatched;
    }
    if (this.fields.active) this.fields.python(h);
    if (h.format === PythonFormat.Json) {
      if (!this.access.read(h.message, 0)) return LineResult.Matched;
      if (this.traffic === undefined) return LineResult.Ignored;
      this.traffic.record(this.access.record, stream);
      return LineResult.Matched;
    }
    if (h.logger !== 'gunicorn.access') return LineResult.Matched;
    if (this.traffic === undefined) return LineResult.Ignored;
    if (!this.access.read(h.message, 0)) return LineResult.Unmatched;
    this.traffic.record(this.access.record, stream);
    return LineResult.Matched;
  }
}

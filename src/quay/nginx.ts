/**
 * nginx lines of Quay's container: the access log (`log_format lb_logs`,
 * QUAY_NGINX_ACCESS; `()` or `(-)` for no proxy-protocol address), the
 * plain-HTTP server's lines in nginx's `combined` format
 * (QUAY_NGINX_COMBINED) and the error log (QUAY_NGINX_ERROR).
 *
 * When nginx is the traffic source, `lb_logs` lines feed quay_http_* and the
 * registry series; `combined` lines (redirects to HTTPS, which the client
 * repeats over HTTPS) feed quay_http_requests_total only. When gunicorn is
 * the traffic source (`traffic` undefined) access lines of both formats are
 * `ignored`: a request is counted from one log only.
 */
import { LineFields } from '../records/fields.js';
import { MessagePattern } from './message-pattern.js';
import { AccessPattern, type TrafficRecorder } from './traffic.js';
import { LineResult, type ParserContext, type ParserStream, type SourceParser } from './types.js';

export class NginxParser implements SourceParser {
  private readonly access: AccessPattern;
  private readonly combined: AccessPattern;
  private readonly error: RegExp;
  /** Records out: what an error line said (read only while active). */
  private readonly fields: LineFields;
  private readonly errorFields: MessagePattern;

  /** `traffic` is undefined when gunicorn is the traffic source. */
  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder | undefined,
  ) {
    this.access = new AccessPattern(ctx.grok, 'QUAY_NGINX_ACCESS');
    this.combined = new AccessPattern(ctx.grok, 'QUAY_NGINX_COMBINED');
    this.error = ctx.grok.compile('%{QUAY_NGINX_ERROR}', { mode: 'sticky' }).regex;
    this.fields = ctx.fields ?? new LineFields();
    this.errorFields = new MessagePattern(ctx.grok, 'QUAY_NGINX_ERROR', ['level', 'pid']);
  }

  parse(line: string, start: number, stream?: ParserStream): LineResult {
    if (this.access.read(line, start)) {
      if (this.traffic === undefined) return LineResult.Ignored;
      this.traffic.record(this.access.record, stream);
      return LineResult.Matched;
    }
    if (this.combined.read(line, start)) {
      if (this.traffic === undefined) return LineResult.Ignored;
      this.traffic.recordHttpOnly(this.combined.record);
      return LineResult.Matched;
    }
    this.error.lastIndex = start;
    if (!this.error.test(line)) return LineResult.Unmatched;
    if (this.fields.active && this.errorFields.match(line, start)) this.fields.python({ pid: this.errorFields.get(1), level: this.errorFields.get(0), logger: '' });
    return LineResult.Matched;
  }
}

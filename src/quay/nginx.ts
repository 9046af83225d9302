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
import { AccessPattern, type TrafficRecorder } from './traffic.js';
import { LineResult, type ParserContext, type ParserStream, type SourceParser } from './types.js';

export class NginxParser implements SourceParser {
  private readonly access: AccessPattern;
  private readonly combined: AccessPattern;
  private readonly error: RegExp;

  /** `traffic` is undefined when gunicorn is the traffic source. */
  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder | undefined,
  ) {
    this.access = new AccessPattern(ctx.grok, 'QUAY_NGINX_ACCESS');
    this.combined = new AccessPattern(ctx.grok, 'QUAY_NGINX_COMBINED');
    this.error = ctx.grok.compile('%{QUAY_NGINX_ERROR}', { mode: 'sticky' }).regex;
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
    return this.error.test(line) ? LineResult.Matched : LineResult.Unmatched;
  }
}

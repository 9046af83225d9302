/**
 * nginx lines of Quay's container: the access log (`log_format lb_logs`,
 * QUAY_NGINX_ACCESS) and the error log (QUAY_NGINX_ERROR). Access lines feed
 * quay_http_* always, and the registry traffic series when nginx is the
 * traffic source.
 */
import { AccessPattern, type TrafficRecorder } from './traffic.js';
import { LineResult, type ParserContext, type ParserStream, type SourceParser } from './types.js';

export class NginxParser implements SourceParser {
  private readonly access: AccessPattern;
  private readonly error: RegExp;

  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder,
  ) {
    this.access = new AccessPattern(ctx.grok, 'QUAY_NGINX_ACCESS');
    this.error = ctx.grok.compile('%{QUAY_NGINX_ERROR}', { mode: 'sticky' }).regex;
  }

  parse(line: string, start: number, stream?: ParserStream): LineResult {
    if (this.access.read(line, start)) {
      this.traffic.record(this.access.record, stream);
      return LineResult.Matched;
    }
    this.error.lastIndex = start;
    return this.error.test(line) ? LineResult.Matched : LineResult.Unmatched;
  }
}

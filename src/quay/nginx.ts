/**
 * nginx lines of Quay's container: the access log (`log_format lb_logs`,
 * QUAY_NGINX_ACCESS) and the error log (QUAY_NGINX_ERROR). Access lines feed
 * quay_http_* always, and the registry traffic series when nginx is the
 * traffic source.
 */
import { LineResult, type ParserContext, type SourceParser } from './types.js';
import { TrafficRecorder, type AccessRecord } from './traffic.js';

export class NginxParser implements SourceParser {
  private readonly access: RegExp;
  private readonly error: RegExp;
  private readonly g: Record<
    'client' | 'timestamp' | 'method' | 'request' | 'status' | 'bytes_sent' | 'agent' | 'request_time' | 'request_length',
    number
  >;
  private readonly record: AccessRecord = {
    method: undefined,
    path: undefined,
    status: '',
    bytesSent: 0,
    requestBytes: Number.NaN,
    seconds: Number.NaN,
    timestamp: '',
    client: '',
    agent: '',
  };

  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder,
  ) {
    const access = ctx.grok.compile('%{QUAY_NGINX_ACCESS}', { mode: 'sticky' });
    this.access = access.regex;
    this.error = ctx.grok.compile('%{QUAY_NGINX_ERROR}', { mode: 'sticky' }).regex;
    this.g = {
      client: access.group('client'),
      timestamp: access.group('timestamp'),
      method: access.group('method'),
      request: access.group('request'),
      status: access.group('status'),
      bytes_sent: access.group('bytes_sent'),
      agent: access.group('agent'),
      request_time: access.group('request_time'),
      request_length: access.group('request_length'),
    };
  }

  parse(line: string, start: number): LineResult {
    const re = this.access;
    re.lastIndex = start;
    const m = re.exec(line);
    if (m === null) {
      this.error.lastIndex = start;
      return this.error.test(line) ? LineResult.Matched : LineResult.Unmatched;
    }
    const g = this.g;
    const r = this.record;
    r.method = m[g.method];
    r.path = m[g.request];
    r.status = m[g.status]!;
    r.bytesSent = +m[g.bytes_sent]!;
    r.requestBytes = +m[g.request_length]!;
    r.seconds = +m[g.request_time]!;
    r.timestamp = m[g.timestamp]!;
    r.client = m[g.client]!;
    r.agent = m[g.agent] ?? '';
    this.traffic.record(r);
    return LineResult.Matched;
  }
}

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
import type { TrafficRecorder, AccessRecord } from './traffic.js';
import { LineResult, type ParserContext, type SourceParser } from './types.js';
import { parseZoneOffset } from './time.js';

export class GunicornParser implements SourceParser {
  private readonly header: PythonLogReader;
  private readonly access: RegExp;
  private readonly ownLog: RegExp;
  private readonly g: Record<'client' | 'timestamp' | 'method' | 'request' | 'status' | 'bytes_sent' | 'agent', number>;
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

  /** `traffic` is undefined when nginx is the traffic source. */
  constructor(
    ctx: ParserContext,
    private readonly traffic: TrafficRecorder | undefined,
  ) {
    this.header = new PythonLogReader(ctx.grok, parseZoneOffset(ctx.config.python_log_timezone));
    const access = ctx.grok.compile('%{QUAY_GUNICORN_ACCESS}', { mode: 'sticky' });
    this.access = access.regex;
    this.ownLog = ctx.grok.compile('%{QUAY_GUNICORN_ERROR_LOG}', { mode: 'sticky' }).regex;
    this.g = {
      client: access.group('client'),
      timestamp: access.group('timestamp'),
      method: access.group('method'),
      request: access.group('request'),
      status: access.group('status'),
      bytes_sent: access.group('bytes_sent'),
      agent: access.group('agent'),
    };
  }

  parse(line: string, start: number): LineResult {
    const h = this.header;
    if (!h.read(line, start)) {
      this.ownLog.lastIndex = start;
      return this.ownLog.test(line) ? LineResult.Matched : LineResult.Unmatched;
    }
    if (h.logger !== 'gunicorn.access') return LineResult.Matched;
    if (this.traffic === undefined) return LineResult.Ignored;
    this.access.lastIndex = 0;
    const m = this.access.exec(h.message);
    if (m === null) return LineResult.Unmatched;
    const g = this.g;
    const r = this.record;
    r.method = m[g.method];
    r.path = m[g.request];
    r.status = m[g.status]!;
    const bytes = m[g.bytes_sent];
    r.bytesSent = bytes === undefined || bytes === '-' ? 0 : +bytes;
    r.timestamp = m[g.timestamp]!;
    r.client = m[g.client]!;
    r.agent = m[g.agent] ?? '';
    this.traffic.record(r);
    return LineResult.Matched;
  }
}

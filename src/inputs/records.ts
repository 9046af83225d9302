/**
 * Records in: Fluent records (a Forward connection, stdin JSON lines or
 * MessagePack) become lines. The line is `record[message_key]`; with
 * `program_key`, a record whose supervisord prefix was stripped upstream gets
 * it back (`nginx stdout | …`) so the supervisord router sends it where a
 * file line would go; `tag_sources` picks the source from the Fluent tag.
 * Each origin+tag is one stream (forward: + the record's Kubernetes container, forward/streams.ts).
 */
import type { InputConfig, InputSource } from '../config/schema.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';
import type { OriginSlot } from '../records/record.js';
import type { LineStream, OpenSourceStream } from './types.js';

export type SkipReason = 'no_message' | 'invalid_entry';

export interface RecordLines {
  /**
   * The stream of one origin (`id`) and tag; its source comes from `tag_sources`, else the input's `source`.
   * `container`: the Kubernetes pod the records came from (the stream's pod, as a container log file's).
   */
  open(id: string, tag: string, container?: { readonly pod: string; readonly namespace: string }): RecordStream;
  /** A record that could not be read at all (not a map, bad time). */
  skip(reason: SkipReason, n?: number): void;
}

export interface RecordStream {
  readonly source: InputSource;
  /** Hands the record's line over (synchronously: it is recorded when this returns). */
  /** `timeMs`: the Fluent time it arrived with, for records out. */
  push(record: Record<string, unknown>, timeMs?: number): void;
  end(): void;
}

const utf8 = new TextDecoder();

export function createRecordLines(config: InputConfig, registry: MetricRegistry, openStream: OpenSourceStream, origin?: OriginSlot): RecordLines {
  const keepOrigin = origin !== undefined && origin.active;
  const input = config.name ?? config.type;
  const messageKey = config.message_key;
  const programKey = config.program_key;
  const max = config.max_line_bytes;
  const received = registry.counter('quay_log_exporter_records_received_total');
  const skipped = registry.counter('quay_log_exporter_records_skipped_total');
  const noMessage = skipped.at(input, 'no_message');
  const truncated = registry.counter('quay_log_exporter_lines_truncated_total').at();
  const sourceOf = compileTagSources(config.tag_sources, config.source);

  return {
    open(id, tag, container) {
      const source = sourceOf(tag);
      const stream: LineStream = openStream(source, container === undefined ? { id, tag } : { id, tag, pod: container.pod, namespace: container.namespace });
      const count: ValueSlot = received.at(input, source);
      return {
        source,
        push(record, timeMs) {
          let v = record[messageKey];
          if (typeof v !== 'string') {
            if (!(v instanceof Uint8Array)) {
              noMessage.value++;
              return;
            }
            v = utf8.decode(v);
          }
          let line = v as string;
          // Docker's and Fluent Bit's `log` keeps the newline the program wrote.
          if (line.endsWith('\n')) line = line.slice(0, line.endsWith('\r\n') ? -2 : -1);
          // Only the supervisord router reads the prefix; a stream routed to one source by its tag gets the text as it is.
          if (programKey !== undefined && source === 'supervisord') {
            const p = record[programKey];
            if (typeof p === 'string' && p !== '' && !line.startsWith(p + ' ')) line = `${p} stdout | ${line}`;
          }
          // As the splitter: a line past max_line_bytes is cut and counted (UTF-8 length, checked only when it could be over).
          if (line.length * 3 > max && Buffer.byteLength(line) > max) {
            line = Buffer.from(line).subarray(0, max).toString();
            truncated.value++;
          }
          count.value++;
          if (keepOrigin) origin.current = { record, tag, time: timeMs };
          stream.line(line);
        },
        end: () => stream.end(),
      };
    },
    skip(reason, n = 1) {
      skipped.at(input, reason).value += n;
    },
  };
}

/**
 * `tag_sources` as Fluentd's <match> reads a pattern: `*` one tag part,
 * `**` zero or more parts, `{a,b}` either. First pattern that matches wins;
 * no match: the input's own source.
 */
export function compileTagSources(patterns: Readonly<Record<string, InputSource>>, fallback: InputSource): (tag: string) => InputSource {
  const rules = Object.entries(patterns).map(([pattern, source]) => ({ re: tagPattern(pattern), source }));
  if (rules.length === 0) return () => fallback;
  return (tag) => {
    for (const r of rules) if (r.re.test(tag)) return r.source;
    return fallback;
  };
}

export function tagPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (pattern.startsWith('.**', i)) {
      re += '(?:\\..*)?';
      i += 2;
    } else if (pattern.startsWith('**.', i)) {
      re += '(?:.*\\.)?';
      i += 2;
    } else if (pattern.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') re += '[^.]+';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',') re += '|';
    else re += c.replace(/[\\^$.|?+()[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * stdin `format: json | msgpack`: records, as Fluentd's out_exec_filter writes
 * them to its child (`<format> json`: one JSON object per line; `<format>
 * msgpack`: maps back to back). A record may also be a `[time, record]`
 * entry. Each record's line goes through RecordLines like a Forward record's.
 * A JSON line that does not parse, or a value that is no record, is counted
 * (`records_skipped_total{reason="invalid_entry"}`) and skipped; a msgpack
 * byte that starts no value cannot be resynchronised, so reading stops there
 * (logged).
 */
import type { InputConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MetricRegistry } from '../metrics/series.js';
import type { OriginSlot } from '../records/record.js';
import { decoder, MessageSplitter, readEntry, timeToMillis } from './forward/protocol.js';
import { createRecordLines } from './records.js';
import { LineSplitter } from './splitter.js';
import type { OpenSourceStream } from './types.js';

export interface ByteReader {
  write(chunk: Buffer): void;
  /** End of input: a last JSON line without newline is read; the stream ends. */
  end(): void;
}

export function createRecordReader(config: InputConfig, registry: MetricRegistry, openStream: OpenSourceStream, log: Logger, origin?: OriginSlot): ByteReader {
  const records = createRecordLines(config, registry, openStream, origin);
  const stream = records.open(`stdin:${config.name ?? 'stdin'}`, '');
  const take = (value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)) {
      stream.push(value as Record<string, unknown>);
      return;
    }
    const entry = readEntry(value);
    if (entry) stream.push(entry.record, timeToMillis(entry.time));
    else records.skip('invalid_entry');
  };

  if (config.format === 'json') {
    const truncated = registry.counter('quay_log_exporter_lines_truncated_total').at();
    const lines = new LineSplitter(
      config.max_line_bytes,
      (line) => {
        if (line.trim() === '') return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          records.skip('invalid_entry');
          return;
        }
        take(value);
      },
      () => truncated.value++,
    );
    return {
      write: (chunk) => lines.write(chunk),
      end: () => {
        lines.flushPartial();
        stream.end();
      },
    };
  }

  let broken = false;
  const values = new MessageSplitter(config.max_line_bytes, (frame) => {
    let value: unknown;
    try {
      value = decoder.decode(frame);
    } catch {
      records.skip('invalid_entry');
      return;
    }
    take(value);
  });
  return {
    write: (chunk) => {
      if (broken) return;
      try {
        values.write(chunk);
      } catch (err) {
        broken = true;
        log.error('stdin msgpack: cannot find the next record, the rest of stdin is not read', { input: config.name, error: (err as Error).message });
      }
    },
    end: () => {
      if (values.pending > 0) records.skip('invalid_entry');
      stream.end();
    },
  };
}

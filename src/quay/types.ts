/**
 * The contract between the router and the per-source parsers.
 *
 * A parser receives a line and the index where the source's own text starts
 * (after a supervisord `<program> stdout | ` prefix, else 0), records what the
 * line means into metric slots and events, and says how the line counted.
 */
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events.js';
import type { PatternLibrary } from '../grok/index.js';
import type { StreamInfo } from '../inputs/types.js';
import type { Logger } from '../log.js';
import type { MetricRegistry } from '../metrics/series.js';
import type { LineFields } from '../records/fields.js';

/** How a line counted in quay_log_exporter_lines_total{result}. */
export const enum LineResult {
  /** It matched its source's grammar. */
  Matched = 0,
  /** It belongs to a known source but matched none of its patterns. */
  Unmatched = 1,
  /** Deliberately not interpreted (another program; traffic counted elsewhere). */
  Ignored = 2,
}

export interface ParserContext {
  readonly config: Config;
  readonly registry: MetricRegistry;
  readonly events: EventBus;
  readonly grok: PatternLibrary;
  readonly log: Logger;
  /** Records out: a parser writes what it read from the line here, only while `fields.active` (src/records/README.md). */
  readonly fields?: LineFields;
}

/**
 * What a parser gets with each line: the stream the line came from. A parser
 * that keeps state between lines makes its own stream object once per stream
 * (`openStream`) and keeps that state in it, so a line costs no lookup; two
 * pods' worker pids never meet.
 */
export interface ParserStream {
  readonly info: StreamInfo;
}

export interface SourceParser<S extends ParserStream = ParserStream> {
  /**
   * `stream` is what `openStream` made for the line's stream (or `{info}` for a
   * parser without one); omitted, the parser's one anonymous stream.
   */
  parse(line: string, start: number, stream?: S): LineResult;
  /** Per-stream state, made when a stream's first line for this parser arrives. */
  openStream?(info: StreamInfo): S;
  /** The stream ended (file deleted, pod gone, connection closed): close its open state as an idle gap would, and drop it. */
  endStream?(stream: S): void;
}

/** The stream of lines that come with none: `handler(source)`, tests, `parse(line, start)`. */
export const ANONYMOUS_STREAM: StreamInfo = { id: 'anonymous' };

/** An event's `stream` (spread into it): its pod, when it came from a container's log. */
export function eventStream(info: StreamInfo | undefined): { stream?: StreamInfo } {
  return info === undefined || info.pod === undefined ? {} : { stream: info };
}

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
import type { Logger } from '../log.js';
import type { MetricRegistry } from '../metrics/series.js';

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
}

export interface SourceParser {
  parse(line: string, start: number): LineResult;
}

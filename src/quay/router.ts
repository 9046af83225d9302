/**
 * Routing: each line goes to exactly one parser, chosen by the input's
 * `source`, or for the supervisord stream by the line's program prefix
 * (`nginx stdout | …`, src/formats/supervisord.ts), looked up in a table: no
 * RegExp and no trial of every pattern. A line with no prefix is
 * supervisord's own (source `supervisord`) or the start-up script's (source
 * `container`), else `other`/unmatched. The router also counts every line
 * once in quay_log_exporter_lines_total{source, result}.
 *
 * Each stream (a file, stdin, a Forward connection + tag) gets its own
 * per-parser state, made on the stream's first line for that parser and
 * handed to the parser with every line: an array index, not a lookup.
 */
import type { InputSource, SourceName } from '../config/schema.js';
import { prefixEnd, textStartAfter } from '../formats/supervisord.js';
import type { LineStream, StreamInfo } from '../inputs/types.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';
import { LineResult, type ParserStream, type SourceParser } from './types.js';

/** supervisord program names in Quay's container, and the source that reads them. */
export const PROGRAM_SOURCES: Readonly<Record<string, SourceName>> = {
  nginx: 'nginx',
  'gunicorn-registry': 'gunicorn',
  'gunicorn-web': 'gunicorn',
  'gunicorn-secscan': 'gunicorn',
  repomirrorworker: 'repomirrorworker',
  gcworker: 'gcworker',
  namespacegcworker: 'gcworker',
  repositorygcworker: 'gcworker',
};

/** Lines of other programs (buildlogsarchiver, securityworker, …) and unknown lines with no prefix. */
export const OTHER_SOURCE = 'other';
/** supervisord's own lines (`2021-07-14 12:23:46,123 INFO spawned: …`). */
export const SUPERVISORD_SOURCE = 'supervisord';
/** The container start-up script's lines (quay-entrypoint.sh, conf/init/*.sh). */
export const CONTAINER_SOURCE = 'container';

/** Parsers of the lines with no program prefix (stateless). */
export interface UnprefixedParsers {
  readonly supervisord: SourceParser;
  readonly container: SourceParser;
}

interface Route {
  readonly parser: SourceParser;
  /** Indexed by LineResult. */
  readonly lines: readonly [ValueSlot, ValueSlot, ValueSlot];
  /** Where a stream keeps this parser's state. */
  readonly index: number;
}

export type Parsers = Readonly<Record<SourceName, SourceParser>>;

/** The lines of one input source; each stream opened on it keeps its own parser state. */
export interface Router {
  open(info: StreamInfo): LineStream;
}

function openState(route: Route, info: StreamInfo): ParserStream {
  return route.parser.openStream?.(info) ?? { info };
}

/** end(): every parser state the stream made is closed, once; a later line starts afresh. */
function endStates(routes: readonly Route[], states: (ParserStream | undefined)[]): void {
  for (const r of routes) {
    const st = states[r.index];
    if (st === undefined) continue;
    states[r.index] = undefined;
    r.parser.endStream?.(st);
  }
}

function lineSlots(registry: MetricRegistry, source: string): [ValueSlot, ValueSlot, ValueSlot] {
  const lines = registry.counter('quay_log_exporter_lines_total');
  return [lines.at(source, 'matched'), lines.at(source, 'unmatched'), lines.at(source, 'ignored')];
}

const UNKNOWN: SourceParser = { parse: () => LineResult.Unmatched };
/** Without parsers for them, every line with no prefix is `other`/unmatched. */
const NO_UNPREFIXED: UnprefixedParsers = { supervisord: UNKNOWN, container: UNKNOWN };

export function createRouter(source: InputSource, parsers: Parsers, registry: MetricRegistry, unprefixed = NO_UNPREFIXED): Router {
  if (source !== 'supervisord') {
    const route: Route = { parser: parsers[source], lines: lineSlots(registry, source), index: 0 };
    return {
      open(info) {
        const states: (ParserStream | undefined)[] = [undefined];
        return {
          line: (line) => {
            const st = (states[0] ??= openState(route, info));
            route.lines[route.parser.parse(line, 0, st)].value++;
          },
          end: () => endStates([route], states),
        };
      },
    };
  }

  const routes = new Map<string, Route>();
  const bySource = new Map<SourceName, Route>();
  for (const [program, src] of Object.entries(PROGRAM_SOURCES)) {
    let route = bySource.get(src);
    if (!route) bySource.set(src, (route = { parser: parsers[src], lines: lineSlots(registry, src), index: bySource.size }));
    routes.set(program, route);
  }
  const all = [...bySource.values()];
  const [, otherUnmatched, otherIgnored] = lineSlots(registry, OTHER_SOURCE);
  // These two only ever match (a line that does not is `other`/unmatched): one series each.
  const supervisordLines = registry.counter('quay_log_exporter_lines_total').at(SUPERVISORD_SOURCE, 'matched');
  const containerLines = registry.counter('quay_log_exporter_lines_total').at(CONTAINER_SOURCE, 'matched');
  const { supervisord, container } = unprefixed;

  return {
    open(info) {
      const states: (ParserStream | undefined)[] = all.map(() => undefined);
      return {
        line: (line) => {
          const end = prefixEnd(line);
          if (end < 0) {
            // Rare (restarts): supervisord's own line, else the start-up script's, else unknown.
            if (supervisord.parse(line, 0) === LineResult.Matched) supervisordLines.value++;
            else if (container.parse(line, 0) === LineResult.Matched) containerLines.value++;
            else otherUnmatched.value++;
            return;
          }
          const route = routes.get(line.slice(0, end));
          if (route === undefined) {
            otherIgnored.value++;
            return;
          }
          const st = (states[route.index] ??= openState(route, info));
          route.lines[route.parser.parse(line, textStartAfter(line, end), st)].value++;
        },
        end: () => endStates(all, states),
      };
    },
  };
}

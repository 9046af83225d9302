/**
 * Routing: each line goes to exactly one parser, chosen by the input's
 * `source`, or for the supervisord stream by the line's program prefix
 * (`nginx stdout | …`, src/formats/supervisord.ts), looked up in a table: no
 * RegExp and no trial of every pattern. A line with no prefix is
 * supervisord's own (source `supervisord`) or the start-up script's (source
 * `container`), else `other`/unmatched. The router also counts every line
 * once in quay_log_exporter_lines_total{source, result}.
 *
 * Each stream (a file, stdin, a Forward input's tag + container) gets its own
 * per-parser state, made on the stream's first line for that parser and
 * handed to the parser with every line: an array index, not a lookup.
 */
import type { InputSource, SourceName } from '../config/schema.js';
import { prefixEnd, textStartAfter } from '../formats/supervisord.js';
import type { LineStream, StreamInfo } from '../inputs/types.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';
import type { RuleSet, RuleTable } from '../rules/index.js';
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
  /** The source's name, as in lines_total{source}. */
  readonly name: SourceName;
  readonly parser: SourceParser;
  /** Indexed by LineResult. */
  readonly lines: readonly [ValueSlot, ValueSlot, ValueSlot];
  /** Where a stream keeps this parser's state. */
  readonly index: number;
}

/** A supervisord program: its source's route, and the rules (src/rules) that name it, run after the parser. */
interface ProgramRoute {
  /** undefined for a program only rules read (its lines count under `other`). */
  readonly route: Route | undefined;
  readonly rules: RuleTable | undefined;
  readonly program: string;
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

/** Told of every line after it was counted, with the source that read it (records out). */
export type LineObserver = (source: string, result: LineResult, line: string) => void;

/**
 * `rules`: the user's and shipped rules (src/rules); a program's table is looked up here, once.
 * `observe`: records out (src/records), told of each line after it was counted.
 */
export function createRouter(
  source: InputSource,
  parsers: Parsers,
  registry: MetricRegistry,
  unprefixed = NO_UNPREFIXED,
  rules?: RuleSet,
  observe?: LineObserver,
): Router {
  if (source !== 'supervisord') {
    const route: Route = { name: source, parser: parsers[source], lines: lineSlots(registry, source), index: 0 };
    const table = rules?.forSource(source);
    return {
      open(info) {
        const states: (ParserStream | undefined)[] = [undefined];
        return {
          line: (line) => {
            const st = (states[0] ??= openState(route, info));
            const result = route.parser.parse(line, 0, st);
            if (table !== undefined) table.apply(line, 0, result === LineResult.Matched, source, info);
            route.lines[result].value++;
            if (observe !== undefined) observe(source, result, line);
          },
          end: () => endStates([route], states),
        };
      },
    };
  }

  const routes = new Map<string, ProgramRoute>();
  const bySource = new Map<SourceName, Route>();
  for (const [program, src] of Object.entries(PROGRAM_SOURCES)) {
    let route = bySource.get(src);
    if (!route) bySource.set(src, (route = { name: src, parser: parsers[src], lines: lineSlots(registry, src), index: bySource.size }));
    routes.set(program, { route, rules: rules?.forProgram(program), program });
  }
  const all = [...bySource.values()];
  const otherLines = lineSlots(registry, OTHER_SOURCE);
  const [, otherUnmatched, otherIgnored] = otherLines;
  // Programs no built-in parser reads but a rule names: their lines count under `other`, matched when a rule matched.
  for (const program of rules?.programs() ?? []) {
    if (!routes.has(program)) routes.set(program, { route: undefined, rules: rules!.forProgram(program), program });
  }
  // These two only ever match (a line that does not is `other`/unmatched): one series each.
  const supervisordLines = registry.counter('quay_log_exporter_lines_total').at(SUPERVISORD_SOURCE, 'matched');
  const containerLines = registry.counter('quay_log_exporter_lines_total').at(CONTAINER_SOURCE, 'matched');
  const { supervisord, container } = unprefixed;
  // Programs by name length: a line's program is found by comparing it in place (startsWith), not
  // by cutting it out of the line and hashing it for the Map, on every line.
  const byLength: ProgramRoute[][] = [];
  for (const p of routes.values()) (byLength[p.program.length] ??= []).push(p);

  return {
    open(info) {
      const states: (ParserStream | undefined)[] = all.map(() => undefined);
      return {
        line: (line) => {
          const end = prefixEnd(line);
          if (end < 0) {
            // Rare (restarts): supervisord's own line, else the start-up script's, else unknown.
            if (supervisord.parse(line, 0) === LineResult.Matched) {
              supervisordLines.value++;
              if (observe !== undefined) observe(SUPERVISORD_SOURCE, LineResult.Matched, line);
            } else if (container.parse(line, 0) === LineResult.Matched) {
              containerLines.value++;
              if (observe !== undefined) observe(CONTAINER_SOURCE, LineResult.Matched, line);
            } else {
              otherUnmatched.value++;
              if (observe !== undefined) observe(OTHER_SOURCE, LineResult.Unmatched, line);
            }
            return;
          }
          let p: ProgramRoute | undefined;
          const sameLength = byLength[end];
          if (sameLength !== undefined) {
            for (const candidate of sameLength) {
              if (line.startsWith(candidate.program)) {
                p = candidate;
                break;
              }
            }
          }
          if (p === undefined) {
            otherIgnored.value++;
            if (observe !== undefined) observe(OTHER_SOURCE, LineResult.Ignored, line);
            return;
          }
          const start = textStartAfter(line, end);
          const route = p.route;
          if (route === undefined) {
            const r = p.rules!.apply(line, start, false, p.program, info) ? LineResult.Matched : LineResult.Ignored;
            otherLines[r].value++;
            if (observe !== undefined) observe(OTHER_SOURCE, r, line);
            return;
          }
          const st = (states[route.index] ??= openState(route, info));
          const result = route.parser.parse(line, start, st);
          if (p.rules !== undefined) p.rules.apply(line, start, result === LineResult.Matched, p.program, info);
          route.lines[result].value++;
          if (observe !== undefined) observe(route.name, result, line);
        },
        end: () => endStates(all, states),
      };
    },
  };
}

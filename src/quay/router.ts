/**
 * Routing: each line goes to exactly one parser, chosen by the input's
 * `source`, or for the supervisord stream by the line's program prefix
 * (`nginx stdout | …`), looked up in a table: no RegExp and no trial of
 * every pattern. The router also counts every line once in
 * quay_log_exporter_lines_total{source, result}.
 */
import type { InputSource, SourceName } from '../config/schema.js';
import type { LineHandler } from '../inputs/types.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';
import type { SourceParser } from './types.js';

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

/** Lines of other programs (buildlogsarchiver, securityworker, …) and lines with no prefix. */
export const OTHER_SOURCE = 'other';

interface Route {
  readonly parser: SourceParser;
  /** Indexed by LineResult. */
  readonly lines: readonly [ValueSlot, ValueSlot, ValueSlot];
}

export type Parsers = Readonly<Record<SourceName, SourceParser>>;

function lineSlots(registry: MetricRegistry, source: string): [ValueSlot, ValueSlot, ValueSlot] {
  const lines = registry.counter('quay_log_exporter_lines_total');
  return [lines.at(source, 'matched'), lines.at(source, 'unmatched'), lines.at(source, 'ignored')];
}

const STDOUT = ' stdout | ';
const STDERR = ' stderr | ';
/** Longest program name we look for: a longer first word is no program prefix. */
const MAX_PROGRAM = 64;

export function createRouter(source: InputSource, parsers: Parsers, registry: MetricRegistry): LineHandler {
  if (source !== 'supervisord') {
    const route: Route = { parser: parsers[source], lines: lineSlots(registry, source) };
    return (line) => {
      route.lines[route.parser.parse(line, 0)].value++;
    };
  }

  const routes = new Map<string, Route>();
  const bySource = new Map<SourceName, Route>();
  for (const [program, src] of Object.entries(PROGRAM_SOURCES)) {
    let route = bySource.get(src);
    if (!route) bySource.set(src, (route = { parser: parsers[src], lines: lineSlots(registry, src) }));
    routes.set(program, route);
  }
  const [, otherUnmatched, otherIgnored] = lineSlots(registry, OTHER_SOURCE);

  return (line) => {
    const sp = line.indexOf(' ');
    if (sp <= 0 || sp > MAX_PROGRAM || !(line.startsWith(STDOUT, sp) || line.startsWith(STDERR, sp))) {
      otherUnmatched.value++;
      return;
    }
    const route = routes.get(line.slice(0, sp));
    if (route === undefined) {
      otherIgnored.value++;
      return;
    }
    route.lines[route.parser.parse(line, sp + STDOUT.length)].value++;
  };
}

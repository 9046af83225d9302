/**
 * Compiles rules (config `rules:` and shipped rules/*.yaml) into matchers and
 * actions, and registers their metrics beside the catalogue. Every problem is
 * collected with the rule's key path (`rules[2].metrics[0].value: …`) and
 * thrown as one ConfigError, so check-config shows them all.
 *
 * The compiler checks that every field an action reads exists in the rule's
 * pattern (or is a line field: program, level, logger), that numbers are
 * captured as numbers, and that no label comes from an unbounded capture.
 */
import { ConfigError } from '../config/error.js';
import { SOURCES } from '../config/sources.js';
import { GrokError, type CompiledGrok, type GrokType, type PatternLibrary } from '../grok/index.js';
import { CATALOGUE, type MetricDef } from '../metrics/catalogue.js';
import type { CounterFamily, HistogramFamily, MetricRegistry, ValueSlot } from '../metrics/series.js';
import { analyseCaptures } from './cardinality.js';
import type { RuleConfig, RuleMetricConfig } from './schema.js';

/** Fields of the line itself, readable by any rule (level and logger: Python log lines, else ""). */
export const LINE_FIELDS = ['program', 'level', 'logger'] as const;
type LineField = (typeof LINE_FIELDS)[number];

/** Prometheus client defaults, for a histogram that names no buckets. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Family.at() takes up to five label values. */
const MAX_LABELS = 5;

/** Where an action reads a value: capture groups (first that took part), a line field, or a constant. */
export type Read =
  | { readonly kind: 'group'; readonly groups: readonly number[]; readonly type: GrokType; readonly fallback: string }
  | { readonly kind: 'line'; readonly field: LineField }
  | { readonly kind: 'const'; readonly value: string };

export interface MetricAction {
  readonly metric: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** In the family's label order. */
  readonly labelNames: readonly string[];
  readonly labels: readonly Read[];
  readonly value: Read | undefined;
  readonly counter: CounterFamily | undefined;
  readonly histogram: HistogramFamily | undefined;
}

export interface EventAction {
  readonly measurement: string;
  readonly tags: ReadonlyArray<readonly [string, Read]>;
  readonly fields: ReadonlyArray<readonly [string, Read]>;
}

export interface CompiledRule {
  readonly name: string;
  /** Where it was written: `rules[3]` or `rules/storage-replication.yaml: rules[0]`. */
  readonly origin: string;
  readonly programs: readonly string[];
  readonly sources: readonly string[];
  readonly levels: ReadonlySet<string> | undefined;
  readonly loggers: ReadonlySet<string> | undefined;
  /** `g` flag (search, or every match) or `y` (anchor: start); shared, used synchronously. */
  readonly regex: RegExp;
  readonly each: boolean;
  readonly includeMatched: boolean;
  readonly metrics: readonly MetricAction[];
  readonly event: EventAction | undefined;
  /** The expression compiled, for the line's time from a `:ts-…` capture (events only). */
  readonly grok: CompiledGrok;
  /** The pattern has a timestamp capture (Telegraf's `:ts-…` modifiers): it is the event's time. */
  readonly timestamped: boolean;
  readonly matches: ValueSlot;
}

/** Capture types whose value is a number. */
export const NUMERIC_TYPES: ReadonlySet<GrokType> = new Set<GrokType>(['int', 'float', 'duration', 'seconds']);

export interface RuleSource {
  readonly rule: RuleConfig;
  /** Key path prefix for messages, e.g. `rules[0]`. */
  readonly at: string;
}

interface SharedMetric {
  readonly def: MetricDef;
  readonly at: string;
}

function sameList(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Compile rules; their metrics are defined in `registry` (call before the
 * MeterProvider is created). Throws ConfigError listing every problem.
 */
export function compileRules(sources: readonly RuleSource[], lib: PatternLibrary, registry: MetricRegistry, origin = 'rules'): CompiledRule[] {
  const problems: string[] = [];
  const shared = new Map<string, SharedMetric>();
  const names = new Map<string, string>();
  const out: Array<Omit<CompiledRule, 'matches'>> = [];
  for (const { rule, at } of sources) {
    const before = problems.length;
    const prior = names.get(rule.name);
    if (prior !== undefined) problems.push(`${at}.name: "${rule.name}" is also the name of ${prior}`);
    names.set(rule.name, at);
    const compiled = compileOne(rule, at, lib, shared, problems);
    // Name the rule in each of its problems: the key path says where, the name says which.
    for (let i = before; i < problems.length; i++) problems[i] += ` [rule ${rule.name}]`;
    if (compiled && problems.length === before) out.push(compiled);
  }
  if (problems.length > 0) throw new ConfigError(origin, problems);
  // Definitions only once every rule is known to be valid: a refused config leaves the registry as it was.
  for (const [name, m] of shared) registry.define(name, m.def);
  return out.map((r) => ({
    ...r,
    metrics: r.metrics.map((a) => ({
      ...a,
      counter: a.type === 'histogram' ? undefined : registry.definedCounter(a.metric),
      histogram: a.type === 'histogram' ? registry.definedHistogram(a.metric) : undefined,
    })),
    matches: registry.counter('quay_log_exporter_rule_matches_total').at(r.name),
  }));
}

function compileOne(
  rule: RuleConfig,
  at: string,
  lib: PatternLibrary,
  shared: Map<string, SharedMetric>,
  problems: string[],
): Omit<CompiledRule, 'matches'> | undefined {
  const programs = rule.programs ?? [];
  const sources = rule.sources ?? [];
  if (programs.length === 0 && sources.length === 0) problems.push(`${at}: name the lines the rule reads with "programs" (supervisord programs) or "sources"`);
  sources.forEach((s, i) => {
    if (!(SOURCES as readonly string[]).includes(s)) problems.push(`${at}.sources[${i}]: "${s}" is not a source (${SOURCES.join(', ')})`);
  });
  if (rule.metrics.length === 0 && rule.event === undefined) problems.push(`${at}: the rule makes nothing: give "metrics" or "event"`);

  // A leading ^ means "at the start of the program's text" (the line's own start is before the supervisord prefix).
  const expression = rule.match.startsWith('^') ? rule.match.slice(1) : rule.match;
  const anchored = rule.anchor === 'start' || expression !== rule.match;
  if (anchored && rule.each_match) problems.push(`${at}.each_match: a rule anchored at the start matches once per line; drop anchor (or the leading ^) or each_match`);
  let compiled;
  try {
    compiled = lib.compile(expression, { mode: anchored ? 'sticky' : 'search' });
  } catch (err) {
    if (!(err instanceof GrokError)) throw err;
    problems.push(`${at}.match: ${err.message}`);
    return undefined;
  }
  const captures = analyseCaptures(lib, expression);
  const groups = new Map<string, { groups: number[]; type: GrokType }>();
  let timestamped = false;
  for (const f of compiled.fields) {
    if (f.type === 'timestamp') timestamped = true;
    // Telegraf's modifiers are not fields: the time goes to the event, a measurement name is not read.
    if (f.type === 'drop' || f.type === 'timestamp' || f.type === 'measurement') continue;
    const g = groups.get(f.name);
    if (g) g.groups.push(f.group);
    else groups.set(f.name, { groups: [f.group], type: f.type });
  }
  const accepted = new Set(rule.accept_unbounded);
  rule.accept_unbounded.forEach((f, i) => {
    if (!groups.has(f)) problems.push(`${at}.accept_unbounded[${i}]: "${f}" is not a field of the pattern`);
  });
  const fieldNames = () => [...groups.keys(), ...LINE_FIELDS].join(', ');

  /** A read of `field`, or undefined (problem noted) when the pattern has no such field. */
  const read = (field: string, path: string, fallback = ''): Read | undefined => {
    const g = groups.get(field);
    if (g) return { kind: 'group', groups: g.groups, type: g.type, fallback };
    if ((LINE_FIELDS as readonly string[]).includes(field)) {
      return { kind: 'line', field: field as LineField };
    }
    problems.push(`${path}: field "${field}" is not captured by the pattern (fields: ${fieldNames()})`);
    return undefined;
  };
  /** A label or tag must be bounded. */
  const bounded = (field: string, path: string): void => {
    const why = captures.get(field)?.unbounded;
    if (why !== undefined && !accepted.has(field)) {
      problems.push(`${path}: field "${field}" would make an unbounded label (${why}); capture it with a bounded pattern, or add it to accept_unbounded if you know its values are few`);
    }
  };
  const numeric = (field: string, path: string): Read | undefined => {
    const r = read(field, path);
    if (r && (r.kind !== 'group' || !NUMERIC_TYPES.has(r.type))) {
      problems.push(`${path}: field "${field}" is not a number: capture it as %{NAME:${field}:int}, :float or :duration`);
      return undefined;
    }
    return r;
  };

  const metrics: MetricAction[] = [];
  rule.metrics.forEach((m, i) => {
    const action = compileMetric(m, `${at}.metrics[${i}]`, read, bounded, numeric, shared, problems);
    if (action) metrics.push(action);
  });

  let event: EventAction | undefined;
  if (rule.event) {
    const e = rule.event;
    const ep = `${at}.event`;
    const tags: Array<[string, Read]> = Object.entries(e.const_tags).map(([k, v]) => [k, { kind: 'const', value: v }]);
    // Without a list, Telegraf's reading: captures typed `:tag` are tags.
    const tagList = e.tags ?? [...groups].filter(([, g]) => g.type === 'tag').map(([f]) => f);
    tagList.forEach((f, i) => {
      const r = read(f, `${ep}.tags[${i}]`);
      if (r) {
        bounded(f, `${ep}.tags[${i}]`);
        tags.push([f, r]);
      }
    });
    const fieldList = e.fields ?? [...groups.keys()].filter((f) => !tagList.includes(f));
    const fields: Array<[string, Read]> = [];
    fieldList.forEach((f, i) => {
      const r = read(f, `${ep}.fields[${i}]`);
      if (r) fields.push([f, r]);
    });
    event = { measurement: e.measurement, tags, fields };
  }

  // `m`: a `$` ends the first line of a multi-line event too (a Python traceback joined to its line by
  // `multiline: python-traceback`), as someone writing a rule for one log line means it.
  const flags = compiled.regex.flags.replace(/[gym]/g, '') + 'm';
  return {
    name: rule.name,
    origin: at,
    programs,
    sources,
    levels: rule.level ? new Set(rule.level) : undefined,
    loggers: rule.logger ? new Set(rule.logger) : undefined,
    regex: new RegExp(compiled.regex.source, flags + (anchored ? 'y' : 'g')),
    each: rule.each_match,
    includeMatched: rule.include_matched,
    metrics,
    event,
    grok: compiled,
    timestamped,
  };
}

function compileMetric(
  m: RuleMetricConfig,
  mp: string,
  read: (field: string, path: string, fallback?: string) => Read | undefined,
  bounded: (field: string, path: string) => void,
  numeric: (field: string, path: string) => Read | undefined,
  shared: Map<string, SharedMetric>,
  problems: string[],
): MetricAction | undefined {
  const before = problems.length;
  if (Object.hasOwn(CATALOGUE, m.name)) problems.push(`${mp}.name: ${m.name} is a built-in metric; choose another name`);
  if (m.type === 'counter' && !m.name.endsWith('_total')) problems.push(`${mp}.name: a counter's name ends in _total (${m.name}_total)`);
  if (m.type !== 'counter' && m.value === undefined) problems.push(`${mp}.value: a ${m.type} needs the field whose number it records`);
  if (m.type !== 'histogram' && m.buckets !== undefined) problems.push(`${mp}.buckets: only a histogram has buckets`);
  const buckets = m.type === 'histogram' ? (m.buckets ?? DEFAULT_BUCKETS) : undefined;
  if (buckets && buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) problems.push(`${mp}.buckets: bounds must be ascending`);

  const byName = new Map<string, Read>();
  const fold: string[] = [];
  for (const [label, src] of Object.entries(m.labels)) {
    const field = typeof src === 'string' ? src : src.field;
    const path = `${mp}.labels.${label}`;
    const r = read(field, path, typeof src === 'string' ? '' : src.default);
    if (!r) continue;
    if (r.kind === 'group') {
      bounded(field, path);
      fold.push(label);
    }
    byName.set(label, r);
  }
  for (const [label, value] of Object.entries(m.const_labels)) {
    if (byName.has(label)) problems.push(`${mp}.const_labels.${label}: also a label from a field`);
    byName.set(label, { kind: 'const', value });
  }
  const value = m.value === undefined ? undefined : numeric(m.value, `${mp}.value`);
  if (byName.size > MAX_LABELS) problems.push(`${mp}.labels: at most ${MAX_LABELS} labels (with const_labels), got ${byName.size}`);

  const labelNames = [...byName.keys()];
  const def: MetricDef = {
    kind: m.type,
    help: m.help ?? `Made by a rule from log lines (${m.name}).`,
    labels: labelNames,
    // Only labels from captures are log-derived: they fold at the series cap and expire with series_ttl.
    // With none, every label folds at the cap (the family's default) and the series never expire.
    fold,
    ...(buckets ? { buckets } : {}),
  };
  const prior = shared.get(m.name);
  if (prior) {
    // Several rules may feed one metric (failures of several kinds), if they agree on its shape.
    const p = prior.def;
    if (p.kind !== def.kind) problems.push(`${mp}.type: ${m.name} is a ${p.kind} in ${prior.at}`);
    else if (!sameList([...p.labels].sort(), [...labelNames].sort())) {
      problems.push(`${mp}.labels: ${m.name} has labels [${p.labels.join(', ')}] in ${prior.at}, here [${labelNames.join(', ')}]`);
    } else if (!sameList(p.buckets ?? [], def.buckets ?? [])) problems.push(`${mp}.buckets: ${m.name} has other buckets in ${prior.at}`);
  } else if (problems.length === before) shared.set(m.name, { def, at: mp });
  if (problems.length > before) return undefined;
  const order = (prior?.def ?? def).labels;
  return {
    metric: m.name,
    type: m.type,
    labelNames: order,
    labels: order.map((l) => byName.get(l)!),
    value,
    counter: undefined,
    histogram: undefined,
  };
}

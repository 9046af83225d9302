/**
 * Runs compiled rules on lines. The router asks for the table of one program
 * (or one input source) once, when it builds its routes, so a rule costs
 * nothing on the lines of programs it does not name: no per-line look-up of
 * rules, no trial of every rule.
 */
import type { EventBus } from '../events.js';
import type { StreamInfo } from '../inputs/types.js';
import { parseGoDurationSeconds, type GrokType, type PatternLibrary } from '../grok/index.js';
import { toFloat, toInt } from '../grok/convert.js';
import { PROGRAM_SOURCES } from '../quay/router.js';
import { PythonLogReader } from '../formats/python-log.js';
import { LineFields } from '../records/fields.js';
import { NUMERIC_TYPES, type CompiledRule, type EventAction, type MetricAction, type Read } from './compile.js';

/** What one metric action made of one match (for `grok --rule` and tests). */
export interface MetricOutcome {
  readonly metric: string;
  readonly type: string;
  readonly labels: Record<string, string>;
  /** undefined when the value field did not take part or was not a number: nothing is recorded. */
  readonly value: number | undefined;
}

export interface EventOutcome {
  readonly measurement: string;
  readonly time: number;
  readonly tags: Record<string, string>;
  readonly fields: Record<string, string | number>;
  /** The stream the line came from (outputs write its pod). */
  readonly stream?: StreamInfo;
}

/** The line being read: its program and, read on demand, its Python header. */
class LineView {
  line = '';
  start = 0;
  program = '';
  stream: StreamInfo | undefined;
  private headerRead = false;
  private hasHeader = false;

  constructor(private readonly header: PythonLogReader) {}

  reset(line: string, start: number, program: string, stream?: StreamInfo): void {
    this.line = line;
    this.start = start;
    this.program = program;
    this.stream = stream;
    this.headerRead = false;
  }

  python(): PythonLogReader | undefined {
    if (!this.headerRead) {
      this.headerRead = true;
      this.hasHeader = this.header.read(this.line, this.start);
    }
    return this.hasHeader ? this.header : undefined;
  }
}

function text(r: Read, m: RegExpExecArray, view: LineView): string {
  switch (r.kind) {
    case 'const':
      return r.value;
    case 'line':
      return r.field === 'program' ? view.program : (view.python()?.[r.field] ?? '');
    case 'group':
      for (const g of r.groups) {
        const v = m[g];
        if (v !== undefined) return v;
      }
      return r.fallback;
  }
}

function number(r: Read, m: RegExpExecArray, view: LineView): number {
  const t = text(r, m, view);
  const type = r.kind === 'group' ? r.type : 'float';
  const n = type === 'duration' || type === 'seconds' ? parseGoDurationSeconds(t) : type === 'int' ? toInt(t) : toFloat(t);
  return Number.isFinite(n) ? n : Number.NaN;
}

function fieldValue(r: Read, m: RegExpExecArray, view: LineView): string | number | undefined {
  if (r.kind === 'group' && r.groups.every((g) => m[g] === undefined)) return undefined;
  if (r.kind === 'group' && NUMERIC_TYPES.has(r.type)) {
    const n = number(r, m, view);
    return Number.isNaN(n) ? undefined : n;
  }
  return text(r, m, view);
}

/** A rule's named captures as reads (first group that took part, typed), for records out. */
function captureReads(rule: CompiledRule): ReadonlyArray<readonly [string, Read]> {
  const groups = new Map<string, { groups: number[]; type: GrokType }>();
  for (const f of rule.grok.fields) {
    if (f.type === 'drop' || f.type === 'timestamp' || f.type === 'measurement') continue;
    const g = groups.get(f.name);
    if (g) g.groups.push(f.group);
    else groups.set(f.name, { groups: [f.group], type: f.type });
  }
  return [...groups].map(([name, g]) => [name, { kind: 'group', groups: g.groups, type: g.type, fallback: '' }] as const);
}

/** Rules of one program (or one non-supervisord input source), in the order written. */
export class RuleTable {
  private readonly view: LineView;
  private readonly values: string[] = ['', '', '', '', ''];
  /** By rule, built on first use (records out only). */
  private captures: ReadonlyArray<ReadonlyArray<readonly [string, Read]>> | undefined;

  constructor(
    readonly rules: readonly CompiledRule[],
    grok: PatternLibrary,
    private readonly events: EventBus,
    zoneOffsetMinutes: number,
    /** Records out: the first matching rule's name and typed captures (written only while active). */
    private readonly fields: LineFields = new LineFields(),
  ) {
    this.view = new LineView(new PythonLogReader(grok, zoneOffsetMinutes));
  }

  /**
   * Apply every rule to the line (its program's text starts at `start`).
   * `builtinMatched`: a built-in parser matched the line, so only rules with
   * include_matched read it. Returns whether any rule matched.
   */
  apply(line: string, start: number, builtinMatched: boolean, program: string, stream?: StreamInfo): boolean {
    const view = this.view;
    view.reset(line, start, program, stream);
    let any = false;
    for (const rule of this.rules) {
      if (builtinMatched && !rule.includeMatched) continue;
      const re = rule.regex;
      re.lastIndex = start;
      let m = re.exec(line);
      if (m === null) continue;
      // The level and logger filters only for a line the pattern matched: reading the Python header of
      // every line of the programs a rule names cost as much as the rule itself (most lines never match).
      if (rule.levels !== undefined || rule.loggers !== undefined) {
        const h = view.python();
        if (h === undefined) continue;
        if (rule.levels !== undefined && !rule.levels.has(h.level)) continue;
        if (rule.loggers !== undefined && !rule.loggers.has(h.logger)) continue;
      }
      if (!any && this.fields.active) this.describe(rule, m, view);
      while (m !== null) {
        any = true;
        rule.matches.value++;
        for (const action of rule.metrics) this.record(action, m, view);
        if (rule.event !== undefined && this.events.active) this.events.emit(eventOf(rule, rule.event, m, view));
        if (!rule.each) break;
        if (m[0].length === 0) re.lastIndex++;
        m = re.exec(line);
      }
    }
    return any;
  }

  /** Records out: `rule` and its `captures` (those that took part, numbers as numbers). */
  private describe(rule: CompiledRule, m: RegExpExecArray, view: LineView): void {
    this.captures ??= this.rules.map(captureReads);
    const captures: Record<string, string | number> = {};
    for (const [name, r] of this.captures[this.rules.indexOf(rule)]!) {
      const v = fieldValue(r, m, view);
      if (v !== undefined) captures[name] = v;
    }
    this.fields.set('rule', rule.name);
    this.fields.set('captures', captures);
  }

  private record(action: MetricAction, m: RegExpExecArray, view: LineView): void {
    const v = this.values;
    const n = action.labels.length;
    for (let i = 0; i < n; i++) v[i] = text(action.labels[i]!, m, view);
    // The array is shared by every action: values left by a metric with more labels must not leak into the key.
    for (let i = n; i < v.length; i++) v[i] = '';
    const value = action.value === undefined ? 1 : number(action.value, m, view);
    if (Number.isNaN(value)) return;
    if (action.histogram !== undefined) {
      const h = action.histogram;
      h.observe(h.at(v[0], v[1], v[2], v[3], v[4]), value);
      return;
    }
    const slot = action.counter!.at(v[0], v[1], v[2], v[3], v[4]);
    if (action.type === 'gauge') slot.value = value;
    // A counter only goes up: a negative capture is not recorded.
    else if (value >= 0) slot.value += value;
  }
}

/** The match's own time: its `:ts-…` capture, else the Python header's time, else now. */
function lineTime(rule: CompiledRule, view: LineView, m: RegExpExecArray): number {
  if (rule.timestamped) {
    // The expression again over this match's text only: each_match's later matches have their own time,
    // and a `$` that ended the first line of a joined event (the rule's RegExp has `m`, grok's not) still fits.
    const t = rule.grok.match(view.line.slice(0, m.index + m[0].length), m.index)?.timestamp?.epochMs;
    if (t !== undefined && Number.isFinite(t)) return t;
  }
  const t = view.python()?.timeMs();
  return t !== undefined && Number.isFinite(t) ? t : Date.now();
}

function eventOf(rule: CompiledRule, e: EventAction, m: RegExpExecArray, view: LineView): EventOutcome {
  const tags: Record<string, string> = {};
  for (const [k, r] of e.tags) {
    const t = text(r, m, view);
    if (t !== '') tags[k] = t;
  }
  const fields: Record<string, string | number> = {};
  for (const [k, r] of e.fields) {
    const v = fieldValue(r, m, view);
    if (v !== undefined) fields[k] = v;
  }
  // A point needs a field: a rule that captures none still records that the line happened.
  if (Object.keys(fields).length === 0) fields['count'] = 1;
  const time = lineTime(rule, view, m);
  return view.stream === undefined ? { measurement: e.measurement, time, tags, fields } : { measurement: e.measurement, time, tags, fields, stream: view.stream };
}

/** What a rule makes of one match, without recording (for `grok --rule`). */
export function describeMatch(rule: CompiledRule, line: string, start: number, program: string, grok: PatternLibrary, zoneOffsetMinutes: number): { metrics: MetricOutcome[]; event?: EventOutcome; skipped?: string } | null {
  const view = new LineView(new PythonLogReader(grok, zoneOffsetMinutes));
  view.reset(line, start, program);
  if (rule.levels !== undefined || rule.loggers !== undefined) {
    const h = view.python();
    if (h === undefined) return { metrics: [], skipped: 'not a Python log line (the rule filters on level or logger)' };
    if (rule.levels !== undefined && !rule.levels.has(h.level)) return { metrics: [], skipped: `level ${h.level} is not one the rule reads` };
    if (rule.loggers !== undefined && !rule.loggers.has(h.logger)) return { metrics: [], skipped: `logger ${h.logger} is not one the rule reads` };
  }
  const re = new RegExp(rule.regex.source, rule.regex.flags);
  re.lastIndex = start;
  const m = re.exec(line);
  if (m === null) return null;
  const metrics = rule.metrics.map((a): MetricOutcome => {
    const labels: Record<string, string> = {};
    a.labelNames.forEach((l, i) => (labels[l] = text(a.labels[i]!, m, view)));
    const v = a.value === undefined ? 1 : number(a.value, m, view);
    return { metric: a.metric, type: a.type, labels, value: Number.isNaN(v) || (a.type === 'counter' && v < 0) ? undefined : v };
  });
  return rule.event ? { metrics, event: eventOf(rule, rule.event, m, view) } : { metrics };
}

/** Every compiled rule, indexed by the programs and input sources it reads. */
export class RuleSet {
  private readonly byProgram = new Map<string, RuleTable>();
  private readonly bySource = new Map<string, RuleTable>();

  constructor(
    readonly rules: readonly CompiledRule[],
    grok: PatternLibrary,
    events: EventBus,
    zoneOffsetMinutes = 0,
    fields?: LineFields,
  ) {
    const programs = new Map<string, CompiledRule[]>();
    const sources = new Map<string, CompiledRule[]>();
    const add = (map: Map<string, CompiledRule[]>, key: string, rule: CompiledRule) => {
      const list = map.get(key) ?? [];
      if (!list.includes(rule)) list.push(rule);
      map.set(key, list);
    };
    for (const rule of rules) {
      for (const p of rule.programs) add(programs, p, rule);
      for (const s of rule.sources) {
        add(sources, s, rule);
        for (const [p, src] of Object.entries(PROGRAM_SOURCES)) if (src === s) add(programs, p, rule);
      }
    }
    // Rules keep the order they were written in, whichever way they name the line.
    const ordered = (list: CompiledRule[]) => rules.filter((r) => list.includes(r));
    for (const [p, list] of programs) this.byProgram.set(p, new RuleTable(ordered(list), grok, events, zoneOffsetMinutes, fields));
    for (const [s, list] of sources) this.bySource.set(s, new RuleTable(ordered(list), grok, events, zoneOffsetMinutes, fields));
  }

  /** The rules of a supervisord program, undefined when none names it. */
  forProgram(program: string): RuleTable | undefined {
    return this.byProgram.get(program);
  }

  /** The rules of an input whose `source` is not supervisord. */
  forSource(source: string): RuleTable | undefined {
    return this.bySource.get(source);
  }

  programs(): string[] {
    return [...this.byProgram.keys()];
  }
}

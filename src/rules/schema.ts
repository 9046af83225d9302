/**
 * The `rules:` section (and the shipped rules/*.yaml files, which hold a
 * `rules:` list in the same format). The schema checks shapes; compile.ts
 * checks what needs the pattern library (fields exist, labels bounded).
 */
import { z } from 'zod';

const RULE_NAME = /^[a-z][a-z0-9_]*$/;
/** Prometheus metric and label names. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));

/** `label: field`, or `label: {field, default}` where `default` stands in when the capture did not take part. */
const labelSource = z.union([
  z.string().min(1),
  z.strictObject({ field: z.string().min(1), default: z.string().default('') }),
]);

export const ruleMetricSchema = z.strictObject({
  name: z.string().regex(METRIC_NAME, 'a Prometheus metric name: letters, digits, "_" and ":", not starting with a digit'),
  type: z.enum(['counter', 'gauge', 'histogram']),
  help: z.string().optional(),
  /** The captured number: added (counter; +1 per match when absent), set (gauge), observed (histogram). */
  value: z.string().min(1).optional(),
  /** Labels from captures: `label: field` (or a list of field names, each its own label). */
  labels: z
    .union([z.array(z.string().regex(LABEL_NAME, 'a label name: letters, digits and "_"')), z.record(z.string().regex(LABEL_NAME, 'a label name: letters, digits and "_"'), labelSource)])
    .default({})
    .transform((v) => (Array.isArray(v) ? Object.fromEntries(v.map((f) => [f, f])) : v)),
  /** Labels with a fixed value. */
  const_labels: z.record(z.string().regex(LABEL_NAME, 'a label name: letters, digits and "_"'), z.string()).default({}),
  /** Histogram bucket upper bounds, ascending. */
  buckets: z.array(z.number()).min(1).optional(),
});

export const ruleEventSchema = z.strictObject({
  measurement: z.string().min(1),
  /** Captured fields written as tags (indexed in InfluxDB: the same boundedness check as labels); default: the `:tag` captures, as Telegraf. */
  tags: z.array(z.string().min(1)).optional(),
  const_tags: z.record(z.string(), z.string()).default({}),
  /** Captured fields written as fields; default: every capture that is not a tag. */
  fields: z.array(z.string().min(1)).optional(),
});

export const ruleSchema = z.strictObject({
  name: z.string().regex(RULE_NAME, 'lower-case snake_case'),
  /** supervisord programs whose lines the rule reads (any program, e.g. storagereplication). */
  programs: oneOrMany.optional(),
  /** Sources (nginx, gunicorn, …): inputs of that source, and in the supervisord stream the programs of it. */
  sources: oneOrMany.optional(),
  /** Python log lines only: levels (INFO, WARNING, ERROR, …) to read; others are skipped before matching. */
  level: oneOrMany.optional(),
  /** Python log lines only: logger names (e.g. workers.storagereplication) to read. */
  logger: oneOrMany.optional(),
  /** A grok expression, searched in the program's text (after the supervisord prefix). */
  match: z.string().min(1),
  /** `start`: the expression must match at the start of the program's text (cheaper on lines it does not fit). */
  anchor: z.enum(['none', 'start']).default('none'),
  /** Apply the actions once per match in the line instead of once per line. */
  each_match: z.boolean().default(false),
  /** Also read lines a built-in parser matched (e.g. nginx lines); by default a rule sees only what no built-in parser read. */
  include_matched: z.boolean().default(false),
  /** Fields that may become labels or tags though their pattern says they are unbounded (you vouch for them). */
  accept_unbounded: z.array(z.string().min(1)).default([]),
  metrics: z.array(ruleMetricSchema).default([]),
  event: ruleEventSchema.optional(),
});

export const rulesSectionSchema = z.array(ruleSchema).default([]);

/** A rules/*.yaml file: the same list a user writes under `rules:`. */
export const ruleFileSchema = z.strictObject({ rules: z.array(ruleSchema) });

export type RuleConfig = z.output<typeof ruleSchema>;
export type RuleMetricConfig = z.output<typeof ruleMetricSchema>;

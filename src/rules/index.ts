/**
 * Rules: metrics and event points from the user's own grok patterns, and the
 * shipped rules/*.yaml written the same way. See README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError, formatKeyPath } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { EventBus } from '../events.js';
import type { PatternLibrary } from '../grok/index.js';
import type { MetricRegistry } from '../metrics/series.js';
import type { LineFields } from '../records/fields.js';
import { parseZoneOffset } from '../quay/time.js';
import { compileRules, type CompiledRule, type RuleSource } from './compile.js';
import { RuleSet } from './engine.js';
import { ruleFileSchema } from './schema.js';

export { RuleSet, RuleTable, describeMatch } from './engine.js';
export type { CompiledRule } from './compile.js';
export { rulesSectionSchema } from './schema.js';

/** Both src/rules (vitest) and dist/rules (after tsc) sit two levels below the repo root. */
export const SHIPPED_RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));

/** The rules of one rules/*.yaml file (or any file in that format). Throws ConfigError naming the file. */
export function readRuleFile(path: string, label = path): RuleSource[] {
  const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: true });
  if (doc.errors.length > 0) throw new ConfigError(label, doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`));
  const parsed = ruleFileSchema.safeParse(doc.toJS());
  if (!parsed.success) throw new ConfigError(label, parsed.error.issues.map((i) => `${formatKeyPath(i.path)}: ${i.message}`));
  return parsed.data.rules.map((rule, i) => ({ rule, at: `${label}: rules[${i}]` }));
}

/** The shipped files, read once per process: `replay` and `run` build a pipeline twice (preflight, then their own). */
let shippedCache: RuleSource[] | undefined;

/** Every shipped rule, file by file in name order. */
export function shippedRules(dir: string = SHIPPED_RULES_DIR): RuleSource[] {
  if (dir === SHIPPED_RULES_DIR) return (shippedCache ??= readShippedRules(dir));
  return readShippedRules(dir);
}

function readShippedRules(dir: string): RuleSource[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return files.flatMap((f) => readRuleFile(join(dir, f), relative(join(dir, '..'), join(dir, f))));
}

/**
 * The rules a config asks for: the shipped ones (unless shipped_rules is
 * false), then its own; a rule of the config replaces a shipped rule of the
 * same name.
 */
export function ruleSources(config: Config): RuleSource[] {
  const own: RuleSource[] = config.rules.map((rule, i) => ({ rule, at: `rules[${i}]` }));
  const ownNames = new Set(own.map((r) => r.rule.name));
  const shipped = config.shipped_rules ? shippedRules().filter((r) => !ownNames.has(r.rule.name)) : [];
  return [...shipped, ...own];
}

/** Compile the config's rules, defining their metrics in `registry` (before the MeterProvider exists). */
export function compileConfigRules(config: Config, grok: PatternLibrary, registry: MetricRegistry, origin = '(config)'): CompiledRule[] {
  return compileRules(ruleSources(config), grok, registry, origin);
}

/** `fields`: records out, told which rule matched a line and its captures. */
export function createRuleSet(config: Config, grok: PatternLibrary, registry: MetricRegistry, events: EventBus, fields?: LineFields): RuleSet {
  return new RuleSet(compileConfigRules(config, grok, registry), grok, events, parseZoneOffset(config.python_log_timezone), fields);
}

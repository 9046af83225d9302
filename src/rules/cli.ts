/**
 * `quay-log-exporter grok --rule NAME [LINE…]`: what a rule makes of each
 * line, like `telegraf --test`: one JSON object per line, with every metric
 * (name, labels, value) and the event point, or why nothing was made.
 * A line may carry its supervisord prefix (`storagereplication stdout | …`);
 * without one it is taken as a line of the rule's first program or source.
 */
import type { Config } from '../config/schema.js';
import type { PatternLibrary } from '../grok/index.js';
import { MetricRegistry } from '../metrics/series.js';
import { parseZoneOffset } from '../quay/time.js';
import { compileConfigRules } from './index.js';
import { describeMatch } from './engine.js';
import { PROGRAM_SOURCES } from '../quay/router.js';
import { prefixEnd, textStartAfter } from '../formats/supervisord.js';

export interface RuleCommandOptions {
  readonly config: Config;
  readonly library: PatternLibrary;
  readonly rule: string;
  readonly lines: AsyncIterable<string> | string[];
  readonly out: (s: string) => void;
}

export class UnknownRuleError extends Error {}

export async function runRuleCommand(opts: RuleCommandOptions): Promise<{ matched: number; unmatched: number }> {
  const rules = compileConfigRules(opts.config, opts.library, new MetricRegistry());
  const rule = rules.find((r) => r.name === opts.rule);
  if (!rule) throw new UnknownRuleError(`no rule named "${opts.rule}" (rules: ${rules.map((r) => r.name).join(', ') || 'none'})`);
  const zone = parseZoneOffset(opts.config.python_log_timezone);
  const reads = (program: string) => rule.programs.includes(program) || rule.sources.includes(PROGRAM_SOURCES[program] ?? '');
  let matched = 0;
  let unmatched = 0;
  for await (const raw of opts.lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const end = prefixEnd(line);
    const program = end >= 0 ? line.slice(0, end) : (rule.programs[0] ?? rule.sources[0] ?? '');
    if (end >= 0 && !reads(program)) {
      unmatched++;
      opts.out(JSON.stringify({ line, rule: rule.name, match: false, reason: `the rule does not read program ${program}` }));
      continue;
    }
    const result = describeMatch(rule, line, end >= 0 ? textStartAfter(line, end) : 0, program, opts.library, zone);
    if (result === null || result.skipped !== undefined) {
      unmatched++;
      opts.out(JSON.stringify({ line, rule: rule.name, match: false, ...(result?.skipped ? { reason: result.skipped } : {}) }));
      continue;
    }
    matched++;
    opts.out(JSON.stringify({ line, rule: rule.name, match: true, metrics: result.metrics, ...(result.event ? { event: result.event } : {}) }));
  }
  return { matched, unmatched };
}

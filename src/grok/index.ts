/**
 * The grok engine: compiles Telegraf/Logstash-style grok expressions into
 * plain V8 RegExps with exact capture-group indexes. See README.md.
 */
export type { GrokType, GrokField, CompileOptions, GrokMatch, CompiledGrok, TimestampSpec, GrokTimestamp, MatchOptions } from './types.js';
export { GROK_TYPES } from './types.js';
export { GrokError } from './errors.js';
export { PatternLibrary, BUNDLED_PATTERNS_DIR, bundledPatternFiles } from './library.js';
export { parseGoDurationSeconds, parseGoDurationNanos } from './convert.js';
export { runGrokCommand, grokExpressionFor, type GrokCommandOptions } from './cli.js';
export { TelegrafGrokParser, TimestampModder, type TelegrafGrokOptions, type TelegrafMetric } from './telegraf.js';
export { parseGoLayout, parseTimestamp, NAMED_LAYOUTS } from './time.js';

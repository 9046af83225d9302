/**
 * The grok engine: compiles Telegraf/Logstash-style grok expressions into
 * plain V8 RegExps with exact capture-group indexes. See README.md.
 */
export type { GrokType, GrokField, CompileOptions, GrokMatch, CompiledGrok, TimestampSpec, GrokTimestamp, MatchOptions } from './types.js';
export { GROK_TYPES } from './types.js';
export { GrokError } from './errors.js';
export { PatternLibrary, BUNDLED_PATTERNS_DIR, bundledPatternFiles } from './library.js';
export { parseGoDurationSeconds } from './convert.js';
export { runGrokCommand, grokExpressionFor, type GrokCommandOptions } from './cli.js';

#!/usr/bin/env node
/**
 * quay-log-exporter commands:
 *   [run] --config FILE                   follow the inputs, serve /metrics, until SIGTERM/SIGINT
 *   replay [--config FILE] [--format prometheus|json] [--source S] [--framing F] FILE…|-
 *   check-config FILE
 *   grok --pattern P [--config FILE] [LINE…]   (lines from stdin when none are given)
 *   grok --rule NAME [--config FILE] [LINE…]    what a rule of the rules: section makes of each line
 * Exit codes: 0 done, 1 runtime failure, 2 bad usage, config or pattern.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfig } from './config/load.js';
import { INPUT_SOURCES, type Config, type InputSource } from './config/schema.js';
import { GrokError, PatternLibrary } from './grok/index.js';
import { runGrokCommand } from './grok/cli.js';
import { createLogger } from './log.js';
import { MetricRegistry } from './metrics/series.js';
import { loadPatterns } from './pipeline.js';
import { compileConfigRules } from './rules/index.js';
import { runRuleCommand, UnknownRuleError } from './rules/cli.js';
import { preflight } from './preflight.js';
import { StateFileError } from './inputs/file/state.js';
import { replayCommand, ReplayLossError } from './replay.js';

const VERSION = '0.1.0';

const USAGE = `quay-log-exporter ${VERSION}: Quay logs → grok → OpenTelemetry metrics → Prometheus and InfluxDB

Usage:
  quay-log-exporter [run] --config FILE
  quay-log-exporter replay [--config FILE] [--format prometheus|json] [--source SOURCE] [--framing raw|cri|docker] [--threads N] FILE... ('-' reads stdin; N threads parse, default the cores there are)
  quay-log-exporter check-config FILE
  quay-log-exporter grok --pattern PATTERN [--config FILE] [LINE...]   (reads stdin when no LINE)
  quay-log-exporter grok --rule NAME [--config FILE] [LINE...]         (what a rule makes of each line)

SOURCE: ${INPUT_SOURCES.join(', ')}
See config.example.yaml for every setting.`;

class UsageError extends Error {}

function loadOrDefault(file: string | undefined): Config {
  return file ? loadConfig(file) : defaultConfig();
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise((r) => process.stdout.once('drain', r));
}

async function cmdRun(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  if (!values.config) throw new UsageError('run needs --config FILE');
  const config = loadConfig(values.config);
  const log = createLogger(config.log_level);
  // The check builds the daemon's own pipeline: grok, rules and parsers once per process.
  const pipeline = await preflight(config, values.config, { log });
  // The daemon's modules (file and Forward inputs, HTTP security) only for `run`.
  const { Daemon } = await import('./daemon.js');
  const daemon = await Daemon.start(config, log, pipeline);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info('signal received, draining', { signal });
      daemon.stop().then(resolve, (err) => {
        log.error('stop failed', { error: String(err) });
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void daemon.finished.then(() => {
      log.info('every input ended, draining');
      daemon.stop().then(resolve, resolve);
    });
    void daemon.failed.then((err) => {
      log.error('stopping: a worker thread died', { error: err.message });
      process.exitCode = 1;
      daemon.stop().then(resolve, resolve);
    });
  });
  return process.exitCode === 1 ? 1 : 0;
}

async function cmdReplay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      format: { type: 'string', default: 'prometheus' },
      source: { type: 'string' },
      framing: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('replay needs at least one FILE (or - for stdin)');
  if (values.format !== 'prometheus' && values.format !== 'json') throw new UsageError(`--format: expected prometheus or json, got "${values.format}"`);
  if (values.source !== undefined && !(INPUT_SOURCES as readonly string[]).includes(values.source)) {
    throw new UsageError(`--source: expected one of ${INPUT_SOURCES.join(', ')}, got "${values.source}"`);
  }
  if (values.framing !== undefined && !['raw', 'cri', 'docker'].includes(values.framing)) {
    throw new UsageError(`--framing: expected raw, cri or docker, got "${values.framing}"`);
  }
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
    throw new UsageError(`--threads: expected a whole number from 1 to 256, got "${values.threads}"`);
  }
  const config = loadOrDefault(values.config);
  // Checks the config (preflight) with the pipeline the replay then runs, its workers starting meanwhile.
  await replayCommand(config, values.config ?? '(defaults)', {
    threads,
    files: positionals,
    format: values.format,
    source: values.source as InputSource | undefined,
    framing: values.framing as 'raw' | 'cri' | 'docker' | undefined,
    log: createLogger(config.log_level),
    write,
  });
  return 0;
}

async function cmdCheckConfig(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('check-config needs exactly one FILE');
  const config = loadConfig(positionals[0]!);
  // Pattern files and inline patterns must load too. Every bad pattern is shown; only one the
  // built-in parsers depend on (a bundled name, or one it uses, overridden badly) fails the check.
  const library = loadPatterns(config);
  const bundled = new Set(PatternLibrary.bundled().names());
  let fatal = 0;
  const shown = new Set<string>();
  for (const err of [...library.problems, ...library.validate()]) {
    if (shown.has(err.message)) continue;
    shown.add(err.message);
    const used = err.pattern !== undefined && bundled.has(err.pattern);
    if (used) fatal++;
    process.stderr.write(`${used ? 'error' : 'warning'}: ${err.message}\n`);
  }
  if (fatal > 0) {
    process.stderr.write(`${positionals[0]}: ${fatal} bundled pattern(s) broken by the configuration's patterns\n`);
    return 2;
  }
  await preflight(config, positionals[0]!); // exactly what run checks before it starts
  const rules = compileConfigRules(config, library, new MetricRegistry(), positionals[0]); // for the summary below
  const influx = config.outputs.influxdb ? `, influxdb ${new URL(config.outputs.influxdb.url).host}/${config.outputs.influxdb.database}` : '';
  const otlp = config.outputs.otlp ? `, otlp ${config.outputs.otlp.protocol ?? '(protocol from env)'}` : '';
  process.stdout.write(
    `${positionals[0]}: ok (${config.inputs.length} input(s): ${config.inputs.map((i) => `${i.name} [${i.source}]`).join(', ') || 'none'}; ` +
      `prometheus ${config.prometheus.enabled ? `${config.prometheus.listen.host}:${config.prometheus.listen.port}` : 'off'}${influx}${otlp}), ${rules.length} rule(s)\n`,
  );
  return 0;
}

async function cmdGrok(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { pattern: { type: 'string', short: 'p' }, rule: { type: 'string', short: 'r' }, config: { type: 'string', short: 'c' } },
  });
  if (!values.pattern === !values.rule) throw new UsageError('grok needs either --pattern PATTERN or --rule NAME');
  const config = loadOrDefault(values.config);
  const library = loadPatterns(config);
  const lines = positionals.length > 0 ? positionals : createInterface({ input: process.stdin, crlfDelay: Infinity });
  if (values.rule) {
    const result = await runRuleCommand({ config, library, rule: values.rule, lines, out: (s: string) => process.stdout.write(s + '\n') });
    return result.matched > 0 || result.unmatched === 0 ? 0 : 1;
  }
  if (!values.pattern) throw new UsageError('grok needs --pattern PATTERN');
  const result = await runGrokCommand({
    library,
    pattern: values.pattern,
    lines,
    timezone: config.grok.timezone,
    out: (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  });
  return result.matched > 0 || result.unmatched === 0 ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    switch (first) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE + '\n');
        return first === undefined ? 2 : 0;
      case '--version':
        process.stdout.write(VERSION + '\n');
        return 0;
      case 'run':
        return await cmdRun(rest);
      case 'replay':
        return await cmdReplay(rest);
      case 'check-config':
        return await cmdCheckConfig(rest);
      case 'grok':
        return await cmdGrok(rest);
      default:
        if (first.startsWith('-')) return await cmdRun(argv);
        throw new UsageError(`unknown command "${first}"`);
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 2;
    }
    if (err instanceof UnknownRuleError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof StateFileError) {
      process.stderr.write(`quay-log-exporter: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ReplayLossError) {
      process.stderr.write(err.message + '\n');
      return 1;
    }
    if (err instanceof GrokError) {
      process.stderr.write(`pattern error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    const io = err as NodeJS.ErrnoException;
    if (io.code && io.syscall && io.path) {
      // A file the user named cannot be read: say which and why, without a stack.
      process.stderr.write(`quay-log-exporter: cannot ${io.syscall} ${io.path}: ${io.code}\n`);
      return 1;
    }
    if (io.code && (io.syscall === 'listen' || io.syscall === 'getaddrinfo' || io.syscall === 'bind')) {
      // The HTTP server's address: in use, not on this host, or not resolvable.
      const where = (io as { address?: string; port?: number; hostname?: string }).hostname ?? `${(io as { address?: string }).address}:${(io as { port?: number }).port}`;
      process.stderr.write(`quay-log-exporter: cannot listen on ${where}: ${io.code} (http.listen / prometheus.listen)\n`);
      return 1;
    }
    process.stderr.write(`quay-log-exporter: ${io.stack ?? String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(String(err) + '\n');
    process.exit(1);
  },
);

/**
 * Everything `run` (and `replay`) check about a configuration before they
 * start, and all that `check-config` does: one function, so `check-config`
 * can never say ok to a config that `run` then refuses. The schema has
 * already checked every key and bound (config/schema.ts); this builds what
 * needs building: every grok pattern the parsers use, each input's line path
 * (framing, multi-line rules), the InfluxDB client (URL, credentials). It
 * touches no network and no offsets.
 *
 * `run` and `replay` pass the options of the pipeline they will run with:
 * the pipeline the check builds is then theirs (returned), so grok patterns,
 * rules and parsers are built once per process. It is built last, once every
 * other check passed, so a refused config never has its outputs made; a
 * refused one (and `check-config`'s) is built without its push outputs.
 */
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { GrokError } from './grok/index.js';
import { buildLinePath } from './inputs/chain.js';
import { silentLogger } from './log.js';
import { MetricRegistry } from './metrics/series.js';
import { Pipeline, type PipelineOptions } from './pipeline.js';

/** Async only to import the InfluxDB client when the config has that output. */
export async function preflight(config: Config, origin: string): Promise<void>;
/** The same checks, building the caller's own pipeline (with `build`'s options) as the grok check: returned when the config passes. */
export async function preflight(config: Config, origin: string, build: PipelineOptions): Promise<Pipeline>;
export async function preflight(config: Config, origin: string, build?: PipelineOptions): Promise<Pipeline | void> {
  const problems: string[] = [];
  const registry = new MetricRegistry();
  config.inputs.forEach((input, i) => {
    try {
      buildLinePath(input, () => {}, registry);
    } catch (err) {
      problems.push(`inputs[${i}]: ${(err as Error).message}`);
    }
  });
  if (config.outputs.influxdb) {
    const { InfluxWriter } = await import('./outputs/influxdb/client.js');
    try {
      new InfluxWriter(config.outputs.influxdb);
    } catch (err) {
      problems.push(`outputs.influxdb: ${(err as Error).message}`);
    }
  }
  // The caller's pipeline only for a config that passes the rest: no push output is made for one that is refused.
  const own = build !== undefined && problems.length === 0;
  let pipeline: Pipeline | undefined;
  try {
    // The parsers compile their patterns as they are built; without push outputs nothing reaches the network.
    pipeline = own
      ? await Pipeline.create(config, build)
      : await Pipeline.create({ ...config, outputs: { ...config.outputs, influxdb: undefined, otlp: undefined } }, { log: silentLogger });
  } catch (err) {
    if (err instanceof GrokError) throw err; // reported as a pattern error, exit 2
    problems.unshift(`grok: ${(err as Error).message}`);
  }
  if (problems.length > 0 || !own) {
    void pipeline?.provider.shutdown();
    if (problems.length > 0) throw new ConfigError(origin, problems);
    return undefined;
  }
  return pipeline;
}

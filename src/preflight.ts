/**
 * Everything `run` (and `replay`) check about a configuration before they
 * start, and all that `check-config` does: one function, so `check-config`
 * can never say ok to a config that `run` then refuses. The schema has
 * already checked every key and bound (config/schema.ts); this builds what
 * needs building: every grok pattern the parsers use, each input's line path
 * (framing, multi-line rules), the InfluxDB client (URL, credentials). It
 * touches no network and no offsets.
 */
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { GrokError } from './grok/index.js';
import { buildLinePath } from './inputs/chain.js';
import { silentLogger } from './log.js';
import { MetricRegistry } from './metrics/series.js';
import { Pipeline } from './pipeline.js';

/** Async only to import the InfluxDB client when the config has that output. */
export async function preflight(config: Config, origin: string): Promise<void> {
  const problems: string[] = [];
  try {
    // The parsers compile their patterns as they are built; no output reaches the network.
    const pipeline = await Pipeline.create({ ...config, outputs: { ...config.outputs, influxdb: undefined, otlp: undefined } }, { log: silentLogger });
    void pipeline.provider.shutdown();
  } catch (err) {
    if (err instanceof GrokError) throw err; // reported as a pattern error, exit 2
    problems.push(`grok: ${(err as Error).message}`);
  }
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
  if (problems.length > 0) throw new ConfigError(origin, problems);
}

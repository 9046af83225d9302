/**
 * preflight hands its pipeline on (issue 16): `replay` and `run` check the config by building the
 * pipeline they then run with, so grok patterns, rules and parsers are built once per process; a
 * config the checks refuse never has its push outputs made. In process, with Pipeline.create
 * watched (a spy that calls the real one).
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/load.js';
import { silentLogger } from '../src/log.js';
import { Pipeline } from '../src/pipeline.js';
import { preflight } from '../src/preflight.js';
import { replayCommand } from '../src/replay.js';
import { family, parseExposition } from './helpers/exposition.js';
import { LINES_BY_SOURCE_RESULT } from './fixtures/quay-supervisord.counts.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/quay-supervisord.log', import.meta.url));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('preflight hands its pipeline on', () => {
  it('replay builds one pipeline, the checked one, and counts the fixture by hand', async () => {
    const create = vi.spyOn(Pipeline, 'create');
    let text = '';
    const config = parseConfig({ state_dir: '/nonexistent-state' }, 'test', {});
    await replayCommand(config, 'test', { files: [FIXTURE], format: 'prometheus', threads: 1, log: silentLogger, write: async (t) => void (text += t) });
    expect(create).toHaveBeenCalledTimes(1);
    // Replay's own options: no records out, its source counted for traffic.source auto.
    expect(create.mock.calls[0]![1]).toMatchObject({ records: false, extraSources: ['supervisord'] });
    // The fixture's hand counts (test/fixtures/quay-supervisord.counts.ts).
    expect(family(parseExposition(text), 'quay_log_exporter_lines_total')).toEqual(LINES_BY_SOURCE_RESULT);
  });

  it('with build options: the pipeline returned is built with them and every configured output (an OTLP one here)', async () => {
    const config = parseConfig(
      { state_dir: '/nonexistent-state', outputs: { otlp: { protocol: 'http/json', endpoint: 'http://127.0.0.1:9/v1/metrics', timeout: '1s', shutdown_timeout: '1s' }, records: { stdout: {} } } },
      'test',
      {},
    );
    const p = await preflight(config, 'test', { log: silentLogger, records: false });
    expect(p).toBeInstanceOf(Pipeline);
    expect(p.otlp).toBeDefined();
    expect(p.records).toBeUndefined(); // records: false was honoured
    await p.otlp!.shutdown(); // nothing listens on port 9: gives up after shutdown_timeout
    await p.provider.shutdown();
  });

  it('without build options (check-config) nothing is returned', async () => {
    expect(await preflight(parseConfig({ state_dir: '/nonexistent-state' }, 'test', {}), 'test')).toBeUndefined();
  });

  it('a refused config: ConfigError naming the output, and the pipeline built for the check has no push output', async () => {
    const create = vi.spyOn(Pipeline, 'create');
    const parsed = parseConfig(
      {
        state_dir: '/nonexistent-state',
        outputs: { influxdb: { url: 'http://127.0.0.1:9', database: 'quay' }, otlp: { protocol: 'http/json', endpoint: 'http://127.0.0.1:9/v1/metrics' } },
      },
      'test',
      {},
    );
    // A URL the schema would refuse, put past it: only building the InfluxDB client finds it here.
    const config = { ...parsed, outputs: { ...parsed.outputs, influxdb: { ...parsed.outputs.influxdb!, url: 'ftp://127.0.0.1:9' } } };
    const err = await preflight(config, 'test', { log: silentLogger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('outputs.influxdb: outputs.influxdb.url: expected http:// or https://, got "ftp:"');
    expect(create).toHaveBeenCalledTimes(1);
    expect(create.mock.calls[0]![0].outputs.otlp).toBeUndefined();
    expect(create.mock.calls[0]![0].outputs.influxdb).toBeUndefined();
  });
});

/**
 * The forward output over TLS (outputs.records.forward.tls, the client TLS
 * schema of the InfluxDB and OTLP outputs), against real TLS Forward servers:
 * our own forward input, and @fluent-org/logger's FluentServer. The CA and
 * certificates are made by openssl for each run (test/helpers/certs.ts).
 */
import { readFileSync } from 'node:fs';
import { FluentServer } from '@fluent-org/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardOutputSchema, inputSchema, type InputConfig } from '../config/schema.js';
import { createLogger, silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { ForwardInput } from '../inputs/forward/server.js';
import { makeCerts, type TestCerts } from '../../test/helpers/certs.js';
import { ForwardOutput } from './forward-output.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function until(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Our forward input as the next hop: TLS with a client CA (a client certificate is required) and a shared_key. */
async function tlsInput() {
  const config: InputConfig = {
    ...inputSchema.parse({
      type: 'forward',
      forward: { listen: '127.0.0.1:0', tls: { cert_file: certs.serverCert, key_file: certs.serverKey, ca_file: certs.caCert }, security: { shared_key: 'hop-key' } },
    }),
    name: 'hop',
  };
  const registry = new MetricRegistry();
  const lines: string[] = [];
  const input = new ForwardInput(config, {
    open: () => ({ line: (l) => void lines.push(l), end() {} }),
    registry,
    stateDir: '/nonexistent',
    log: silentLogger,
  });
  await input.start();
  cleanup.push(() => input.stop());
  const counter = (name: Parameters<MetricRegistry['counter']>[0], ...labels: string[]) => registry.counter(name).at(...labels).value;
  return { port: input.address!.port, lines, counter };
}

function output(port: number, tls: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const registry = new MetricRegistry();
  const warnings: string[] = [];
  const log = createLogger('warn', (l) => void warnings.push(l));
  const out = new ForwardOutput(forwardOutputSchema.parse({ host: '127.0.0.1', port, tls, flush_interval: '10ms', max_retry_delay: '200ms', shutdown_timeout: '1ms', ...extra }), registry, log);
  cleanup.push(() => out.shutdown());
  const v = (name: 'quay_log_exporter_records_out_total' | 'quay_log_exporter_records_dropped_total') => registry.counter(name).at('forward').value;
  const buffered = () => registry.gauge('quay_log_exporter_records_buffered').at('forward').value;
  return { out, v, buffered, warnings };
}

describe('forward output over TLS', () => {
  it('delivers to our own TLS forward input: the server verified by the CA, the client by its certificate, then shared_key, with acks', async () => {
    const hop = await tlsInput();
    const { out, v } = output(hop.port, { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey }, { security: { shared_key: 'hop-key' } });
    for (const l of ['a', 'b', 'c']) out.send('quay.nginx', 0, { log: l });
    // 3 records, each acked by the input after it recorded them
    await until('3 acked', () => v('quay_log_exporter_records_out_total') === 3);
    expect(hop.lines).toEqual(['a', 'b', 'c']);
    expect(hop.counter('quay_log_exporter_forward_handshake_failures_total', 'hop', 'tls')).toBe(0);
  });

  it('does not send to a server whose certificate its CA did not sign: the records stay buffered, none delivered', async () => {
    const hop = await tlsInput();
    const { out, v, buffered, warnings } = output(hop.port, { ca_file: certs.otherCaCert, cert_file: certs.clientCert, key_file: certs.clientKey }, { security: { shared_key: 'hop-key' } });
    out.send('quay.nginx', 0, { log: 'secret' });
    // the server sees the client give up the handshake (at least one attempt; it retries with backoff)
    await until('a refused TLS handshake', () => hop.counter('quay_log_exporter_forward_handshake_failures_total', 'hop', 'tls') >= 1);
    await until('the output logged why', () => warnings.some((w) => w.includes('forward output: connection failed')));
    expect(hop.lines).toEqual([]);
    expect(v('quay_log_exporter_records_out_total')).toBe(0);
    expect(buffered()).toBe(1);
  });

  it('without a client certificate, a server that requires one refuses it: nothing delivered', async () => {
    const hop = await tlsInput();
    const { out, v } = output(hop.port, { ca_file: certs.caCert }, { security: { shared_key: 'hop-key' } });
    out.send('quay.nginx', 0, { log: 'x' });
    await until('a refused TLS handshake', () => hop.counter('quay_log_exporter_forward_handshake_failures_total', 'hop', 'tls') >= 1);
    expect(hop.lines).toEqual([]);
    expect(v('quay_log_exporter_records_out_total')).toBe(0);
  });

  it("delivers to @fluent-org/logger's FluentServer over TLS (client certificate required), in every mode", async () => {
    const server = new FluentServer({
      listenOptions: { host: '127.0.0.1', port: 0 },
      tlsOptions: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ca: readFileSync(certs.caCert), requestCert: true, rejectUnauthorized: true },
      security: { serverHostname: 'next-hop', sharedKey: 'hop-key', authorize: false, userDict: {} },
    });
    const got: string[] = [];
    server.on('entry', (_tag: string, _time: unknown, record: { log: string }) => void got.push(record.log));
    await server.listen();
    cleanup.push(() => server.close());
    const tls = { ca_file: certs.caCert, cert_file: certs.clientCert, key_file: certs.clientKey };
    let expected = 0;
    for (const mode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward']) {
      const { out, v } = output(server.port!, tls, { mode, security: { shared_key: 'hop-key' } });
      out.send('quay.gcworker', 0, { log: `${mode}-1` });
      out.send('quay.gcworker', 0, { log: `${mode}-2` });
      expected += 2;
      await until(`${mode}: 2 acked`, () => v('quay_log_exporter_records_out_total') === 2);
      await out.shutdown();
    }
    // 4 modes × 2 records, in order
    expect(got).toHaveLength(expected);
    expect(got).toEqual(['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'].flatMap((m) => [`${m}-1`, `${m}-2`]));
  });

  it('insecure_skip_verify: a certificate from an unknown CA is accepted, and a warning says so', async () => {
    const hop = await tlsInput();
    const { out, v, warnings } = output(hop.port, { ca_file: certs.otherCaCert, cert_file: certs.clientCert, key_file: certs.clientKey, insecure_skip_verify: true }, { security: { shared_key: 'hop-key' } });
    out.send('quay.nginx', 0, { log: 'unverified' });
    await until('1 acked', () => v('quay_log_exporter_records_out_total') === 1);
    expect(hop.lines).toEqual(['unverified']);
    expect(warnings.filter((w) => w.includes('insecure_skip_verify'))).toHaveLength(1);
  });
});

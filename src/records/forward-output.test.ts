import { describe, expect, it } from 'vitest';
import { forwardOutputSchema } from '../config/schema.js';
import { silentLogger } from '../log.js';
import { MetricRegistry } from '../metrics/series.js';
import { freePort } from '../../test/helpers/wait.js';
import { ForwardOutput } from './forward-output.js';

describe('forward output buffer', () => {
  it('holds at most buffer_records while the next hop is down, counts the rest as dropped, and what is left at shutdown too', async () => {
    const port = await freePort(); // nothing listens there
    const registry = new MetricRegistry();
    const out = new ForwardOutput(forwardOutputSchema.parse({ port, buffer_records: 10, shutdown_timeout: '1ms', max_retry_delay: '50ms' }), registry, silentLogger);
    for (let i = 0; i < 39; i++) out.send('t', 0, { log: String(i) });
    const v = (name: 'quay_log_exporter_records_dropped_total' | 'quay_log_exporter_records_out_total') => registry.counter(name).at('forward').value;
    // 39 sent, 10 held, 29 dropped
    expect(registry.gauge('quay_log_exporter_records_buffered').at('forward').value).toBe(10);
    expect(v('quay_log_exporter_records_dropped_total')).toBe(29);
    // more than half held: inputs are asked to wait
    expect(out.backpressure()).toBeInstanceOf(Promise);
    await out.shutdown();
    // the 10 never delivered: 29 + 10
    expect(v('quay_log_exporter_records_dropped_total')).toBe(39);
    expect(v('quay_log_exporter_records_out_total')).toBe(0);
  });
});

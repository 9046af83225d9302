/**
 * Whether the process can save its state (offsets, mirror status), for
 * /readyz, a metric and the log. A state_dir that turned read-only or full
 * would otherwise fail every second in silence or in a flood: here a
 * failure is counted each time (`quay_log_exporter_state_save_failures_total`),
 * logged once when a file starts failing and once when it saves again, and
 * /readyz answers 503 while any file is failing.
 */
import type { Logger } from '../log.js';
import type { MetricRegistry, ValueSlot } from '../metrics/series.js';

export class StateSaves {
  private readonly failing = new Map<string, string>();
  private readonly failures: ValueSlot;

  constructor(
    registry: MetricRegistry,
    private readonly log: Logger,
  ) {
    this.failures = registry.counter('quay_log_exporter_state_save_failures_total').at();
  }

  saved(path: string): void {
    if (this.failing.delete(path)) this.log.info('state saved again', { path });
  }

  failed(path: string, err: unknown): void {
    this.failures.value++;
    const message = (err as Error).message ?? String(err);
    if (!this.failing.has(path)) this.log.error('cannot save state; will retry, /readyz is not ready until it works', { path, error: message });
    this.failing.set(path, message);
  }

  /** Paths whose last save failed. */
  get problems(): string[] {
    return [...this.failing.keys()];
  }
}

const byRegistry = new WeakMap<MetricRegistry, StateSaves>();

/** The one tracker of a process (keyed by its registry, which every part that saves state already has). */
export function stateSaves(registry: MetricRegistry, log: Logger): StateSaves {
  let s = byRegistry.get(registry);
  if (!s) byRegistry.set(registry, (s = new StateSaves(registry, log)));
  return s;
}

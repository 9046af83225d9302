/**
 * A share for the daemon (`run` with pipeline.threads): an OrderFreeShare
 * whose answer to each piece also carries what the piece added to the share,
 * so the main thread adds it into the real slots as it puts the piece's
 * handed-back lines through, in piece order:
 *  - `fresh`: the slots the piece made (label values and the position of the
 *    line that made each), so the main thread makes the same series at the
 *    same place among its own: same series order and same cap as one thread;
 *  - `counters` / `histograms`: every slot's value since the last answer (the
 *    share's slots are zeroed once sent), by the slot's id: its index in the
 *    order the share made its slots.
 * A piece is then counted in the main registry whole (its handed-back lines
 * and its order-free lines) or not at all: the offsets may pass it once its
 * answer is added (daemon.ts), and a worker that dies loses nothing the
 * offsets have passed.
 */
import type { Attributes } from '@opentelemetry/api';
import type { HistogramSlot, ValueSlot } from '../metrics/series.js';
import { OrderFreeShare, type PieceResult, type ShareSetup } from './share.js';

export interface FreshSlots {
  /** Id of the first slot (the rest follow in order). */
  readonly first: number;
  readonly names: string[];
  /** Label values of each, in the family's label order. */
  readonly labels: string[][];
  /** Position (share.ts LINE_BITS) of the line that made each; -1: made before the first line. */
  readonly born: Float64Array;
}

export interface PieceCounts extends PieceResult {
  readonly fresh: FreshSlots;
  readonly counters: { readonly ids: Int32Array; readonly values: Float64Array };
  /** Per id: the bucket counts, then sum, sumLow, count, min, max. */
  readonly histograms: { readonly ids: Int32Array; readonly data: Float64Array };
}

/** The buffers of a PieceCounts, to transfer rather than copy. */
export function transferables(r: PieceCounts): ArrayBuffer[] {
  return [r.at.buffer, r.fresh.born.buffer, r.counters.ids.buffer, r.counters.values.buffer, r.histograms.ids.buffer, r.histograms.data.buffer] as ArrayBuffer[];
}

interface Made {
  readonly name: string;
  readonly slot: object;
  readonly born: number;
}

export class TrackedShare {
  readonly share: OrderFreeShare;
  private readonly slots: Array<ValueSlot | HistogramSlot> = [];
  /** Slots made since the last answer (the first answer: every slot made at construction too). */
  private fresh: Made[] = [];

  constructor(setup: ShareSetup) {
    const share = (this.share = new OrderFreeShare(setup));
    const registry = share.registry;
    for (const [name, family] of registry.entries()) for (const slot of family.slots.values()) this.made(name, slot, -1);
    const stamp = registry.onSlot;
    registry.onSlot = (name, slot) => {
      stamp?.(name, slot);
      this.made(name, slot, share.linePosition);
    };
  }

  private made(name: string, slot: object, born: number): void {
    this.slots.push(slot as ValueSlot | HistogramSlot);
    this.fresh.push({ name, slot, born });
  }

  /** Records a piece (whole lines, `seq` its place among all pieces); its handed-back lines and counts. */
  piece(bytes: Uint8Array, seq: number): PieceCounts {
    const result = this.share.piece(bytes, seq);
    return { ...result, fresh: this.takeFresh(), ...this.takeCounts() };
  }

  private takeFresh(): FreshSlots {
    const made = this.fresh;
    this.fresh = [];
    const registry = this.share.registry;
    const labels = made.map((m) => {
      const def = registry.definedCounter(m.name).def;
      const attributes = (m.slot as { attributes: Attributes }).attributes;
      return def.labels.map((l) => String(attributes[l] ?? ''));
    });
    return {
      first: this.slots.length - made.length,
      names: made.map((m) => m.name),
      labels,
      born: Float64Array.from(made, (m) => m.born),
    };
  }

  /** Every slot's value since the last answer; the slots are zeroed (min/max reset). */
  private takeCounts(): Pick<PieceCounts, 'counters' | 'histograms'> {
    const cIds: number[] = [];
    const cValues: number[] = [];
    const hIds: number[] = [];
    const hData: number[] = [];
    const slots = this.slots;
    for (let id = 0; id < slots.length; id++) {
      const s = slots[id]!;
      if ('counts' in s) {
        if (s.count === 0) continue;
        hIds.push(id);
        for (let b = 0; b < s.counts.length; b++) hData.push(s.counts[b]!);
        hData.push(s.sum, s.sumLow, s.count, s.min, s.max);
        s.counts.fill(0);
        s.sum = 0;
        s.sumLow = 0;
        s.count = 0;
        s.min = Infinity;
        s.max = -Infinity;
      } else if (s.value !== 0) {
        cIds.push(id);
        cValues.push(s.value);
        s.value = 0;
      }
    }
    return {
      counters: { ids: Int32Array.from(cIds), values: Float64Array.from(cValues) },
      histograms: { ids: Int32Array.from(hIds), data: Float64Array.from(hData) },
    };
  }
}

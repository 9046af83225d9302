/**
 * The units `oc image mirror` prints in "Mirroring completed in 1m2.5s (12.5MB/s)".
 * Rates come from docker/go-units: kB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024.
 */
export { parseGoDurationSeconds } from '../../grok/index.js';

const RATE = /^([0-9]+(?:\.[0-9]+)?) ?([kKMGTP]?)(i?)B\/s$/;
const POWER: Record<string, number> = { '': 0, k: 1, K: 1, M: 2, G: 3, T: 4, P: 5 };

/** Bytes per second for `0B/s`, `12.5MB/s`, `1.2GiB/s`; NaN when it is not a rate. */
export function parseRateBytesPerSecond(text: string): number {
  const m = RATE.exec(text.trim());
  if (!m) return Number.NaN;
  const power = POWER[m[2]!]!;
  if (m[3] === 'i' && power === 0) return Number.NaN; // "iB/s" is not a unit
  return Number(m[1]) * Math.pow(m[3] === 'i' ? 1024 : 1000, power);
}

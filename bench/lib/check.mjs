/**
 * Compares an exporter's output with the generator's true counts, series by
 * series: a missing series, an extra non-zero series or a different value is
 * a mismatch. Label values are keyed in catalogue order, like the truth.
 */
const SEP = '\u0001';

/**
 * @param samples parsed exposition ({name, labels, value})
 * @param truth   generator result ({metrics, linesBySource, lines})
 * @param catalogue CATALOGUE from dist/metrics/catalogue.js (label order)
 * @returns {{ checked: number, mismatches: string[] }}
 */
export function checkAgainstTruth(samples, truth, catalogue) {
  const mismatches = [];
  let checked = 0;
  const byMetric = new Map();
  for (const s of samples) {
    const name = catalogue[s.name] ? s.name : catalogue[`${s.name}_total`] ? `${s.name}_total` : null;
    if (name === null) continue;
    const labels = catalogue[name].labels;
    const key = labels.map((l) => s.labels[l] ?? '').join(SEP);
    let m = byMetric.get(name);
    if (!m) byMetric.set(name, (m = new Map()));
    m.set(key, (m.get(key) ?? 0) + s.value);
  }
  const show = (key) => (key === '' ? '{}' : `{${key.split(SEP).join(',')}}`);
  for (const [metric, series] of Object.entries(truth.metrics)) {
    const got = byMetric.get(metric) ?? new Map();
    if (!byMetric.has(metric)) mismatches.push(`${metric}: missing from the output`);
    for (const [key, want] of Object.entries(series)) {
      checked++;
      const have = got.get(key) ?? 0;
      if (have !== want) mismatches.push(`${metric}${show(key)}: want ${want}, got ${have}`);
    }
    for (const [key, have] of got) {
      if (have !== 0 && !(key in series)) mismatches.push(`${metric}${show(key)}: want 0 (not in corpus), got ${have}`);
    }
  }
  // Lines by source: summed over `result` (matched/unmatched/ignored is the exporter's call).
  const lines = byMetric.get('quay_log_exporter_lines_total') ?? new Map();
  const perSource = {};
  for (const [key, v] of lines) {
    const source = key.split(SEP)[0];
    perSource[source] = (perSource[source] ?? 0) + v;
  }
  for (const [source, want] of Object.entries(truth.linesBySource)) {
    checked++;
    if ((perSource[source] ?? 0) !== want) mismatches.push(`quay_log_exporter_lines_total{source=${source}} (all results): want ${want}, got ${perSource[source] ?? 0}`);
  }
  return { checked, mismatches, present: [...byMetric.keys()] };
}

/** mtail counts what it can; compare per-metric totals with the truth's. */
export function compareTotals(samples, truth) {
  const want = {};
  for (const [metric, series] of Object.entries(truth.metrics)) want[metric] = Object.values(series).reduce((a, b) => a + b, 0);
  want['quay_log_exporter_lines_total'] = truth.lines;
  const have = {};
  for (const s of samples) if (s.name in want) have[s.name] = (have[s.name] ?? 0) + s.value;
  const rows = [];
  for (const [metric, w] of Object.entries(want)) rows.push({ metric, want: w, have: have[metric] ?? null, ok: metric in have ? have[metric] === w : null }); // null: not counted by that program
  return rows;
}

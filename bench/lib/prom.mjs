/**
 * A small Prometheus text-exposition reader: enough to check the exporter's
 * and mtail's output against the corpus's true counts.
 */

/** Parse exposition text into [{ name, labels: {k: v}, value }]. Comments and blank lines skipped. */
export function parsePrometheus(text) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
    const name = line.slice(0, i);
    const labels = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const key = line.slice(i, eq).trim();
        i = eq + 2; // skip ="
        let v = '';
        while (line[i] !== '"') {
          if (line[i] === '\\') {
            const c = line[i + 1];
            v += c === 'n' ? '\n' : c;
            i += 2;
          } else v += line[i++];
        }
        labels[key] = v;
        i++; // closing quote
        if (line[i] === ',') i++;
      }
      i++;
    }
    const rest = line.slice(i).trim().split(/\s+/);
    out.push({ name, labels, value: Number(rest[0]) });
  }
  return out;
}

/** Sum of values per metric name. */
export function totals(samples) {
  const t = Object.create(null);
  for (const s of samples) t[s.name] = (t[s.name] ?? 0) + s.value;
  return t;
}

/**
 * The grok engine alone, per Quay pattern, against Oniguruma (the engine
 * behind grok-js, Logstash and Fluent Bit) through its Node binding: same
 * expression (the compiled `.source`), same lines, same start offset.
 *
 * V8 runs the sticky RegExp the engine compiles (`lastIndex = start; exec`);
 * Oniguruma runs `\G(?:source)` with `searchSync(line, start)`, the same
 * "match here, with captures" question, on the lines the pattern matches.
 * Both engines must agree on every line (match and match length), or the row
 * is marked as a disagreement.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Where a source's own text starts: after `<program> stdout | `. */
export function prefixEnd(line) {
  const i = line.indexOf(' | ');
  return i < 0 ? 0 : i + 3;
}

/** Where a Python log line's message starts: after `[pid] [LEVEL] [logger] `. */
export function messageStart(line) {
  const p = prefixEnd(line);
  let i = p;
  for (let k = 0; k < 3; k++) {
    const j = line.indexOf('] ', i);
    if (j < 0) return -1;
    i = j + 2;
  }
  return i;
}

const program = (line) => line.slice(0, line.indexOf(' '));
const SOURCE_OF = (prog) => (prog.startsWith('gunicorn-') ? 'gunicorn' : prog);

/** Time `fn(i)` over the lines until at least `minMs` has passed; returns lines per second. */
function rate(n, fn, minMs) {
  let done = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < n; i++) fn(i);
    done += n;
    elapsed = performance.now() - t0;
  } while (elapsed < minMs);
  return (done / elapsed) * 1000;
}

/**
 * @param lib PatternLibrary (dist/grok)
 * @param corpus array of lines
 * @param patterns [{ name, sources: ['nginx'...] }] (auto-detected offset: prefix end or message start)
 */
export function benchGrok(lib, corpus, patterns, { runs = 3, v8Lines = 100_000, onigLines = 10_000, minMs = 300 } = {}) {
  const { OnigRegExp } = require('oniguruma');
  const rows = [];
  for (const { name, sources } of patterns) {
    const row = { pattern: name, lines: 0, offset: '', v8: NaN, onig: NaN, onigTest: NaN, ratio: NaN, agree: null, error: null };
    rows.push(row);
    let compiled;
    try {
      compiled = lib.compile(`%{${name}}`, { mode: 'sticky' });
    } catch (err) {
      row.error = `compile: ${err.message}`;
      continue;
    }
    const all = corpus.filter((l) => sources.includes(SOURCE_OF(program(l))));
    // Try both offsets; keep the one where the pattern matches more lines.
    const re = compiled.regex;
    const score = (off) => {
      let m = 0;
      for (let i = 0; i < Math.min(all.length, 5000); i++) {
        const s = off(all[i]);
        if (s < 0) continue;
        re.lastIndex = s;
        if (re.exec(all[i]) !== null) m++;
      }
      return m;
    };
    const offsets = sources.includes('*') ? [['line start', () => 0]] : [['after prefix', prefixEnd], ['message', messageStart]];
    let best = offsets[0];
    let bestScore = -1;
    for (const o of offsets) {
      const s = score(o[1]);
      if (s > bestScore) [best, bestScore] = [o, s];
    }
    row.offset = best[0];
    // The lines the pattern is for: those it matches (a miss on another kind of
    // line costs both engines little, and says nothing about the engine).
    const lines = [];
    const starts = [];
    let tried = 0;
    for (const l of all) {
      const s = best[1](l);
      if (s < 0) continue;
      tried++;
      re.lastIndex = s;
      if (re.exec(l) === null) continue;
      lines.push(l);
      starts.push(s);
      if (lines.length >= v8Lines) break;
    }
    row.lines = lines.length;
    row.share = tried > 0 ? lines.length / tried : 0;
    if (lines.length === 0) {
      row.error = 'no line of the corpus matches';
      continue;
    }
    let onig;
    try {
      onig = new OnigRegExp(`\\G(?:${compiled.source})`);
    } catch (err) {
      row.error = `oniguruma: ${err.message}`;
      continue;
    }
    // Agreement: same lines match, same match length.
    const nCheck = Math.min(lines.length, onigLines);
    let v8Matches = 0;
    let disagree = 0;
    for (let i = 0; i < nCheck; i++) {
      re.lastIndex = starts[i];
      const a = re.exec(lines[i]);
      const b = onig.searchSync(lines[i], starts[i]);
      if (a) v8Matches++;
      // Oniguruma reports UTF-8 byte offsets; the corpus is ASCII, so lengths compare directly.
      if ((a === null) !== (b === null) || (a && b && a[0].length !== b[0].length)) disagree++;
    }
    row.agree = disagree === 0;
    row.matched = v8Matches / nCheck;
    const v8 = [];
    const og = [];
    const ogt = [];
    let sink = 0;
    for (let r = 0; r < runs; r++) {
      v8.push(
        rate(
          lines.length,
          (i) => {
            re.lastIndex = starts[i];
            if (re.exec(lines[i]) !== null) sink++;
          },
          minMs,
        ),
      );
      og.push(
        rate(
          nCheck,
          (i) => {
            if (onig.searchSync(lines[i], starts[i]) !== null) sink++;
          },
          minMs,
        ),
      );
      ogt.push(
        rate(
          nCheck,
          (i) => {
            if (onig.testSync(lines[i].slice(starts[i]))) sink++;
          },
          minMs / 2,
        ),
      );
    }
    row.v8 = median(v8);
    row.onig = median(og);
    row.onigTest = median(ogt);
    row.ratio = row.v8 / row.onig;
    row.sink = sink;
  }
  return rows;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

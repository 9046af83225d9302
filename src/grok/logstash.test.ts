/**
 * Logstash pattern files as they are: logstash-patterns-core (Apache-2.0) at
 * 7f94275ec8212f7f0aa6eb4ac5dbf3d70cd05cac, its `patterns/legacy` and
 * `patterns/ecs-v1` files, and its legacy-mode spec cases (spec/patterns/*_spec.rb)
 * translated to data (legacy-spec-cases.json, see SOURCE.md there). The test
 * data is committed under test/fixtures/third-party/logstash-patterns-core.
 *
 * A grok result is built as Logstash's grok filter builds its event: the
 * `message` field, `@version`, every non-empty named capture in order (a
 * second value for a field makes an array), `:int`/`:float` as Ruby's
 * to_i/to_f, `[a][b]` names nested, and the `_grokparsefailure` tag when
 * nothing matches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PatternLibrary } from './library.js';

const ROOT = fileURLToPath(new URL('../../test/fixtures/third-party/logstash-patterns-core/', import.meta.url));

function loadSet(set: 'legacy' | 'ecs-v1'): { lib: PatternLibrary; problems: number; files: number } {
  const lib = new PatternLibrary();
  const dir = `${ROOT}patterns/${set}/`;
  let problems = 0;
  const files = readdirSync(dir).sort();
  for (const f of files) problems += lib.loadFile(dir + f).length;
  return { lib, problems, files: files.length };
}

describe('logstash-patterns-core pattern files load whole and every pattern compiles', () => {
  it.each([
    // Hand count: `ls patterns/legacy | wc -l` = 22 files, `ls patterns/ecs-v1 | wc -l` = 22;
    // names: `grep -hv '^#' patterns/legacy/* | awk 'NF{print $1}' | sort -u | wc -l` = 317, ecs-v1 361.
    ['legacy', 22, 317],
    ['ecs-v1', 22, 361],
  ] as const)('%s: %i files, %i names, no error', (set, files, names) => {
    const loaded = loadSet(set);
    expect(loaded.files).toBe(files);
    expect(loaded.problems).toBe(0);
    expect(loaded.lib.names()).toHaveLength(names);
    expect(loaded.lib.validate().map((e) => e.message)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The translated spec cases

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Request {
  pattern: string;
  message: string;
  definitions?: Record<string, string>;
}
interface Expectation {
  probe: { req: number; path: Array<['[]', string | number] | ['keys']> };
  negate: boolean;
  matcher: { matcher: string; args: Json[] };
}
interface Case {
  file: string;
  name: string;
  expectations: Expectation[];
}
const SPEC = JSON.parse(readFileSync(`${ROOT}legacy-spec-cases.json`, 'utf8')) as { requests: Request[]; cases: Case[] };

/** Legacy spec cases that do not pass, and why (README.md "Logstash compatibility" lists them too). */
const KNOWN_FAILING: Record<string, string> = {};

const legacy = loadSet('legacy').lib;
const events = new Map<number, Record<string, unknown>>();

/** Ruby's String#to_i / #to_f: the leading number, 0 when there is none. */
function rubyNumber(text: string, type: 'int' | 'float'): number {
  const m = (type === 'int' ? /^\s*[+-]?\d+(?:_\d+)*/ : /^\s*[+-]?\d+(?:_\d+)*(?:\.\d+)?(?:[eE][+-]?\d+)?/).exec(text);
  return m ? Number(m[0].replaceAll('_', '')) : 0;
}

function set(event: Record<string, unknown>, name: string, value: unknown): void {
  const path = name.startsWith('[') ? [...name.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]!) : [name];
  let at = event;
  for (const p of path.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
  const key = path[path.length - 1]!;
  const old = at[key];
  if (old === undefined) at[key] = value;
  else if (Array.isArray(old)) old.push(value);
  else at[key] = [old, value];
}

function eventOf(req: number): Record<string, unknown> {
  let e = events.get(req);
  if (e) return e;
  const r = SPEC.requests[req]!;
  let lib = legacy;
  if (r.definitions) {
    lib = loadSet('legacy').lib;
    for (const [n, d] of Object.entries(r.definitions)) lib.define(n, d, 'pattern_definitions');
  }
  e = { message: r.message, '@version': '1' };
  const c = lib.compile(r.pattern);
  const texts = c.captures(r.message);
  if (!texts) e.tags = ['_grokparsefailure'];
  else {
    c.fields.forEach((f, i) => {
      const t = texts[i];
      if (t === undefined || t === '') return; // keep_empty_captures => false
      set(e!, f.name, f.type === 'int' || f.type === 'float' ? rubyNumber(t, f.type) : t);
    });
  }
  events.set(req, e);
  return e;
}

function read(p: Expectation['probe']): unknown {
  let v: unknown = eventOf(p.req);
  for (const op of p.path) {
    if (op[0] === 'keys') v = v && typeof v === 'object' ? Object.keys(v) : undefined;
    else v = v && typeof v === 'object' ? (v as Record<string | number, unknown>)[op[1]] : undefined;
  }
  return v;
}

function same(actual: unknown, expected: Json): boolean {
  if (expected === null) return actual === undefined || actual === null;
  if (typeof expected !== 'object') return actual === expected;
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((x, i) => same(actual[i], x));
  if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const partial = '__hash_including' in expected;
  const want = (partial ? expected.__hash_including : expected) as Record<string, Json>;
  const a = actual as Record<string, unknown>;
  if (!partial && Object.keys(a).length !== Object.keys(want).length) return false;
  return Object.entries(want).every(([k, v]) => same(a[k], v));
}

function holds(e: Expectation): boolean {
  const actual = read(e.probe);
  const args = e.matcher.args;
  let ok: boolean;
  switch (e.matcher.matcher) {
    case 'include':
      ok = args.every((arg) => {
        if (typeof actual === 'string') return typeof arg === 'string' && actual.includes(arg);
        if (Array.isArray(actual)) return actual.some((x) => same(x, arg));
        if (actual && typeof actual === 'object') {
          if (arg && typeof arg === 'object' && !Array.isArray(arg)) {
            return Object.entries(arg).every(([k, v]) => k in (actual as object) && same((actual as Record<string, unknown>)[k], v));
          }
          return typeof arg === 'string' && arg in (actual as object);
        }
        return false;
      });
      break;
    case 'eq':
    case 'eql':
      ok = same(actual, args[0]!);
      break;
    case 'be':
      ok = args.length === 0 ? Boolean(actual) : same(actual, args[0]!);
      break;
    case 'be_nil':
      ok = actual === undefined || actual === null;
      break;
    case 'pass':
      ok = !('tags' in (actual as object));
      break;
    case 'have_key':
      ok = !!actual && typeof actual === 'object' && (args[0] as string) in actual;
      break;
    case 'end_with':
      ok = typeof actual === 'string' && actual.endsWith(args[0] as string);
      break;
    default:
      throw new Error(`matcher ${e.matcher.matcher} not translated`);
  }
  return e.negate ? !ok : ok;
}

/** Unique ids: file › example name, numbered when a name repeats in a file. */
const ids: string[] = [];
{
  const seen = new Map<string, number>();
  for (const c of SPEC.cases) {
    const base = `${c.file} › ${c.name}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    ids.push(n > 1 ? `${base} #${n}` : base);
  }
}

function failures(c: Case): string[] {
  const out: string[] = [];
  for (const e of c.expectations) {
    let ok: boolean;
    try {
      ok = holds(e);
    } catch (err) {
      out.push(`error: ${(err as Error).message}`);
      continue;
    }
    if (!ok) out.push(`${e.negate ? 'not ' : ''}${e.matcher.matcher} ${JSON.stringify(e.matcher.args).slice(0, 200)} on ${JSON.stringify(read(e.probe))?.slice(0, 300)}`);
  }
  return out;
}

describe('logstash-patterns-core legacy spec cases (spec/patterns/*_spec.rb, translated)', () => {
  it('the translation has every legacy case', () => {
    // Hand count from the extractor's run: 375 examples with a legacy expectation (693 expectations).
    expect(SPEC.cases).toHaveLength(375);
    expect(SPEC.cases.reduce((n, c) => n + c.expectations.length, 0)).toBe(693);
  });

  SPEC.cases.forEach((c, i) => {
    const id = ids[i]!;
    const known = KNOWN_FAILING[id];
    it(`${id}${known ? ' (known to fail)' : ''}`, () => {
      const f = failures(c);
      if (known) expect(f.length, `listed as failing (${known}) but passes: remove it from KNOWN_FAILING`).toBeGreaterThan(0);
      else expect(f).toEqual([]);
    });
  });

  it('at least 95% pass', () => {
    const passing = SPEC.cases.filter((c) => failures(c).length === 0).length;
    expect(passing / SPEC.cases.length).toBeGreaterThanOrEqual(0.95);
  });
});

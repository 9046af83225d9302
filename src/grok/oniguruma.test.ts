/**
 * Our translation against Oniguruma itself (the npm `oniguruma` binding, a dev
 * dependency the benchmark uses too): the same grok expression, expanded
 * textually the way Logstash expands it and run by Oniguruma with Logstash's
 * MULTILINE option (`(?m)`: `.` matches a newline), must give the same
 * captures as our V8 RegExp on the same text. Inputs: every match the
 * logstash-patterns-core legacy specs ask for (see logstash.test.ts), plus
 * cases aimed at each construct we translate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PatternLibrary } from './library.js';

// The binding has no type declarations: the part used here, typed.
const { OnigRegExp } = createRequire(import.meta.url)('oniguruma') as {
  OnigRegExp: new (source: string) => { searchSync(s: string): Array<{ index: number; match: string }> | null };
};
const ROOT = fileURLToPath(new URL('../../test/fixtures/third-party/logstash-patterns-core/', import.meta.url));

/** Pattern texts as loaded (later files override earlier, as in Logstash). */
function definitions(extra: Record<string, string> = {}): Map<string, string> {
  const defs = new Map<string, string>();
  const dir = `${ROOT}patterns/legacy/`;
  for (const f of readdirSync(dir).sort()) {
    for (const raw of readFileSync(dir + f, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const sp = line.search(/\s/);
      if (sp > 0) defs.set(line.slice(0, sp), line.slice(sp).trim());
    }
  }
  for (const [k, v] of Object.entries(extra)) defs.set(k, v);
  return defs;
}

/**
 * Logstash's expansion: %{NAME} → (?:DEF), %{NAME:field[:type]} → a named group.
 * Our field groups are named f<N> so they can be told apart from a pattern's own (?<name>…).
 */
function onigSource(expr: string, defs: Map<string, string>, fields: string[]): string {
  return expr.replace(/%\{([A-Za-z0-9_]+)(?::([@[\]A-Za-z0-9_.-]+)(?::[a-z]+)?)?[^}]*\}/g, (_m, name: string, field: string | undefined) => {
    const def = defs.get(name);
    if (def === undefined) throw new Error(`no pattern ${name}`);
    const inner = onigSource(def, defs, fields);
    if (field === undefined) return `(?:${inner})`;
    fields.push(field);
    return `(?<f${fields.length - 1}>${inner})`;
  });
}

/** Field name of each capture group of an Oniguruma source (all groups number, CAPTURE_GROUP is on). */
function groupNames(source: string, fields: string[]): Array<string | undefined> {
  const names: Array<string | undefined> = [undefined];
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      let depth = 1;
      i++;
      if (source[i] === '^') i++;
      if (source[i] === ']') i++;
      for (; i < source.length && depth > 0; i++) {
        if (source[i] === '\\') i++;
        else if (source[i] === '[') depth++;
        else if (source[i] === ']') depth--;
      }
      i--;
      continue;
    }
    if (c !== '(') continue;
    if (source[i + 1] !== '?') names.push('');
    else {
      const named = /^\(\?(?:P?<([^>=!][^>]*)>|'([^']+)')/.exec(source.slice(i, i + 200));
      if (named) {
        const n = named[1] ?? named[2]!;
        names.push(/^f\d+$/.test(n) ? fields[Number(n.slice(1))] : n);
      }
    }
  }
  return names;
}

/** Non-empty named captures in group order, as [name, text] (what a Logstash event gets). */
function viaOniguruma(expr: string, message: string, defs: Map<string, string>): Array<[string, string]> | null {
  const fields: string[] = [];
  const src = onigSource(expr, defs, fields);
  const caps = new OnigRegExp(`(?m)${src}`).searchSync(message);
  if (!caps) return null;
  const names = groupNames(src, fields);
  const out: Array<[string, string]> = [];
  for (const cap of caps) {
    const name = names[cap.index];
    if (name && cap.match !== '') out.push([name, cap.match]);
  }
  return out;
}

function viaV8(lib: PatternLibrary, expr: string, message: string): Array<[string, string]> | null {
  const c = lib.compile(expr);
  const texts = c.captures(message);
  if (!texts) return null;
  const out: Array<[string, string]> = [];
  c.fields.forEach((f, i) => {
    if (texts[i] !== undefined && texts[i] !== '') out.push([f.name, texts[i]!]);
  });
  return out;
}

function legacyLibrary(extra: Record<string, string> = {}): PatternLibrary {
  const lib = new PatternLibrary();
  const dir = `${ROOT}patterns/legacy/`;
  for (const f of readdirSync(dir).sort()) lib.loadFile(dir + f);
  for (const [k, v] of Object.entries(extra)) lib.define(k, v);
  return lib;
}

describe('same captures as Oniguruma', () => {
  it('on every match the legacy spec cases ask for', () => {
    const spec = JSON.parse(readFileSync(`${ROOT}legacy-spec-cases.json`, 'utf8')) as {
      requests: Array<{ pattern: string; message: string; definitions?: Record<string, string> }>;
    };
    const defs = definitions();
    const lib = legacyLibrary();
    const differ: string[] = [];
    let matched = 0;
    for (const r of spec.requests) {
      const d = r.definitions ? definitions(r.definitions) : defs;
      const l = r.definitions ? legacyLibrary(r.definitions) : lib;
      const ours = viaV8(l, r.pattern, r.message);
      const theirs = viaOniguruma(r.pattern, r.message, d);
      if (ours) matched++;
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) differ.push(`${r.pattern} on ${JSON.stringify(r.message).slice(0, 120)}: V8 ${JSON.stringify(ours)} Oniguruma ${JSON.stringify(theirs)}`);
    }
    // Hand count: 438 requests in the translated specs; most of them are expected to match.
    expect(spec.requests).toHaveLength(438);
    expect(matched).toBeGreaterThan(300);
    expect(differ).toEqual([]);
  });

  // Each construct we translate, on text where getting it wrong shows.
  it.each([
    ['nested POSIX class in a class, non-ASCII path', '%{UNIXPATH:p}', 'file /srv/données/été.txt x'],
    ['\\w on non-ASCII', '(?<w>\\w+)', 'naïve café'],
    ['POSIX classes on non-ASCII', '(?<a>[[:alpha:]]+)-(?<u>[[:upper:]]+)', 'Ärger-ÉTÉ'],
    ['(?m): . across a newline', '(?m)a(?<x>.+)z', 'a1\n2z'],
    ['(?i) in the middle', 'x(?i)(?<v>abc)', 'xAbC'],
    ['(?i:…) scoped', '(?<v>(?i:ab)c)', 'ABc ABC'],
    ['(?-m): . stops at a newline', '(?-m)(?<v>a.*)', 'abc\ndef'],
    ['?* read as (?:X?)*', '(?<v>a.?*z)', 'xabcz'],
    ['possessive *+ gives nothing back', '(?<v>a*+)b?', 'aaab'],
    ['capture in a repetition keeps its last value', '(?:(?<k>[a-z])=(?<v>[0-9])|(?<o>[A-Z]);)+', 'a=1 B;c=3D;E;'],
    // (exim_spec.rb's line: after H=… come X= and CV=, unknown fields, so the last repetitions set no H= capture)
    [
      'EXIM key=value fields in any order',
      '%{EXIM}',
      '2010-09-13 05:00:13 [1487] 1Ov4tU-0000Nz-Rm <= mailling.list@domain.com H=mailhost.domain.com [208.42.54.2]:51792 I=[67.215.162.175]:25 P=esmtps X=TLSv1:AES256-SHA:256 CV=no S=21778 id=384a86a39e83be0d9b3a94d1feb3119f@domain.com T="Daily List: Chameleon" for user@example.com',
    ],
    ['%{NAME text} is %{NAME}', '%{INT some words}-%{INT:n the number}', 'x 12-34'],
    ['atomic group', '(?<v>(?>a+)b|a+)', 'aaa'],
  ])('%s', (_what, expr, text) => {
    const lib = legacyLibrary();
    const ours = viaV8(lib, expr, text);
    expect(ours).not.toBeNull();
    expect(ours).toEqual(viaOniguruma(expr, text, definitions()));
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GrokError, PatternLibrary, parseGoDurationSeconds } from './index.js';

/** A library with only what a test defines (no bundled files). */
function lib(text = ''): PatternLibrary {
  const l = new PatternLibrary();
  if (text) l.loadText(text, 'test.grok');
  return l;
}

/** The first problem a pattern text has when loaded (loading no longer throws for a bad line). */
function problemOf(text: string): GrokError {
  const problems = new PatternLibrary().loadText(text, 'test.grok');
  expect(problems.length).toBeGreaterThan(0);
  return problems[0]!;
}

/** Number of capturing groups a source has, as V8 counts them. */
function captureCount(source: string): number {
  return new RegExp(`${source}|`).exec('')!.length - 1;
}

function errorOf(fn: () => unknown): GrokError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GrokError);
    return err as GrokError;
  }
  throw new Error('expected a GrokError, nothing was thrown');
}

describe('references and field types', () => {
  const l = lib(['NUM [0-9]+', 'W [a-z]+', 'DUR [0-9a-zµ.]+'].join('\n'));

  it('compiles %{SYNTAX}, %{SYNTAX:field} and %{SYNTAX:field:type}', () => {
    const c = l.compile('%{W} %{W:word} %{NUM:n:int} %{NUM:f:float} %{W:t:tag} %{W:d:drop} %{DUR:dur:duration}');
    // Hand count: the unnamed %{W} does not capture; then 6 named fields → groups 1..6.
    expect(c.fields.map((f) => [f.name, f.group, f.type])).toEqual([
      ['word', 1, 'string'],
      ['n', 2, 'int'],
      ['f', 3, 'float'],
      ['t', 4, 'tag'],
      ['d', 5, 'drop'],
      ['dur', 6, 'duration'],
    ]);
    expect(captureCount(c.source)).toBe(6);
    // duration is Telegraf's: Go nanoseconds, 1m30s = 90 × 1e9
    expect(c.match('abc hello 42 7 prod secret 1m30s')).toEqual({
      fields: { word: 'hello', n: 42, f: 7, dur: 90e9 },
      tags: { t: 'prod' },
    });
  });

  it('converts int, float and Go durations (seconds)', () => {
    // 1.5s = 1.5; 300ms = 0.3; 1m30s = 60+30 = 90; 2h45m = 7200+2700 = 9900; 10us = 0.00001
    expect(parseGoDurationSeconds('1.5s')).toBe(1.5);
    expect(parseGoDurationSeconds('300ms')).toBeCloseTo(0.3, 12);
    expect(parseGoDurationSeconds('1m30s')).toBe(90);
    expect(parseGoDurationSeconds('2h45m')).toBe(9900);
    expect(parseGoDurationSeconds('10us')).toBeCloseTo(0.00001, 12);
    expect(parseGoDurationSeconds('10µs')).toBeCloseTo(0.00001, 12);
    expect(parseGoDurationSeconds('-1.5h')).toBe(-5400);
    expect(parseGoDurationSeconds('0.25')).toBe(0.25); // a bare number is already seconds
    expect(parseGoDurationSeconds('1.5x')).toBeNaN();
    expect(parseGoDurationSeconds('')).toBeNaN();
  });

  it('leaves out a typed field whose text is not a number', () => {
    const c = lib('ANY [^ ]+').compile('%{ANY:n:int} %{ANY:f:float} %{ANY:d:duration} %{ANY:s:seconds}');
    expect(c.match('x y z w')).toEqual({ fields: {}, tags: {} });
    // int is Go's ParseInt(text, 0, 64) as in Telegraf: -7.9 is no int; 250ms = 250 000 000 ns; seconds: 0.25
    expect(c.match('-7.9 2.5e3 250ms 250ms')).toEqual({ fields: { f: 2500, d: 250_000_000, s: 0.25 }, tags: {} });
    // 0x1f = 31, 017 = 15 (octal), 1_000 = 1000, -42; a bare 5 is no Go duration but 5 seconds
    expect(c.match('0x1f 1 5 5')!.fields).toEqual({ n: 31, f: 1, s: 5 });
    expect(c.match('017 1 0 x')!.fields).toEqual({ n: 15, f: 1, d: 0 });
    expect(c.match('1_000 1 1h x')!.fields).toEqual({ n: 1000, f: 1, d: 3600e9 });
    expect(c.match('-42 1 x x')!.fields).toEqual({ n: -42, f: 1 });
    // outside int64: no field (9223372036854775808 = 2^63)
    expect(c.match('9223372036854775808 1 x x')!.fields).toEqual({ f: 1 });
  });

  it('refuses an unknown type and a malformed reference', () => {
    expect(errorOf(() => l.compile('%{NUM:n:integer}')).message).toMatch(/unknown type "integer"/);
    expect(errorOf(() => l.compile('%{NUM::int}')).message).toMatch(/malformed reference/);
    expect(errorOf(() => l.compile('%{NUM')).message).toMatch(/unterminated reference/);
  });

  it('omits fields that did not participate', () => {
    const c = l.compile('(?:%{NUM:n:int}|%{W:w})');
    expect(c.match('abc')).toEqual({ fields: { w: 'abc' }, tags: {} });
    expect(c.match('12')).toEqual({ fields: { n: 12 }, tags: {} });
    expect(c.match('!!')).toBeNull();
  });

  it('lets the later participating capture win when a name is used twice', () => {
    const c = l.compile('%{W:v} %{W:v}');
    expect(c.match('first second')!.fields).toEqual({ v: 'second' });
    // group() gives the first occurrence
    expect(c.group('v')).toBe(1);
    const alt = l.compile('(?:%{NUM:v:int}|%{W:v})-%{W:x}');
    // the second v did not participate on "5-a", so the first one's value stays
    expect(alt.match('5-a')!.fields).toEqual({ v: 5, x: 'a' });
    expect(alt.match('b-a')!.fields).toEqual({ v: 'b', x: 'a' });
  });

  it('supports inline (?<name>…) and field names that are not JS identifiers', () => {
    const c = l.compile('(?<client.ip>[0-9.]+):%{NUM:[client][port]:int} %{W:@type:tag} (?<a b>x)');
    expect(c.group('client.ip')).toBe(1);
    expect(c.group('[client][port]')).toBe(2);
    expect(c.group('nope')).toBe(-1);
    expect(c.match('10.0.0.1:8443 web x')).toEqual({
      fields: { 'client.ip': '10.0.0.1', '[client][port]': 8443, 'a b': 'x' },
      tags: { '@type': 'web' },
    });
  });
});

describe('capture group numbering', () => {
  it('keeps exact indexes through nested unnamed groups, escapes and classes', () => {
    const l = lib(
      [
        // plain groups, an escaped paren, a paren inside a class, a lookahead:
        // none of these may capture.
        'A (a|b)(?:c)\\((d)[(](?=e)e',
        'B x(%{A:first})y%{A}(?<inner>z(w))%{A:last}',
      ].join('\n'),
    );
    const c = l.compile('%{B:all}!');
    // Hand count of capturing "(" in order: all=1, first=2, inner=3, last=4.
    expect(c.fields.map((f) => `${f.name}:${f.group}`)).toEqual(['all:1', 'first:2', 'inner:3', 'last:4']);
    expect(captureCount(c.source)).toBe(4);
    const text = 'xac(d(ey' + 'bc(d(e' + 'zw' + 'ac(d(e!';
    const m = c.regex.exec(text)!;
    expect(m[1]).toBe('xac(d(eybc(d(ezwac(d(e');
    expect(m[2]).toBe('ac(d(e');
    expect(m[3]).toBe('zw');
    expect(m[4]).toBe('ac(d(e');
  });

  it('captures only the listed fields with `capture`, renumbering the rest', () => {
    const l2 = lib('W [a-z]+');
    const c = l2.compile('%{W:a} %{W:b} (?<c>%{W:d}) %{W:e}', { capture: ['b', 'e'] });
    // a, c and d still match but capture nothing: b=1, e=2.
    expect(c.fields.map((f) => `${f.name}:${f.group}`)).toEqual(['b:1', 'e:2']);
    expect(captureCount(c.source)).toBe(2);
    expect(c.match('one two three four')).toEqual({ fields: { b: 'two', e: 'four' }, tags: {} });
    expect(c.group('a')).toBe(-1);
    // A different list is a different compiled pattern, not a cache hit.
    expect(l2.compile('%{W:a} %{W:b} (?<c>%{W:d}) %{W:e}').fields).toHaveLength(5);
  });

  it('counts the hidden group of an atomic group', () => {
    const c = lib('W [a-z]+').compile('(?>%{W:w}) %{W:x}');
    // (?>…) becomes (?:(?=(…))\1): hidden group 1, then w=2, x=3.
    expect(c.fields.map((f) => f.group)).toEqual([2, 3]);
    expect(captureCount(c.source)).toBe(3);
    expect(c.match('ab cd')!.fields).toEqual({ w: 'ab', x: 'cd' });
  });
});

describe('errors', () => {
  it('shows the cycle', () => {
    const l = lib('A x%{B}\nB %{C}y\nC (?:%{A})?');
    const e = errorOf(() => l.compile('%{A}'));
    expect(e.message).toContain('pattern cycle A -> B -> C -> A');
    expect(e.message).toContain('test.grok:3'); // C's line, where A is referenced again
    expect(errorOf(() => lib('SELF a%{SELF}').compile('%{SELF}')).message).toContain('SELF -> SELF');
  });

  it('names an unknown pattern and where it was used', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grok-'));
    try {
      const file = join(dir, 'user.grok');
      writeFileSync(file, '# my patterns\n\nGOOD [a-z]+\nUSES_NOPE %{GOOD} %{NOPE:x}\n');
      const l = new PatternLibrary();
      l.loadFile(file);
      const e = errorOf(() => l.compile('%{USES_NOPE}'));
      expect(e.message).toBe(`unknown pattern "NOPE" used in pattern USES_NOPE (${file}:4)`);
      expect(e.pattern).toBe('USES_NOPE');
      expect(e.origin).toBe(`${file}:4`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(errorOf(() => new PatternLibrary().compile('a %{MISSING}')).message).toBe(
      'unknown pattern "MISSING" used in the expression "a %{MISSING}"',
    );
  });

  it('names the file and line of a malformed pattern file', () => {
    expect(problemOf('OK a\n\nLONELY\n').message).toBe('test.grok:3: pattern LONELY has no regex (expected "NAME regex")');
    expect(problemOf('# c\nBAD!NAME a').message).toMatch(/^test\.grok:2: invalid pattern name "BAD!NAME"/);
    expect(errorOf(() => new PatternLibrary().loadFile('/nonexistent/x.grok')).message).toMatch(/cannot read pattern file/);
  });

  it('keeps the good lines of a file with bad ones, reports every bad line, and fails only where a bad one is used', () => {
    const l = new PatternLibrary();
    const problems = l.loadText('FIRST a\nSECOND a\\1\nTHIRD %{FIRST}b\nFOURTH [b\nUSES %{SECOND}\n', 'f.grok');
    // Hand count: lines 2 (numbered backreference) and 4 (unterminated class) are bad; 1, 3, 5 load.
    expect(problems.map((p) => p.origin)).toEqual(['f.grok:2', 'f.grok:4']);
    expect(l.problems).toHaveLength(2);
    // The message quotes the user's own text, not the translated RegExp.
    expect(problems[0]!.message).toBe(
      'f.grok:2: pattern SECOND "a\\\\1": numbered backreference "\\1" is not supported (groups are renumbered; name the group (?<name>…) and use \\k<name>)',
    );
    expect(problems[1]!.message).toBe('f.grok:4: pattern FOURTH "[b": unterminated character class starting at offset 0');
    expect(l.compile('%{THIRD:t}').match('xab')!.fields).toEqual({ t: 'ab' });
    // Using a bad pattern, directly or through another, fails with that line's error.
    expect(errorOf(() => l.compile('%{USES}')).message).toBe(problems[0]!.message);
    expect(errorOf(() => l.compile('%{FOURTH}')).origin).toBe('f.grok:4');
    // validate() lists them all: the two bad lines and USES, which uses one.
    expect(l.validate().map((e) => e.origin)).toEqual(['f.grok:4', 'f.grok:2', 'f.grok:2']);
  });

  it('reports an invalid RegExp with the pattern name, file:line and the JS error', () => {
    const e = problemOf('OK a\nBAD a{3,1}');
    expect(e.message).toBe('test.grok:2: pattern BAD "a{3,1}": numbers out of order in {} quantifier');
    const l = new PatternLibrary();
    const e2 = errorOf(() => l.define('LOOSE', 'a)'));
    expect(e2.message).toBe('pattern LOOSE "a)": unbalanced ")" at offset 1');
    expect(errorOf(() => l.define('OPEN', '(a')).message).toMatch(/missing "\)"/);
    expect(errorOf(() => l.define('CLS', '[a-')).message).toMatch(/unterminated character class/);
    expect(errorOf(() => l.compile('x', { flags: 'g' })).message).toMatch(/g and y are not allowed/);
  });
});

describe('Oniguruma translation', () => {
  const l = new PatternLibrary();
  const m = (expr: string, text: string) => {
    const r = l.compile(expr).regex.exec(text);
    return r ? r[0] : null;
  };

  it('emulates atomic groups (no backtracking into them)', () => {
    expect(m('(?>a*)a', 'aaa')).toBeNull(); // a* took every a and does not give one back
    expect(m('(?:a*)a', 'aaa')).toBe('aaa');
    expect(m('(?>ab|a)c', 'abc')).toBe('abc');
    expect(m('(?>a|ab)c', 'abc')).toBeNull(); // first alternative is final
    expect(m('x(?>[0-9]+)+y', 'x12y')).toBe('x12y'); // quantifier applies to the whole emulation
  });

  it('translates \\A, \\z, \\Z, \\h and \\H', () => {
    expect(m('\\Afoo', 'foo bar')).toBe('foo');
    expect(m('\\Abar', 'foo bar')).toBeNull();
    expect(m('bar\\z', 'foo bar')).toBe('bar');
    expect(m('bar\\z', 'foo bar\n')).toBeNull();
    expect(m('bar\\Z', 'foo bar\n')).toBe('bar');
    expect(m('bar\\Z', 'foo bar\nx')).toBeNull();
    expect(m('\\h+', 'xyz deadBEEF99')).toBe('deadBEEF99');
    expect(m('\\H+', '12ab-xyz')).toBe('-xyz');
    expect(m('[\\h:]+', 'fe80::1 x')).toBe('fe80::1');
    // with the m flag ^/$ mean lines, so \A and \z must still mean the whole text
    expect(l.compile('b\\z', { flags: 'm' }).regex.test('b\nc')).toBe(false);
    expect(l.compile('\\Ac', { flags: 'm' }).regex.test('b\nc')).toBe(false);
  });

  it('translates POSIX bracket classes, {,n}, \\x{…} and comments', () => {
    expect(m('[[:alpha:]]+', '12abC34')).toBe('abC');
    expect(m('[[:digit:][:upper:]_]+', 'ab12C_D ')).toBe('12C_D');
    expect(m('[^[:space:]]+', '  a-b\tc')).toBe('a-b');
    expect(m('[[:xdigit:]]+', 'zz0fA9g')).toBe('0fA9');
    expect(m('[[:punct:]]+', 'ab!?-x')).toBe('!?-');
    expect(m('x{,2}y', 'xxxy')).toBe('xxy');
    expect(m('\\x{41}\\x{263a}', 'A☺')).toBe('A☺');
    expect(m('a(?#this is a comment)b', 'ab')).toBe('ab');
    expect(m('\\e\\[[0-9;]*m', 'x\x1b[31mred')).toBe('\x1b[31m');
    expect(m('[\\a\\e]+', 'ae\x07\x1b')).toBe('\x07\x1b');
    expect(m('[]a]+', 'x]a]')).toBe(']a]'); // a leading ] is literal
    expect(m('a{x', 'a{x')).toBe('a{x'); // a brace that is not a quantifier is literal
    expect(m('(?<q>["\'])x\\k<q>', `'x' "x'`)).toBe("'x'");
  });

  it('turns a leading (?i) into the i flag', () => {
    const c = l.compile('(?i)get');
    expect(c.regex.flags).toContain('i');
    expect(c.regex.test('GET /')).toBe(true);
    expect(l.compile('get', { flags: 'i' }).regex.test('GeT')).toBe(true);
  });

  it.each([
    ['(?s)x', /inline option "s" in "\(\?s\)" is not supported/],
    ['[a[^b]]', /negated character class nested/],
    ['(?<a>x)(?:y|\\k<a>%{W:w})+', /backreference from inside a repeated group with optional captures to a capture outside it/],
    ['\\Gfoo', /\\G \(match-start anchor\) is not supported/],
    ['(?(1)a|b)', /conditional group/],
    ['(a)\\1', /numbered backreference "\\1"/],
    ['[a-z&&[^aeiou]]', /nested character class|intersection/],
    ['\\p{L}', /Unicode property/],
    ['[[:^alpha:]]', /negated POSIX class/],
    ['[[:nope:]]', /unknown POSIX class/],
  ])('refuses %s', (regex, message) => {
    const l2 = lib('W [a-z]+');
    const problems = l2.loadText(`BAD_ONE ${regex}`, 'test.grok');
    // Syntax is refused at load; the repeated-capture check needs the references, so at compile.
    const e = problems[0] ?? errorOf(() => l2.compile('%{BAD_ONE}'));
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/test\.grok:1/);
  });
});

describe('modes and options', () => {
  const l = lib('NUM [0-9]+\nW [a-z]+');

  it('sticky mode matches exactly at the start offset', () => {
    const c = l.compile('%{NUM:n:int}', { mode: 'sticky' });
    expect(c.regex.sticky).toBe(true);
    expect(c.match('ab 42 7', 3)).toEqual({ fields: { n: 42 }, tags: {} });
    expect(c.match('ab 42 7', 2)).toBeNull(); // a space at 2: sticky does not search ahead
    expect(c.match('ab 42 7', 6)!.fields).toEqual({ n: 7 });
    // the hot-path way: set lastIndex, call exec
    c.regex.lastIndex = 3;
    expect(c.regex.exec('ab 42 7')![c.group('n')]).toBe('42');
  });

  it('search mode finds the first match anywhere (from start on a slice)', () => {
    const c = l.compile('%{NUM:n:int}');
    expect(c.regex.sticky).toBe(false);
    expect(c.match('ab 42 7')!.fields).toEqual({ n: 42 });
    expect(c.match('ab 42 7', 5)!.fields).toEqual({ n: 7 });
  });

  it('anchorEnd anchors the whole expression, alternations included', () => {
    expect(l.compile('%{NUM:n}', { anchorEnd: true }).match('12 x')).toBeNull();
    expect(l.compile('%{NUM:n}', { anchorEnd: true }).match('x 12')!.fields).toEqual({ n: '12' });
    expect(l.compile('a|b', { anchorEnd: true }).regex.test('ax')).toBe(false);
    expect(l.compile('a|b', { anchorEnd: true }).regex.test('xa')).toBe(true);
  });

  it('caches per expression and options, and forgets on redefinition', () => {
    const a = l.compile('%{W:w}');
    expect(l.compile('%{W:w}')).toBe(a);
    expect(l.compile('%{W:w}', { mode: 'sticky' })).not.toBe(a);
    expect(l.compile('%{W:w}', { anchorEnd: true })).not.toBe(a);
    l.define('W', '[a-z]+!');
    const b = l.compile('%{W:w}');
    expect(b).not.toBe(a);
    expect(b.match('hi!')!.fields).toEqual({ w: 'hi!' });
  });
});

describe('override order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grok-override-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('later definitions override earlier ones; user files override bundled', () => {
    const l = PatternLibrary.bundled();
    expect(l.compile('%{WORD:w}').match('ab-cd')!.fields).toEqual({ w: 'ab' });
    const first = join(dir, 'first.grok');
    const second = join(dir, 'second.grok');
    writeFileSync(first, 'WORD [A-Za-z-]+\nMINE %{WORD}\n');
    writeFileSync(second, 'MINE %{WORD}!\n');
    l.loadFile(first);
    expect(l.compile('%{WORD:w}').match('ab-cd')!.fields).toEqual({ w: 'ab-cd' });
    // a bundled pattern built on WORD sees the user's WORD too (references resolve at compile)
    expect(l.compile('%{QUAY_HTTP_REQUEST}', { mode: 'sticky' }).match('M-SEARCH * HTTP/1.1')!.fields).toEqual({
      method: 'M-SEARCH',
      request: '*',
      http_version: '1.1',
    });
    l.loadFile(second);
    expect(l.origin('MINE')).toBe(`${second}:1`);
    expect(l.compile('%{MINE:m}').match('ab-cd!')!.fields).toEqual({ m: 'ab-cd!' });
    // another bundled() is untouched by this one's user files
    expect(PatternLibrary.bundled().has('MINE')).toBe(false);
  });
});

describe('Oniguruma constructs of Logstash pattern files', () => {
  const l = lib('W [a-z]+\nN [0-9]+');
  const m = (expr: string, text: string) => {
    const r = l.compile(expr).regex.exec(text);
    return r ? r[0] : null;
  };

  it('reads a class nested in a class as their union, POSIX classes included', () => {
    expect(m('[[[:alnum:]]_%!$@:.,+~-]+', '#a1_%!$@:.,+~-#')).toBe('a1_%!$@:.,+~-');
    expect(m('[a[0-9]]+', 'xa9a0y')).toBe('a9a0');
  });

  it('reads stacked quantifiers as nested ones, and emulates possessive ones', () => {
    expect(m('a.?*z', 'abcz')).toBe('abcz'); // (?:.?)* = .*
    expect(m('(?:ab){2}{2}', 'abababab')).toBe('abababab'); // {2}{2} = 4 times
    expect(m('a*+a', 'aaa')).toBeNull(); // a*+ keeps every a
    expect(m('a++b', 'aab')).toBe('aab');
  });

  it('keeps field group numbers right when a possessive quantifier adds a hidden group before them', () => {
    const c = l.compile('%{W:a} (?:%{N:n})?+ %{W:b}\\k<b>');
    // hidden atomic group 2 wraps n: a=1, (hidden)=2, n=3, b=4; \k<b> → \4
    expect(c.fields.map((f) => `${f.name}:${f.group}`)).toEqual(['a:1', 'n:3', 'b:4']);
    expect(c.match('x 12 yy')!.fields).toEqual({ a: 'x', n: '12', b: 'y' });
  });

  it('applies inline options to the end of their group: (?i), (?i:…), (?-m), (?x)', () => {
    expect(m('a(?i)bc', 'aBC')).toBe('aBC');
    expect(m('a(?i)bc', 'ABC')).toBeNull(); // the a before (?i) stays case-sensitive
    expect(m('(?:(?i)b)c', 'BC')).toBeNull(); // (?i) ends with its group
    expect(m('(?i:[a-c]+)d', 'aBcd')).toBe('aBcd');
    expect(m('a.c', 'a\nc')).toBe('a\nc'); // Logstash: . matches a newline
    expect(m('(?-m)a.c', 'a\nc')).toBeNull();
    expect(m('(?x) a b # comment\n c', 'abc')).toBe('abc');
  });

  it('reads \\w and POSIX classes as Unicode (BMP), as Oniguruma does', () => {
    expect(m('\\w+', '¿niño?')).toBe('niño');
    expect(m('[[:alpha:]]+', '1Ärger2')).toBe('Ärger');
    expect(m('[[:upper:]]+', 'aÉTÉb')).toBe('ÉTÉ');
    expect(m('[[:space:]]+', 'a\u00a0\u2003b')).toBe('\u00a0\u2003');
    // word characters either side of the surrogate range (U+D7FB Hangul, U+F900 CJK compatibility), Arabic-Indic 3
    expect(m('\\w+', '-\ud7fb\uf900\u0663_x-')).toBe('\ud7fb\uf900\u0663_x');
    // not word characters: middle dot, no-break space, an em dash
    expect(m('\\w+', 'a\u00b7b')).toBe('a');
    expect(m('[\\w]+', '\u00a0\u2014')).toBeNull();
  });

  it("reads %{NAME some words} as %{NAME}, as Logstash's reference syntax ignores the rest", () => {
    expect(l.compile('%{N the count}-%{N:x also ignored}').match('7-8')!.fields).toEqual({ x: '8' });
  });

  it('gives a capture in a repetition its last value, with only some fields captured too', () => {
    const expr = '(?:(?<k>[a-z])=%{N:v}|%{W:w};)+ %{N:after}';
    // Iterations: a=1, b=2, zz; → k=b, v=2 (last set), w=zz; JS alone would forget k and v.
    expect(l.compile(expr).match('a=1b=2zz; 9')!.fields).toEqual({ k: 'b', v: '2', w: 'zz', after: '9' });
    expect(l.compile(expr, { capture: ['v', 'after'] }).match('a=1b=2zz; 9')!.fields).toEqual({ v: '2', after: '9' });
    expect(l.compile(expr, { mode: 'sticky' }).match('-a=1zz; 9', 1)!.fields).toEqual({ k: 'a', v: '1', w: 'zz', after: '9' });
  });
});

describe("Telegraf's types", () => {
  const l = lib('ANY [^ ]+\nNUM [0-9.]+\nHD [^ ]+ [+-][0-9]{4}');

  it('measurement and timestamp captures fill measurement and timestamp, not fields', () => {
    const c = l.compile('%{ANY:m:measurement} %{HD:t:ts-httpd} %{NUM:v:float}');
    expect(c.fields.map((f) => [f.name, f.type])).toEqual([
      ['m', 'measurement'],
      ['t', 'timestamp'],
      ['v', 'float'],
    ]);
    const r = c.match('cpu 10/Oct/2000:13:55:36 -0700 1.5')!;
    // 13:55:36 -0700 = 20:55:36 UTC = 971211336 s
    expect(r).toEqual({ fields: { v: 1.5 }, tags: {}, measurement: 'cpu', timestamp: { epochNs: 971211336000000000n, epochMs: 971211336000 } });
  });

  it('a text without offset is read in the timezone option; an unknown zone is refused', () => {
    const expr = '%{ANY:t:ts-"2006-01-02T15:04:05"}';
    // 2024-01-15 12:00 in Berlin (CET, +1) = 11:00 UTC; in Tokyo (+9) = 03:00 UTC
    expect(l.compile(expr, { timezone: 'Europe/Berlin' }).match('2024-01-15T12:00:00')!.timestamp!.epochMs).toBe(Date.UTC(2024, 0, 15, 11));
    expect(l.compile(expr, { timezone: 'Asia/Tokyo' }).match('2024-01-15T12:00:00')!.timestamp!.epochMs).toBe(Date.UTC(2024, 0, 15, 3));
    expect(l.compile(expr).match('2024-01-15T12:00:00')!.timestamp!.epochMs).toBe(Date.UTC(2024, 0, 15, 12));
    expect(errorOf(() => l.compile(expr, { timezone: 'Mars/Olympus' })).message).toMatch(/unknown time zone "Mars\/Olympus"/);
  });

  it('one timestamp per expression; ts-"layout" may hold colons and spaces', () => {
    expect(errorOf(() => l.compile('%{ANY:a:ts-epoch} %{ANY:b:ts}')).message).toMatch(/more than one timestamp capture \(a, b\)/);
    const c = l.compile('%{ANY:t:ts-"Jan _2 15:04:05.000 PM"}x', {});
    expect(c.fields[0]!.timestamp).toEqual({ kind: 'layout', layout: 'Jan _2 15:04:05.000 PM' });
  });
});

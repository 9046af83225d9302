/**
 * MessagePattern alone: a pattern matched at a position (sticky), fields by their place in the
 * list, "" for a field the pattern lacks (a user's override may drop one) and after a failed match.
 */
import { describe, expect, it } from 'vitest';
import { PatternLibrary } from '../grok/index.js';
import { MessagePattern } from './message-pattern.js';

describe('MessagePattern', () => {
  it('reads fields in list order, at `start` only; "" for a field the pattern lacks, before a match and after a failed one', () => {
    const lib = PatternLibrary.bundled();
    lib.define('T_JOB', String.raw`job %{WORD:name} took %{INT:ms}ms`);
    const p = new MessagePattern(lib, 'T_JOB', ['ms', 'missing', 'name']);
    expect(p.get(0)).toBe('');
    expect(p.match('xx job build took 12ms', 3)).toBe(true);
    expect([p.get(0), p.get(1), p.get(2)]).toEqual(['12', '', 'build']);
    // Sticky: not found further on when the text at `start` does not match.
    expect(p.match('xx job build took 12ms', 0)).toBe(false);
    expect([p.get(0), p.get(2)]).toEqual(['', '']);
    // Default start 0; a later match replaces the fields.
    expect(p.match('job push took 7ms')).toBe(true);
    expect([p.get(0), p.get(2)]).toEqual(['7', 'push']);
  });

  it('anchorEnd: the pattern must reach the end of the text', () => {
    const lib = PatternLibrary.bundled();
    lib.define('T_WORD', '%{WORD:w}');
    const open = new MessagePattern(lib, 'T_WORD', ['w']);
    const whole = new MessagePattern(lib, 'T_WORD', ['w'], true);
    expect(open.match('abc def')).toBe(true);
    expect(open.get(0)).toBe('abc');
    expect(whole.match('abc def')).toBe(false);
    expect(whole.match('abc')).toBe(true);
    expect(whole.get(0)).toBe('abc');
  });

  it('an optional field that took no part reads ""', () => {
    const lib = PatternLibrary.bundled();
    lib.define('T_OPT', String.raw`done(?: in %{INT:ms}ms)?`);
    const p = new MessagePattern(lib, 'T_OPT', ['ms']);
    expect(p.match('done')).toBe(true);
    expect(p.get(0)).toBe('');
  });
});

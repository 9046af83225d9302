import { describe, expect, it } from 'vitest';
import { parseHttpDate, parsePythonTime, parsePythonTimeFast, parseZoneOffset } from './time.js';

describe('log times', () => {
  it('reads nginx $time_local with its offset', () => {
    expect(parseHttpDate('22/Nov/2026:10:15:32 +0000')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32));
    expect(parseHttpDate('22/Nov/2026:12:15:32 +0200')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32));
    expect(parseHttpDate('22/Foo/2026:12:15:32 +0200')).toBeNaN();
  });

  it('reads Python asctime in the configured zone, same answer on the fast and slow paths', () => {
    // 2026-11-22 is day 20779 since the epoch (2025-11-22 is 20414, plus 365): 20779 * 86400000 = 1795305600000
    expect(parsePythonTime('2026-11-22 10:15:32,123')).toBe(1795305600000 + (10 * 3600 + 15 * 60 + 32) * 1000 + 123);
    // the next day, then back: the cached day must not leak
    expect(parsePythonTime('2026-11-23 00:00:00,000')).toBe(1795305600000 + 86_400_000);
    expect(parsePythonTime('2026-11-22 23:59:59,999')).toBe(1795305600000 + 86_400_000 - 1);
    expect(parsePythonTime('2026-11-22 10:15:32,123', parseZoneOffset('+02:00'))).toBe(Date.UTC(2026, 10, 22, 8, 15, 32, 123));
    // not the fixed layout: the general path
    expect(parsePythonTime('2026-11-22T10:15:32.5')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32, 500));
    expect(parsePythonTime('2026-11-22 10:15:32')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32));
    expect(parsePythonTime('2026-11-22 1x:15:32,123')).toBeNaN();
    expect(parsePythonTime('garbage')).toBeNaN();
  });

  it('nginx offsets with minutes and a minus sign; anything else around the date is malformed', () => {
    // 15:45:32 at +05:30 is 10:15:32 UTC; 04:45:32 at -05:30 is 10:15:32 UTC.
    expect(parseHttpDate('22/Nov/2026:15:45:32 +0530')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32));
    expect(parseHttpDate('22/Nov/2026:04:45:32 -0530')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32));
    expect(parseHttpDate('x22/Nov/2026:10:15:32 +0000')).toBeNaN();
    expect(parseHttpDate('22/Nov/2026:10:15:32 +0000 ')).toBeNaN();
    expect(parseHttpDate('22/nov/2026:10:15:32 +0000')).toBeNaN();
  });

  it('zone offsets: UTC and Z are 0; +hh:mm, -hhmm in minutes east; anything else NaN', () => {
    expect(parseZoneOffset('UTC')).toBe(0);
    expect(parseZoneOffset('Z')).toBe(0);
    expect(parseZoneOffset('+05:30')).toBe(330);
    expect(parseZoneOffset('+0530')).toBe(330);
    expect(parseZoneOffset('-05:30')).toBe(-330);
    expect(parseZoneOffset('-0130')).toBe(-90);
    expect(parseZoneOffset('')).toBeNaN();
    expect(parseZoneOffset('x+05:30')).toBeNaN();
    expect(parseZoneOffset('+05:30x')).toBeNaN();
    expect(parseZoneOffset('+05::30')).toBeNaN();
  });

  it('Python times: a non-digit anywhere in the time is NaN, on the fast path too', () => {
    parsePythonTime('2026-11-22 10:15:32,123'); // the day is cached
    for (const bad of ['2026-11-22 x0:15:32,123', '2026-11-22 1x:15:32,123', '2026-11-22 10:x5:32,123', '2026-11-22 10:1x:32,123', '2026-11-22 10:15:x2,123', '2026-11-22 10:15:3x,123', '2026-11-22 10:15:32,x23', '2026-11-22 10:15:32,1x3', '2026-11-22 10:15:32,12x', '2026-11-22 10-15:32,123', '2026-11-22 10:15-32,123']) {
      expect([bad, parsePythonTime(bad)]).toEqual([bad, Number.NaN]);
    }
    // A day not yet cached, in the fast layout but no date: NaN, and it does not become the cached day.
    expect(parsePythonTime('2026-1x-22 10:15:32,123')).toBeNaN();
    expect(parsePythonTime('2026-11-22 10:15:32,123')).toBe(1795305600000 + (10 * 3600 + 15 * 60 + 32) * 1000 + 123);
  });

  it('Python times on the general path: 1 to 6 fraction digits in milliseconds, the zone applied, nothing around', () => {
    expect(parsePythonTime('2026-11-22 10:15:32.123456')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32, 123));
    expect(parsePythonTime('2026-11-22 10:15:32,1')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32, 100));
    expect(parsePythonTime('2026-11-22T10:15:32', 60)).toBe(Date.UTC(2026, 10, 22, 9, 15, 32));
    expect(parsePythonTime('2026-11-22T10:15:32', -90)).toBe(Date.UTC(2026, 10, 22, 11, 45, 32));
    expect(parsePythonTime('x2026-11-22 10:15:32')).toBeNaN();
    expect(parsePythonTime('2026-11-22 10:15:32 ')).toBeNaN();
    expect(parsePythonTime('2026-11-22 10:15:32.1234567')).toBeNaN();
  });
});

describe('parsePythonTimeFast: the fast path alone (behind parsePythonTime the slow path hides it giving up)', () => {
  it("reads Quay's layout, across day changes in both directions, with the zone", () => {
    expect(parsePythonTimeFast('2026-11-22 10:15:32,123')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32, 123));
    // Another day, then back: the cached day is replaced each time.
    expect(parsePythonTimeFast('2026-11-23 00:00:00,000')).toBe(Date.UTC(2026, 10, 23));
    expect(parsePythonTimeFast('2026-11-22 23:59:59,999')).toBe(Date.UTC(2026, 10, 22, 23, 59, 59, 999));
    // 09:00 at +02:00 is 07:00 UTC; every digit 0–9 in some position.
    expect(parsePythonTimeFast('2019-12-31 09:48:57,608', 120)).toBe(Date.UTC(2019, 11, 31, 7, 48, 57, 608));
  });

  it('gives up (NaN) on any other layout, which parsePythonTime reads the slow way', () => {
    for (const t of [
      '2026-11-22 10:15:32.123', // "." before the milliseconds
      '2026-11-22T10:15:32,123', // "T"
      '2026-11-22 10:15:32,12', // 22 characters
      '2026-11-22 10:15:32,1234', // 24
      '2026-11-22 10-15-32,123', // no colons
      '2026-11-22 10:15-32,123',
      '2026-1x-22 10:15:32,123', // not a day
      '2026-11-22 1x:15:32,123',
      '2026-11-22 10:1/:32,123', // "/" is one below "0"
      '2026-11-22 10:15:3:,123', // ":" one above "9"
      '2026-11-22 10:15:32,/23',
      '2026-11-22 10:15:32,1:3',
      '2026-11-22 10:15:32,12:',
    ]) {
      expect(parsePythonTimeFast(t), t).toBeNaN();
    }
    expect(parsePythonTime('2026-11-22 10:15:32.123')).toBe(Date.UTC(2026, 10, 22, 10, 15, 32, 123));
  });
});

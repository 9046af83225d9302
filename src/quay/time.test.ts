import { describe, expect, it } from 'vitest';
import { parseHttpDate, parsePythonTime, parseZoneOffset } from './time.js';

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
});

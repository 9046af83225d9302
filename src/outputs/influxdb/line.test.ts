import { describe, expect, it } from 'vitest';
import { boundFieldName, eventToLine, truncateUtf8, UniqueTimes } from './convert.js';
import { formatPoint, formatTags, formatTime } from './line.js';
import { refusedPoints } from './client.js';

describe('line protocol', () => {
  it('escapes tag keys/values and field keys, quotes strings, drops empty tags and non-finite numbers', () => {
    const tags = formatTags({ repository: 'a b,c=d', empty: '', z: 'x\ny', bs: 'end\\' });
    // Sorted keys; "empty" left out; newline → space; trailing backslash removed.
    expect(tags).toBe(',bs=end,repository=a\\ b\\,c\\=d,z=x\\ y');
    expect(formatPoint('m', tags, { n: 1.5, s: 'say "hi" \\ ok', b: true, bad: NaN }, '1')).toBe(
      'm,bs=end,repository=a\\ b\\,c\\=d,z=x\\ y n=1.5,s="say \\"hi\\" \\\\ ok",b=true 1',
    );
    expect(formatPoint('m', '', { bad: Infinity }, '1')).toBeUndefined();
  });

  it('formats a millisecond time in each precision without losing digits', () => {
    const ms = 1_700_000_000_123;
    expect(formatTime(ms, 'ms')).toBe('1700000000123');
    expect(formatTime(ms, 's')).toBe('1700000000');
    expect(formatTime(ms, 'u')).toBe('1700000000123000');
    expect(formatTime(ms, 'ns')).toBe('1700000000123000000');
  });

  it('names bucket fields like Go FormatFloat(f, -1)', () => {
    expect([0.005, 1, 2.5, 1073741824, 1e21, 1e-7, Infinity].map(boundFieldName)).toEqual(['0.005', '1', '2.5', '1073741824', '1000000000000000000000', '0.0000001', '+Inf']);
  });

  it('cuts UTF-8 at a character boundary', () => {
    // "é" is 2 bytes: 5 bytes keep 2 characters, never half of the third.
    expect(truncateUtf8('ééé', 5)).toBe('éé');
    expect(truncateUtf8('abc', 5)).toBe('abc');
    expect(Buffer.byteLength(truncateUtf8('€'.repeat(400), 1024))).toBe(1023); // 341 × 3 bytes
  });

  it('turns an event into one point: global tags, event tags win, error truncated, event time', () => {
    const line = eventToLine(
      { measurement: 'quay_mirror_sync', time: 1_700_000_000_000, tags: { namespace: 'acme', result: 'failed' }, fields: { error: 'x'.repeat(10), tag: 'v1' } },
      { pod: 'p', namespace: 'global' },
      4,
      'ms',
    );
    expect(line).toBe('quay_mirror_sync,namespace=acme,pod=p,result=failed error="xxxx",tag="v1" 1700000000000');
  });

  it("writes the pod of the event's stream as fields (pods churn: not a tag)", () => {
    const event = { measurement: 'quay_gc_run', time: 1_700_000_000_000, tags: { job: 'j', result: 'success' }, fields: { blobs_removed: 2 } } as const;
    const withPod = eventToLine({ ...event, stream: { id: 'file:1:2', pod: 'quay-app-1', namespace: 'quay' } }, {}, 64, 'ms');
    expect(withPod).toBe('quay_gc_run,job=j,result=success blobs_removed=2,pod="quay-app-1",pod_namespace="quay" 1700000000000');
    // A stream with no pod (a plain file) adds nothing.
    expect(eventToLine({ ...event, stream: { id: 'file:1:2' } }, {}, 64, 'ms')).toBe('quay_gc_run,job=j,result=success blobs_removed=2 1700000000000');
  });

  it('counts the points of a refused batch from the server message', () => {
    expect(refusedPoints('{"error":"partial write: points beyond retention policy dropped=2"}', 10)).toBe(2);
    expect(refusedPoints('{"error":"partial write: unable to parse \'a\': x\nunable to parse \'b\': y dropped=0"}', 10)).toBe(2);
    expect(refusedPoints('{"error":"database not found: \\"x\\""}', 10)).toBe(10);
  });
});

describe('UniqueTimes', () => {
  it('moves an event off a time its series already used, by one unit', () => {
    const t = new UniqueTimes();
    // three slow pulls of one repository logged in the same second (ms precision), then the next second
    expect([1000n, 1000n, 1000n, 2000n].map((x) => t.assign('pull,acme/app', x))).toEqual([1000n, 1001n, 1002n, 2000n]);
    // another series keeps its own times
    expect(t.assign('push,acme/app', 1000n)).toBe(1000n);
    // a real event inside the nudged range moves past it; an earlier, out-of-order one is left alone
    expect(t.assign('pull,acme/app', 2000n)).toBe(2001n);
    expect(t.assign('pull,acme/app', 2001n)).toBe(2002n);
    expect(t.assign('pull,acme/app', 500n)).toBe(500n);
  });
});

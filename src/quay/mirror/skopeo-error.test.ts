/** The skopeo stderr readers, on texts shaped like skopeo's logrus output (`time="…" level=… msg="…"`). */
import { describe, expect, it } from 'vitest';
import { hasSkopeoError, isListTagsFailure, listTagsUpstream, skopeoErrorCore } from './skopeo-error.js';

describe('skopeoErrorCore', () => {
  it('the last fatal line, else the last error line, else the whole text; only that line', () => {
    const debug = 'time="t0" level=debug msg="GET https://quay.io/v2/"';
    const fatal = 'time="t1" level=fatal msg="manifest unknown"';
    const error = 'time="t1" level=error msg="retrying"';
    // A line after the fatal one is not part of it.
    expect(skopeoErrorCore([debug, fatal, debug].join('\n'))).toBe(fatal);
    // fatal wins over a later error line.
    expect(skopeoErrorCore([fatal, error].join('\n'))).toBe(fatal);
    expect(skopeoErrorCore([debug, error, debug].join('\n'))).toBe(error);
    // The marker at the very start of the text.
    expect(skopeoErrorCore('level=fatal msg="x"\nmore')).toBe('level=fatal msg="x"');
    expect(skopeoErrorCore('plain text\nsecond line')).toBe('plain text\nsecond line');
  });
});

describe('hasSkopeoError', () => {
  it('a fatal or error line, or any text that is not logrus; not blank text, not debug lines alone', () => {
    expect(hasSkopeoError('')).toBe(false);
    expect(hasSkopeoError(' \n ')).toBe(false);
    expect(hasSkopeoError('time="t" level=debug msg="Ping https://quay.io/v2/ status 401"')).toBe(false);
    expect(hasSkopeoError('time="t" level=debug msg="a"\ntime="t" level=fatal msg="b"')).toBe(true);
    expect(hasSkopeoError('time="t" level=debug msg="a"\ntime="t" level=error msg="b"')).toBe(true);
    expect(hasSkopeoError('FATA[0000] Error reading manifest')).toBe(true);
  });
});

describe('list-tags failures', () => {
  it('the failing tag list URL names the upstream; Docker Hub API hosts are docker.io', () => {
    expect(isListTagsFailure('time="t" level=fatal msg="Error listing repository tags: unauthorized"')).toBe(true);
    expect(isListTagsFailure('time="t" level=fatal msg="Error reading manifest"')).toBe(false);
    expect(listTagsUpstream('level=debug msg="GET https://quay.io/v2/prometheus/node-exporter/tags/list"')).toBe('quay.io/prometheus/node-exporter');
    expect(listTagsUpstream('level=debug msg="GET https://registry-1.docker.io/v2/library/nginx/tags/list?n=100"')).toBe('docker.io/library/nginx');
    expect(listTagsUpstream('level=fatal msg="Error listing repository tags: no URL here"')).toBe('');
  });
});

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

describe('list-tags failures: the URL, edge by edge', () => {
  it('http or https, each Docker Hub API host, the shortest path before /tags/list, stopped by a quote, backslash or query', () => {
    expect(listTagsUpstream('GET http://registry.local:5000/v2/team/app/tags/list')).toBe('registry.local:5000/team/app');
    expect(listTagsUpstream('GET https://index.docker.io/v2/library/nginx/tags/list')).toBe('docker.io/library/nginx');
    expect(listTagsUpstream('GET https://registry.hub.docker.com/v2/library/nginx/tags/list')).toBe('docker.io/library/nginx');
    // Not a Docker Hub API host: kept as written.
    expect(listTagsUpstream('GET https://docker.io/v2/library/nginx/tags/list')).toBe('docker.io/library/nginx');
    expect(listTagsUpstream('GET https://mirror.gcr.io/v2/library/nginx/tags/list')).toBe('mirror.gcr.io/library/nginx');
    // As logged inside msg="…" with escaped quotes: the host ends at a backslash or quote.
    expect(listTagsUpstream('msg="GET \\"https://quay.io/v2/a/b/tags/list\\""')).toBe('quay.io/a/b');
    // No /v2/ path, or a space in the way: nothing.
    expect(listTagsUpstream('GET https://quay.io/a/b/tags/list')).toBe('');
    expect(listTagsUpstream('GET https://quay.io/v2/a b/tags/list')).toBe('');
    expect(listTagsUpstream('GET ftp://quay.io/v2/a/tags/list')).toBe('');
    expect(isListTagsFailure('Error Listing Repository Tags: x')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { classifyRegistryRequest, NAME_START, newRoute, splitRepositoryName } from './registry-route.js';

const D = 'sha256:3b4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e';

function classify(method: string, path: string) {
  const r = newRoute();
  classifyRegistryRequest(method, path, r);
  return [r.operation, ...(r.nameEnd === -1 ? ['', ''] : splitRepositoryName(path.slice(NAME_START, r.nameEnd)))];
}

describe('classifyRegistryRequest', () => {
  it.each([
    ['GET', '/v2/', 'ping', '', ''],
    ['GET', '/v2', 'ping', '', ''],
    ['GET', '/v2/auth?account=alice&scope=repository:acme/app:pull&service=quay.example.com', 'token', '', ''],
    ['GET', '/v2/_catalog?n=100', 'catalog', '', ''],
    ['GET', '/v2/acme/app/manifests/latest', 'pull_manifest', 'acme', 'app'],
    ['HEAD', `/v2/acme/app/manifests/${D}`, 'pull_manifest', 'acme', 'app'],
    ['PUT', '/v2/acme/app/manifests/v1.2.3', 'push_manifest', 'acme', 'app'],
    ['DELETE', `/v2/acme/app/manifests/${D}`, 'delete_manifest', 'acme', 'app'],
    ['POST', '/v2/acme/app/manifests/latest', 'other', '', ''],
    ['GET', `/v2/acme/app/blobs/${D}`, 'pull_blob', 'acme', 'app'],
    ['HEAD', `/v2/acme/app/blobs/${D}`, 'pull_blob', 'acme', 'app'],
    ['POST', '/v2/acme/app/blobs/uploads/', 'push_blob_start', 'acme', 'app'],
    ['POST', `/v2/acme/app/blobs/uploads/?mount=${D}&from=acme/base`, 'push_blob_start', 'acme', 'app'],
    ['POST', '/v2/acme/app/blobs/uploads', 'push_blob_start', 'acme', 'app'],
    ['PATCH', '/v2/acme/app/blobs/uploads/0f4c7a3e-7a1b-4a53-9c35-3c1de1a0b0c1', 'push_blob_chunk', 'acme', 'app'],
    ['PUT', `/v2/acme/app/blobs/uploads/0f4c7a3e-7a1b-4a53-9c35-3c1de1a0b0c1?digest=${D}`, 'push_blob_commit', 'acme', 'app'],
    ['GET', '/v2/acme/app/blobs/uploads/0f4c7a3e', 'other', '', ''],
    ['GET', '/v2/acme/app/tags/list?n=50', 'list_tags', 'acme', 'app'],
    ['GET', `/v2/acme/app/referrers/${D}?artifactType=application/spdx`, 'referrers', 'acme', 'app'],
    // Multi-segment names follow the grammar: the first component is the namespace.
    ['GET', '/v2/org/team/app/manifests/latest', 'pull_manifest', 'org', 'team/app'],
    ['PATCH', '/v2/org/team/sub/app/blobs/uploads/abc', 'push_blob_chunk', 'org', 'team/sub/app'],
    ['GET', '/v2/org/team/app/tags/list', 'list_tags', 'org', 'team/app'],
    // Names that look like route words are still names.
    ['GET', '/v2/org/manifests/manifests/latest', 'pull_manifest', 'org', 'manifests'],
    ['GET', `/v2/org/blobs/blobs/${D}`, 'pull_blob', 'org', 'blobs'],
    ['POST', '/v2/org/uploads/blobs/uploads/', 'push_blob_start', 'org', 'uploads'],
    // One-component names (library namespace): no namespace in the path.
    // One component: Quay stores it in LIBRARY_NAMESPACE (util/names.py parse_namespace_repository).
    ['GET', '/v2/ubuntu/manifests/22.04', 'pull_manifest', 'library', 'ubuntu'],
    ['POST', '/v2/oc-mirror/blobs/uploads/', 'push_blob_start', 'library', 'oc-mirror'],
    // Not the grammar: no labels taken from it.
    ['GET', '/v2/acme//app/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app%2f../manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app/unknown/thing', 'other', '', ''],
    ['GET', '/v2/manifests/latest', 'other', '', ''],
    ['GET', '/v2/../../etc/passwd', 'other', '', ''],
    // Near misses of each route word: same length, other letters, or one letter more.
    ['GET', '/v2x', 'other', '', ''],
    ['GET', '/v2/authx', 'other', '', ''],
    ['GET', '/v2/autx', 'other', '', ''],
    ['GET', '/v2/_catalogs', 'other', '', ''],
    ['GET', '/v2/_catalox', 'other', '', ''],
    ['GET', '/v2/acme/app/manifestz/latest', 'other', '', ''],
    ['GET', '/v2/acme/app/blobz/x', 'other', '', ''],
    ['GET', `/v2/acme/app/blob/${D}`, 'other', '', ''],
    ['GET', '/v2/acme/app/tags/lists', 'other', '', ''],
    ['GET', '/v2/acme/app/tags/lisx', 'other', '', ''],
    ['GET', '/v2/acme/app/tagz/list', 'other', '', ''],
    ['GET', `/v2/acme/app/referrerz/${D}`, 'other', '', ''],
    // Upload routes with the wrong method, or the wrong word before "uploads".
    ['PUT', '/v2/acme/app/blobs/uploads/', 'other', '', ''],
    ['GET', '/v2/acme/app/blobs/uploads', 'other', '', ''],
    ['POST', '/v2/acme/app/blobz/uploads/', 'other', '', ''],
    ['POST', '/v2/blobs/uploads/', 'other', '', ''],
    ['POST', `/v2/acme/app/blobs/${D}`, 'other', '', ''],
    ['DELETE', '/v2/acme/app/blobs/uploads/u1', 'other', '', ''],
    ['PATCH', '/v2/acme/app/blobz/uploads/u1', 'other', '', ''],
    ['PATCH', '/v2/blobs/uploads/u1', 'other', '', ''],
    ['PATCH', '/v2/acme/app/uploadz/u1', 'other', '', ''],
    // Names: upper case, digits, separators and the characters the grammar refuses.
    ['GET', '/v2/Acme/App_1.2-x/manifests/latest', 'pull_manifest', 'Acme', 'App_1.2-x'],
    ['GET', '/v2/0rg/9/manifests/latest', 'pull_manifest', '0rg', '9'],
    ['GET', '/v2/acme/app!/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/a p/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app~/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app{/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app@/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app[/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app`/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app:/manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app//manifests/latest', 'other', '', ''],
    ['GET', '/v2//manifests/latest', 'other', '', ''],
    ['GET', '/v2/acme/app//blobs/uploads/x', 'other', '', ''],
    ['PATCH', '/v2//blobs/uploads/x', 'other', '', ''],
    // The ends of the name alphabet (z, Z) and a name that starts with a slash.
    ['GET', '/v2/zeta/Zulu/manifests/latest', 'pull_manifest', 'zeta', 'Zulu'],
    ['GET', '/v2//acme/manifests/latest', 'other', '', ''],
    // Route words with a letter more: the length check, not only the prefix, decides.
    ['GET', '/v2/acme/app/manifestsx/latest', 'other', '', ''],
    ['GET', '/v2/acme/app/blobsx/abc', 'other', '', ''],
    ['GET', '/v2/acme/app/tagsx/list', 'other', '', ''],
    ['GET', `/v2/acme/app/referrersx/${D}`, 'other', '', ''],
    ['PATCH', '/v2/acme/app/blobs/uploadsx/u1', 'other', '', ''],
    ['PATCH', '/v2/acme/app/blobsx/uploads/u1', 'other', '', ''],
    // A 7-letter word that is not "uploads", before an id or as the last segment (a blob reference).
    ['PATCH', '/v2/acme/app/blobs/abcdefg/u1', 'other', '', ''],
    ['GET', '/v2/acme/app/blobs/abcdefg', 'pull_blob', 'acme', 'app'],
    ['GET', '/v2/acme/app/blobs/uploadsx', 'pull_blob', 'acme', 'app'],
    // A query that starts with a slash: the route is read from the path before "?" only.
    ['GET', '/v2/acme/app/tags/list?/x', 'list_tags', 'acme', 'app'],
  ])('%s %s → %s %s/%s', (method, path, op, ns, repo) => {
    expect(classify(method, path)).toEqual([op, ns, repo]);
  });

  it('refuses names longer than Quay allows (511 characters: 255 + "/" + 255), and takes one of exactly 511', () => {
    expect(classify('GET', `/v2/a/${'b'.repeat(600)}/manifests/latest`)).toEqual(['other', '', '']);
    // "a/" + 509 b's = 511 characters: allowed; one more is not.
    expect(classify('GET', `/v2/a/${'b'.repeat(509)}/manifests/latest`)).toEqual(['pull_manifest', 'a', 'b'.repeat(509)]);
    expect(classify('GET', `/v2/a/${'b'.repeat(510)}/manifests/latest`)).toEqual(['other', '', '']);
  });

  it('a route reused for another request forgets the name of the one before', () => {
    const r = newRoute();
    classifyRegistryRequest('GET', '/v2/acme/app/manifests/latest', r);
    expect(r.nameEnd).toBe(12);
    for (const path of ['/v2/', '/v2/acme/app/unknown/thing', '/v2/acme/app/blobs/uploads/', '/v2/acme//app/manifests/x']) {
      classifyRegistryRequest('GET', path, r);
      expect([path, r.operation, r.nameEnd]).toEqual([path, path === '/v2/' ? 'ping' : 'other', -1]);
    }
  });
});

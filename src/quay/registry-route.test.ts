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
  ])('%s %s → %s %s/%s', (method, path, op, ns, repo) => {
    expect(classify(method, path)).toEqual([op, ns, repo]);
  });

  it('refuses names longer than Quay allows', () => {
    expect(classify('GET', `/v2/a/${'b'.repeat(600)}/manifests/latest`)).toEqual(['other', '', '']);
  });
});

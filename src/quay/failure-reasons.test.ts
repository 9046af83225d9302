import { beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_FAILURE_REASONS, createFailureClassifier } from './failure-reasons.js';

/**
 * One or more real error texts per reason: skopeo (containers/image) stderr
 * as Quay logs it in `Skopeo command failed (exit code N): …`, `oc image
 * mirror` output, and Quay's own log texts. The expected reason is what a
 * person reading the text would file it under.
 */
const CASES: [reason: string, text: string][] = [
  ['auth_failed', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://registry.redhat.io/rhel8/postgresql-13:1: reading manifest 1 in registry.redhat.io/rhel8/postgresql-13: unauthorized: Please login to the Red Hat Registry using your Customer Portal credentials. Further instructions can be found here: https://access.redhat.com/RegistryAuthentication"'],
  ['auth_failed', 'time="2026-11-22T10:15:40Z" level=fatal msg="Error listing repository tags: fetching tags list: requested access to the resource is denied"'],
  ['auth_failed', 'error: unable to retrieve source image quay.io/private/app manifest sha256:4a1c4b21597c1b4415bdbecb28a3296c6b5e23ca4f9feeb599860a1dac6a0108: unauthorized: access to the requested resource is not authorized'],
  ['rate_limited', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://quay.io/prometheus/node-exporter:v1.7.0: reading manifest v1.7.0 in quay.io/prometheus/node-exporter: toomanyrequests: too many requests"'],
  ['rate_limited', 'toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit'],
  ['rate_limited', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://docker.io/library/nginx:1.25: reading manifest 1.25 in docker.io/library/nginx: received unexpected HTTP status: 429 Too Many Requests"'],
  ['not_found', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://quay.io/prometheus/node-exporter:v9.9.9: reading manifest v9.9.9 in quay.io/prometheus/node-exporter: manifest unknown"'],
  ['not_found', 'time="2026-11-22T10:15:40Z" level=fatal msg="Error listing repository tags: fetching tags list: name unknown: repository name not known to registry"'],
  ['not_found', 'error: unable to retrieve source image registry.ci.openshift.org/ci/gone manifest latest: received unexpected HTTP status: 404 Not Found'],
  ['unknown_blob', 'error: unable to open source layer sha256:e30853ed228ffef1bb93a5ead95e0002eb7ad6eba0178d30da4585d1d10aa5df to copy to quay.io/openshift/ci: unknown blob'],
  ['unknown_blob', 'time="2026-11-22T10:15:40Z" level=fatal msg="copying system image from manifest list: reading blob sha256:9e3a3fd8e2a0a1fa0eb5c1b7f1b9a1a8c2d4e55a0f3a86e8c1d3f6b8a7e0c1d2: fetching blob: blob unknown to registry"'],
  ['manifest_invalid', 'error: unable to push manifest to quay.io/openshift/ci:20231030_sha256_cfd40eaa6282ae5cc93d87f74f7fa9af9459be7b497cb0c334f4408b81a5142f: manifest invalid: manifest invalid'],
  ['manifest_invalid', 'time="2026-11-22T10:15:40Z" level=fatal msg="writing manifest: uploading manifest v1.7.0 to quay.example.com/mirrors/node-exporter: manifest invalid: manifest invalid"'],
  ['network_timeout', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://quay.io/prometheus/node-exporter:v1.7.0: pinging container registry quay.io: Get \\"https://quay.io/v2/\\": dial tcp 3.216.152.103:443: i/o timeout"'],
  ['network_timeout', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://quay.io/a/b:1: pinging container registry quay.io: Get \\"https://quay.io/v2/\\": net/http: TLS handshake timeout"'],
  ['network_timeout', 'Skopeo command failed (exit code -9): '],
  ['connection_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://registry.internal:5000/app:1: pinging container registry registry.internal:5000: Get \\"https://registry.internal:5000/v2/\\": dial tcp 10.0.0.5:5000: connect: connection refused"'],
  ['connection_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://registry.internal/app:1: pinging container registry registry.internal: Get \\"https://registry.internal/v2/\\": dial tcp: lookup registry.internal on 10.96.0.10:53: no such host"'],
  ['tls_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://registry.internal/app:1: pinging container registry registry.internal: Get \\"https://registry.internal/v2/\\": tls: failed to verify certificate: x509: certificate signed by unknown authority"'],
  ['tls_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="initializing source docker://registry.internal/app:1: pinging container registry registry.internal: Get \\"https://registry.internal/v2/\\": x509: certificate has expired or is not yet valid: current time 2026-11-22T10:15:40Z is after 2026-01-01T00:00:00Z"'],
  ['decryption_failed', 'Failed to decrypt username or password for mirroring 42'],
  ['invalid_source_registry', 'Source registry location is not allowed'],
  ['invalid_source_registry', 'time="2026-11-22T10:15:40Z" level=fatal msg="Invalid source name docker://quay.io/Prometheus/Node-Exporter:v1: invalid reference format: repository name must be lowercase"'],
  ['preempted', 'Another repository mirror worker pre-empted us for repository: 17'],
  ['schema1_unsupported', 'I1030 18:22:12.293011   72990 manifest.go:550] warning: Digests are not preserved with schema version 1 images. Support for schema version 1 images will be removed in a future release'],
  ['schema1_unsupported', 'time="2026-11-22T10:15:40Z" level=fatal msg="copying system image from manifest list: Manifest list must be converted to type \\"application/vnd.docker.distribution.manifest.v1+prettyjws\\" to be written to destination, but we cannot modify it: \\"Would invalidate signatures\\""'],
  ['storage_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="copying system image from manifest list: writing blob: storing blob to file \\"/var/tmp/storage3719/1\\": write /var/tmp/storage3719/1: no space left on device"'],
  ['storage_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="writing manifest: uploading manifest v1 to quay.example.com/team/app: denied: Quota has been exceeded on namespace"'],
  ['cancelled', 'Sync cancelled on repo mirrors/node-exporter.'],
  ['cancelled', 'time="2026-11-22T10:15:40Z" level=fatal msg="copying system image from manifest list: writing blob: context canceled"'],
  ['unknown_error', 'time="2026-11-22T10:15:40Z" level=fatal msg="something nobody has seen before"'],
  ['unknown_error', ''],
];

describe('createFailureClassifier', () => {
  // Built per test (beforeEach), not in beforeEach: Stryker records per-test coverage from a beforeEach
  // of its own, so what beforeEach reaches is "static" coverage no test owns (test/MUTATION.md).
  let classify: ReturnType<typeof createFailureClassifier>;
  beforeEach(() => {
    classify = createFailureClassifier([]);
  });

  it.each(CASES)('%s ← %s', (reason, text) => {
    expect(classify(text)).toBe(reason);
  });

  it('covers every built-in reason with at least one real text', () => {
    const covered = new Set(CASES.map(([r]) => r));
    for (const rule of BUILTIN_FAILURE_REASONS) expect(covered.has(rule.reason), rule.reason).toBe(true);
  });

  it('tries the configured rules first, case-insensitively', () => {
    const c = createFailureClassifier([{ reason: 'upstream_gone', match: 'MANIFEST UNKNOWN' }]);
    expect(c(CASES[6]![1])).toBe('upstream_gone');
    // A text the configured rule does not match falls through to the built-in table.
    expect(c(CASES[3]![1])).toBe('rate_limited');
  });
});

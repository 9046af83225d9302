import { describe, expect, it } from 'vitest';
import { podOfPath } from './kubernetes.js';

const ID = '4f8a2c0e9b7d6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a19';

describe('podOfPath', () => {
  it('/var/log/containers/<pod>_<namespace>_<container>-<id>.log', () => {
    expect(podOfPath(`/var/log/containers/quay-app-5c7f9d8b6-x2k4q_quay-enterprise_quay-app-${ID}.log`)).toEqual({
      pod: 'quay-app-5c7f9d8b6-x2k4q',
      namespace: 'quay-enterprise',
      container: 'quay-app',
    });
  });

  it('/var/log/pods/<namespace>_<pod>_<uid>/<container>/N.log, and its rotated pieces', () => {
    const want = { pod: 'quay-app-5c7f9d8b6-x2k4q', namespace: 'quay', container: 'quay-app' };
    const dir = '/var/log/pods/quay_quay-app-5c7f9d8b6-x2k4q_0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0/quay-app';
    expect(podOfPath(`${dir}/0.log`)).toEqual(want);
    expect(podOfPath(`${dir}/3.log.20261130-084512`)).toEqual(want);
  });

  it('other paths have no pod', () => {
    expect(podOfPath('/var/log/quay/quay.log')).toBeUndefined();
    // An underscore too many or too few: not kubelet's name.
    expect(podOfPath(`/var/log/containers/quay_app_x_quay-app-${ID}.log`)).toBeUndefined();
    expect(podOfPath(`/var/log/containers/quay-app_quay-app-${ID}.log`)).toBeUndefined();
    // A compressed rotation is not read, so it names no stream.
    expect(podOfPath('/var/log/pods/quay_p_0b1c2d3e-4f50/quay-app/0.log.20261130-084512.gz')).toBeUndefined();
  });
});

describe('podOfPath: the bounds of each name', () => {
  const id12 = 'abcdef012345';
  const label63 = 'a'.repeat(63);
  const sub253 = 'p'.repeat(253);
  // [path, pod or undefined] worked out from the DNS rules kubelet's names follow
  const cases: [string, string | undefined][] = [
    // no directory: the name alone is enough
    [`pod_ns_c-${id12}.log`, 'pod'],
    // container id: 12 to 64 hex digits
    [`/c/pod_ns_c-${'a'.repeat(11)}.log`, undefined],
    [`/c/pod_ns_c-${'a'.repeat(64)}.log`, 'pod'],
    [`/c/pod_ns_c-${'a'.repeat(65)}.log`, undefined],
    [`/c/pod_ns_c-${'g'.repeat(12)}.log`, undefined],
    // pod: a DNS subdomain, up to 253, dots allowed; namespace and container: labels, up to 63, no dots
    [`/c/${sub253}_ns_c-${id12}.log`, sub253],
    [`/c/${sub253}p_ns_c-${id12}.log`, undefined],
    [`/c/a.b_ns_c-${id12}.log`, 'a.b'],
    [`/c/pod_${label63}_c-${id12}.log`, 'pod'],
    [`/c/pod_${label63}a_c-${id12}.log`, undefined],
    [`/c/pod_n.s_c-${id12}.log`, undefined],
    [`/c/pod_ns_${label63}-${id12}.log`, 'pod'],
    [`/c/pod_ns_${label63}a-${id12}.log`, undefined],
    // names start with a letter or digit, lower case only
    [`/c/-pod_ns_c-${id12}.log`, undefined],
    [`/c/Pod_ns_c-${id12}.log`, undefined],
    [`/c/pod_-ns_c-${id12}.log`, undefined],
    [`/c/pod_ns_-c-${id12}.log`, undefined],
    // a name glued to something before it that is not a directory
    [`/c/x.pod_ns_c-${id12}.log.bak`, undefined],
    // /var/log/pods: uid 8 to 64 of hex and dashes, starting with a hex digit; restart a number
    ['ns_pod_0b1c2d3e/c/0.log', 'pod'],
    ['/p/ns_pod_0b1c2d3/c/0.log', undefined],
    [`/p/ns_pod_0${'a'.repeat(63)}/c/0.log`, 'pod'],
    [`/p/ns_pod_0${'a'.repeat(64)}/c/0.log`, undefined],
    ['/p/ns_pod_-b1c2d3e/c/0.log', undefined],
    ['/p/ns_pod_0b1c2d3e/c/x.log', undefined],
    ['/p/ns_pod_0b1c2d3e/c/12.log', 'pod'],
    ['/p/ns_pod_0b1c2d3e/c/0.log.2026113-084512', undefined],
    ['/p/ns_pod_0b1c2d3e/c/0.log.20261130-08451', undefined],
    [`/p/${label63}_pod_0b1c2d3e/c/0.log`, 'pod'],
    [`/p/${label63}a_pod_0b1c2d3e/c/0.log`, undefined],
    [`/p/ns_${sub253}_0b1c2d3e/c/0.log`, sub253],
    [`/p/ns_pod_0b1c2d3e/${label63}a/0.log`, undefined],
    ['/p/Ns_pod_0b1c2d3e/c/0.log', undefined],
  ];
  it.each(cases)('%s', (path, pod) => {
    expect(podOfPath(path)?.pod).toBe(pod);
  });

  it('the three parts of a /var/log/pods path come from their places', () => {
    expect(podOfPath('/var/log/pods/ns-1_pod-1_0b1c2d3e-4f50/ctr-1/2.log')).toEqual({ pod: 'pod-1', namespace: 'ns-1', container: 'ctr-1' });
  });
});

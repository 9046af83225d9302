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

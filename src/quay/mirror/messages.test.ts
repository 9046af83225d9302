/**
 * MirrorMessageReader alone: each repomirrorworker message (texts of workers/repomirrorworker/__init__.py
 * and util/repomirror/skopeomirror.py, tags named beside each) to its kind and the fields it names.
 */
import { describe, expect, it } from 'vitest';
import { PatternLibrary } from '../../grok/index.js';
import { MirrorMessage, MirrorMessageReader } from './messages.js';

function read(message: string) {
  const r = new MirrorMessageReader(PatternLibrary.bundled());
  const kind = r.read(message);
  return { kind, upstream: r.upstream, tag: r.tag, namespace: r.namespace, repository: r.repository, ok: r.ok, error: r.error };
}
const NONE = { upstream: '', tag: '', namespace: '', repository: '', ok: false, error: '' };

describe('MirrorMessageReader', () => {
  it('tag results, plain and org mirror (v3.18.0 __init__.py:476, :1718), successful or not', () => {
    expect(read("Source 'docker://quay.io/prometheus/node-exporter:v1.7.0' failed to sync.")).toEqual({
      ...NONE,
      kind: MirrorMessage.TagResult,
      upstream: 'quay.io/prometheus/node-exporter',
      tag: 'v1.7.0',
    });
    expect(read("Org mirror: Source 'docker://docker.io/library/busybox:1.36' successful sync.")).toEqual({
      ...NONE,
      kind: MirrorMessage.TagResult,
      upstream: 'docker.io/library/busybox',
      tag: '1.36',
      ok: true,
    });
  });

  it('the job line (skopeomirror.py:131) names upstream, tag, namespace and repository', () => {
    expect(read('Creating mirroring job: upstream image docker://quay.io/prometheus/node-exporter:v1.7.0, local repository docker://quay.example.com/mirrors/node-exporter:v1.7.0')).toEqual({
      ...NONE,
      kind: MirrorMessage.Job,
      upstream: 'quay.io/prometheus/node-exporter',
      tag: 'v1.7.0',
      namespace: 'mirrors',
      repository: 'node-exporter',
    });
  });

  it('skopeo: a failed command keeps the whole message; [STDERR] the text after it; [STDOUT] nothing', () => {
    const failed = 'Skopeo command failed (exit code 1): time="2026-11-22T10:15:40Z" level=fatal msg="toomanyrequests"';
    expect(read(failed)).toEqual({ ...NONE, kind: MirrorMessage.SkopeoFailed, error: failed });
    expect(read('Skopeo [STDERR]: time="x" level=fatal msg="unauthorized"')).toEqual({ ...NONE, kind: MirrorMessage.SkopeoStderr, error: 'time="x" level=fatal msg="unauthorized"' });
    expect(read('Skopeo [STDOUT]: Getting image source signatures')).toEqual({ ...NONE, kind: MirrorMessage.SkopeoStdout });
  });

  it('v3.17.0 architecture lines (__init__.py:267, :684, :854) and the v3.18.0 org sync error', () => {
    expect(read("Architecture filter for team/busybox: ['arm64', 'amd64']")).toEqual({ ...NONE, kind: MirrorMessage.ArchRepository, namespace: 'team', repository: 'busybox' });
    expect(read('Pushed sparse manifest list for team/busybox:1.36')).toEqual({ ...NONE, kind: MirrorMessage.ArchRepository, namespace: 'team', repository: 'busybox', tag: '1.36' });
    expect(read("Mirroring 2 architectures for docker://docker.io/library/busybox:1.36: ['arm64', 'amd64']")).toEqual({
      ...NONE,
      kind: MirrorMessage.ArchMirroring,
      upstream: 'docker.io/library/busybox',
      tag: '1.36',
    });
    expect(read('Copying architecture arm64 (sha256:6e9f7aab3e6f4fac6d1f1f5e7f8d9cab1f2e3d4c5b6a79889807b6c5d4e3f2a0)')).toEqual({ ...NONE, kind: MirrorMessage.ArchCopying });
    expect(read('Unexpected error during tag sync for org mirror orgmirror/tool')).toEqual({ ...NONE, kind: MirrorMessage.SyncError, namespace: 'orgmirror', repository: 'tool' });
  });

  it('cancel (plain and org mirror), validation, pre-emption, decryption (plain and org mirror)', () => {
    expect(read('Sync cancelled on repo mirrors/busybox.')).toEqual({ ...NONE, kind: MirrorMessage.Cancelled, namespace: 'mirrors', repository: 'busybox' });
    expect(read('Org mirror sync cancelled on repo org/team/app.')).toEqual({ ...NONE, kind: MirrorMessage.Cancelled, namespace: 'org', repository: 'team/app' });
    expect(read('Repository mirror source validation failed for repository mirrors/evil')).toEqual({ ...NONE, kind: MirrorMessage.SourceInvalid, namespace: 'mirrors', repository: 'evil' });
    expect(read('Another repository mirror worker pre-empted us for repository: 17')).toEqual({ ...NONE, kind: MirrorMessage.Preempted });
    expect(read('Failed to decrypt username or password for mirroring 5')).toEqual({ ...NONE, kind: MirrorMessage.DecryptFailed });
    expect(read('Failed to decrypt credentials for org mirror org/app')).toEqual({ ...NONE, kind: MirrorMessage.DecryptFailed });
  });

  it('apscheduler: the end of a _process_mirrors or _process_org_mirrors run; other jobs are other messages', () => {
    const job = (name: string, end: string) => `Job "${name} (trigger: interval[0:00:30], next run at: 2026-11-22 10:16:00 UTC)" ${end}`;
    expect(read(job('RepoMirrorWorker._process_mirrors', 'executed successfully')).kind).toBe(MirrorMessage.RunEnded);
    expect(read(job('RepoMirrorWorker._process_org_mirrors', 'executed successfully')).kind).toBe(MirrorMessage.RunEnded);
    expect(read(job('RepoMirrorWorker._process_mirrors', 'raised an exception')).kind).toBe(MirrorMessage.RunEnded);
    expect(read(job('RepoMirrorWorker._process_org_mirrors', 'raised an exception')).kind).toBe(MirrorMessage.RunEnded);
    expect(read(job('RepoMirrorWorker._process_org_mirror_discovery', 'executed successfully')).kind).toBe(MirrorMessage.Other);
    expect(read(job('RepoMirrorWorker._process_org_mirror_discovery', 'raised an exception')).kind).toBe(MirrorMessage.Other);
    expect(read('Running job "RepoMirrorWorker._process_mirrors"')).toEqual({ ...NONE, kind: MirrorMessage.Other });
  });

  it('fields left from an earlier message stay until a message sets them (the caller reads only what its kind names)', () => {
    const r = new MirrorMessageReader(PatternLibrary.bundled());
    r.read("Source 'docker://a.io/x/y:1' successful sync.");
    expect(r.read('Sync cancelled on repo n/r.')).toBe(MirrorMessage.Cancelled);
    expect([r.upstream, r.tag, r.namespace, r.repository, r.ok]).toEqual(['a.io/x/y', '1', 'n', 'r', true]);
    expect(r.read("Source 'docker://a.io/x/y:2' failed to sync.")).toBe(MirrorMessage.TagResult);
    expect([r.tag, r.ok]).toEqual(['2', false]);
  });
});

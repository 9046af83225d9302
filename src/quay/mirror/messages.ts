/**
 * Recognises the repomirrorworker messages that carry sync facts, through the
 * QUAY_MIRROR_* / QUAY_SKOPEO_FAILED patterns of patterns/quay-mirror.grok.
 * After read() the public fields describe the message.
 */
import type { PatternLibrary } from '../../grok/index.js';
import { MessagePattern } from '../message-pattern.js';

export const enum MirrorMessage {
  Other,
  Job,
  TagResult,
  SkopeoFailed,
  Cancelled,
  Preempted,
  SourceInvalid,
  DecryptFailed,
  TagUnchanged,
  /** apscheduler: a run of RepoMirrorWorker._process_mirrors ended (executed or raised). */
  RunEnded,
  /** v3.5.1 … v3.16.x: `Skopeo [STDERR]: <text>` (`error` holds the text). */
  SkopeoStderr,
  /** v3.5.1 … v3.16.x: `Skopeo [STDOUT]: <text>`. */
  SkopeoStdout,
  /** v3.17.0+: `Architecture filter for <ns>/<repo>: [...]` / `Pushed sparse manifest list for <ns>/<repo>:<tag>`. */
  ArchRepository,
  /** v3.17.0+: `Mirroring N architectures for docker://<upstream>:<tag>: [...]`. */
  ArchMirroring,
  /** v3.17.0+: `Copying architecture <arch> (<digest>)`. */
  ArchCopying,
  /** v3.18.0+: `Unexpected error during tag sync for org mirror <ns>/<repo>` (a traceback follows). */
  SyncError,
}

export class MirrorMessageReader {
  private readonly job: MessagePattern;
  private readonly tagResult: MessagePattern;
  private readonly skopeo: MessagePattern;
  private readonly cancelled: MessagePattern;
  private readonly preempted: MessagePattern;
  private readonly sourceInvalid: MessagePattern;
  private readonly decrypt: MessagePattern;
  private readonly unchanged: MessagePattern;
  private readonly jobExecuted: MessagePattern;
  private readonly jobRaised: MessagePattern;
  private readonly stderr: MessagePattern;
  private readonly stdout: MessagePattern;
  private readonly archFilter: MessagePattern;
  private readonly archMirroring: MessagePattern;
  private readonly archCopying: MessagePattern;
  private readonly sparsePushed: MessagePattern;
  private readonly syncError: MessagePattern;

  upstream = '';
  tag = '';
  namespace = '';
  repository = '';
  /** TagResult: true for `successful sync`. */
  ok = false;
  /** SkopeoFailed: the whole message (exit code included), else ''. */
  error = '';

  constructor(grok: PatternLibrary) {
    this.job = new MessagePattern(grok, 'QUAY_MIRROR_JOB', ['upstream', 'tag', 'namespace', 'repository']);
    this.tagResult = new MessagePattern(grok, 'QUAY_MIRROR_TAG_RESULT', ['upstream', 'tag', 'outcome']);
    this.skopeo = new MessagePattern(grok, 'QUAY_SKOPEO_FAILED', ['error']);
    this.cancelled = new MessagePattern(grok, 'QUAY_MIRROR_CANCELLED', ['namespace', 'repository'], true);
    this.preempted = new MessagePattern(grok, 'QUAY_MIRROR_PREEMPTED', []);
    this.sourceInvalid = new MessagePattern(grok, 'QUAY_MIRROR_SOURCE_INVALID', ['namespace', 'repository']);
    this.decrypt = new MessagePattern(grok, 'QUAY_MIRROR_DECRYPT_FAILED', []);
    this.unchanged = new MessagePattern(grok, 'QUAY_MIRROR_TAG_UNCHANGED', ['tag']);
    // Defined in patterns/quay-gc.grok: every Quay worker runs its operations through apscheduler.
    this.jobExecuted = new MessagePattern(grok, 'QUAY_APS_JOB_EXECUTED', ['job']);
    this.jobRaised = new MessagePattern(grok, 'QUAY_APS_JOB_ERROR', ['job']);
    this.stderr = new MessagePattern(grok, 'QUAY_SKOPEO_STDERR', ['error']);
    this.stdout = new MessagePattern(grok, 'QUAY_SKOPEO_STDOUT', []);
    this.archFilter = new MessagePattern(grok, 'QUAY_MIRROR_ARCH_FILTER', ['namespace', 'repository']);
    this.archMirroring = new MessagePattern(grok, 'QUAY_MIRROR_ARCH_MIRRORING', ['upstream', 'tag']);
    this.archCopying = new MessagePattern(grok, 'QUAY_MIRROR_ARCH_COPYING', []);
    this.sparsePushed = new MessagePattern(grok, 'QUAY_MIRROR_SPARSE_PUSHED', ['namespace', 'repository', 'tag']);
    this.syncError = new MessagePattern(grok, 'QUAY_MIRROR_ORG_SYNC_ERROR', ['namespace', 'repository']);
  }

  read(message: string): MirrorMessage {
    // Ordered by frequency: tag results and jobs are most of a mirror log.
    if (this.tagResult.match(message)) {
      this.upstream = this.tagResult.get(0);
      this.tag = this.tagResult.get(1);
      this.ok = this.tagResult.get(2).startsWith('successful');
      return MirrorMessage.TagResult;
    }
    if (this.job.match(message)) {
      this.upstream = this.job.get(0);
      this.tag = this.job.get(1);
      this.namespace = this.job.get(2);
      this.repository = this.job.get(3);
      return MirrorMessage.Job;
    }
    if (this.skopeo.match(message)) {
      this.error = message;
      return MirrorMessage.SkopeoFailed;
    }
    if (this.stderr.match(message)) {
      this.error = this.stderr.get(0);
      return MirrorMessage.SkopeoStderr;
    }
    if (this.stdout.match(message)) return MirrorMessage.SkopeoStdout;
    if (this.archCopying.match(message)) return MirrorMessage.ArchCopying;
    if (this.archMirroring.match(message)) {
      this.upstream = this.archMirroring.get(0);
      this.tag = this.archMirroring.get(1);
      return MirrorMessage.ArchMirroring;
    }
    if (this.archFilter.match(message)) {
      this.namespace = this.archFilter.get(0);
      this.repository = this.archFilter.get(1);
      return MirrorMessage.ArchRepository;
    }
    if (this.sparsePushed.match(message)) {
      this.namespace = this.sparsePushed.get(0);
      this.repository = this.sparsePushed.get(1);
      this.tag = this.sparsePushed.get(2);
      return MirrorMessage.ArchRepository;
    }
    if (this.syncError.match(message)) {
      this.namespace = this.syncError.get(0);
      this.repository = this.syncError.get(1);
      return MirrorMessage.SyncError;
    }
    if (this.unchanged.match(message)) {
      this.tag = this.unchanged.get(0);
      return MirrorMessage.TagUnchanged;
    }
    if (this.cancelled.match(message)) {
      this.namespace = this.cancelled.get(0);
      this.repository = this.cancelled.get(1);
      return MirrorMessage.Cancelled;
    }
    if (this.sourceInvalid.match(message)) {
      this.namespace = this.sourceInvalid.get(0);
      this.repository = this.sourceInvalid.get(1);
      return MirrorMessage.SourceInvalid;
    }
    if (this.preempted.match(message)) return MirrorMessage.Preempted;
    if (this.decrypt.match(message)) return MirrorMessage.DecryptFailed;
    if (
      (this.jobExecuted.match(message) && isSyncRun(this.jobExecuted.get(0))) ||
      (this.jobRaised.match(message) && isSyncRun(this.jobRaised.get(0)))
    ) {
      return MirrorMessage.RunEnded;
    }
    return MirrorMessage.Other;
  }
}

/** `RepoMirrorWorker._process_mirrors`, and from v3.17.0 `RepoMirrorWorker._process_org_mirrors`. */
function isSyncRun(job: string): boolean {
  return job.endsWith('process_mirrors') || job.endsWith('process_org_mirrors');
}

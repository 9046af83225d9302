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
      (this.jobExecuted.match(message) && this.jobExecuted.get(0).endsWith('process_mirrors')) ||
      (this.jobRaised.match(message) && this.jobRaised.get(0).endsWith('process_mirrors'))
    ) {
      return MirrorMessage.RunEnded;
    }
    return MirrorMessage.Other;
  }
}

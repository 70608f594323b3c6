import type { ErrorKind, JobState } from '../db.js';

/*
 * What a rider reads when an analysis fails: plain words saying what happened and what happens next. The pose
 * workers classify a failure (`errorKind`, docs/contracts.md) and keep the technical cause in `errorDetail`; the
 * sentence is chosen here, so its wording lives in one place and never carries a status code or a stack.
 */

/** While the job is queued again after a failure caused by the video (a worker will try once more). */
const RETRYING: Record<ErrorKind, string> = {
  undecodable: 'Part of this file could not be read; it will be tried once more automatically.',
  unsupported: 'This video uses a format the analysis could not handle; it will be tried once more automatically.',
  no_frames: 'No frames could be read from this video; it will be tried once more automatically.',
  ingest_failed: 'Preparing this video for playback failed; it will be tried once more automatically.',
  internal: 'The analysis stopped on our side; your video will continue automatically.',
  cancelled: 'The analysis was cancelled.',
};

/** Once the job has failed for good: what happened and what the rider can do (the Retry button keeps the upload). */
const FINAL: Record<ErrorKind, string> = {
  undecodable: 'This file is damaged or is not a video we can read. Export it again from your phone or camera and upload it once more.',
  unsupported: 'This video uses a format the analysis cannot handle. Export it as H.264 (MP4) and upload it again.',
  no_frames: 'No frames could be read from this video. Check that the clip plays, then upload it again.',
  ingest_failed: 'Preparing this video for playback failed. Try again, or export the clip again and upload it once more.',
  internal: 'The analysis failed on our side. Please try again.',
  cancelled: 'The analysis was cancelled.',
};

const KINDS = new Set<string>(Object.keys(FINAL));

export function isErrorKind(v: unknown): v is ErrorKind {
  return typeof v === 'string' && KINDS.has(v);
}

/**
 * The rider's sentence for a job: the stored `error` when an older API or reconciliation wrote one, else the words
 * for its errorKind (final once failed, "will be tried again" while it waits), else null.
 */
export function riderError(job: { state: JobState; error?: string | null; errorKind?: string | null }): string | null {
  if (job.error) return job.error;
  if (!isErrorKind(job.errorKind) || job.state === 'done') return null;
  return (job.state === 'failed' ? FINAL : RETRYING)[job.errorKind];
}

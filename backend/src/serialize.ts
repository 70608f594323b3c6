import type { JobDoc, VideoDoc, VideoProbe } from './db.js';
import { emptySnapshot, queueFields, type QueueSnapshot } from './jobs/queueView.js';
import { riderError } from './jobs/riderErrors.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The contract's Job; the queue fields (position, ETA, waiting, running segments) come from `queue`. */
export function toJob(job: JobDoc, queue: QueueSnapshot = emptySnapshot()) {
  const q = queueFields(job, queue);
  return {
    id: job._id.toHexString(),
    videoId: job.videoId.toHexString(),
    state: job.state,
    stage: job.state === 'done' || job.state === 'failed' ? null : (job.stage ?? null),
    progress: job.progress,
    framesDone: job.framesDone ?? 0,
    framesTotal: job.framesTotal ?? null,
    segments: q.segments,
    waiting: q.waiting,
    queuePosition: q.queuePosition,
    etaS: q.etaS,
    /** Analysed frames are readable (GET …/pose) before the job is done: a segment stores its block every 25 frames. */
    partial: job.state !== 'done' && (job.framesDone ?? 0) > 0,
    attempts: job.attempts,
    error: riderError(job),
    errorDetail: job.errorDetail ?? null,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

export interface VideoOwner {
  id: string;
  username: string;
}

/** The contract's Video; its status is the job's state when the job is at hand. `owner` is null only for a video with none. */
export function toVideo(video: VideoDoc, job: JobDoc | null, owner: VideoOwner | null = null, queue?: QueueSnapshot) {
  return {
    id: video._id.toHexString(),
    owner,
    title: video.title,
    role: video.role,
    originalName: video.originalName,
    size: video.size,
    sha256: video.sha256,
    container: video.container,
    createdAt: iso(video.createdAt),
    status: job?.state ?? video.status,
    job: job ? toJob(job, queue) : null,
    fps: video.fps,
    durationS: video.durationS,
    // Display size: what the viewer sees once rotation is applied (the pose keypoints use the same frame).
    width: video.width ?? video.probe?.displayWidth ?? null,
    height: video.height ?? video.probe?.displayHeight ?? null,
    probe: video.probe ? toProbeSummary(video.probe) : null,
    posterUrl: video.poster ? `/api/videos/${video._id.toHexString()}/poster` : null,
    spriteUrl: video.sprite ? `/api/videos/${video._id.toHexString()}/sprite` : null,
    /** How to cut the sprite into scrub previews: tile i (left to right) shows the frame at times[i]. */
    spriteLayout: video.sprite?.layout ?? null,
    /** True once /stream serves the browser-safe H.264 rendition rather than the original. */
    renditionReady: Boolean(video.rendition),
    timing: video.timing ?? null,
  };
}

/** The useful part of the probe for a viewer (the analysis view's details). */
export function toProbeSummary(p: VideoProbe) {
  return {
    codec: p.codec,
    profile: p.profile,
    width: p.displayWidth,
    height: p.displayHeight,
    fps: p.fps,
    frameRateMode: p.frameRateMode,
    durationS: p.durationS,
    rotation: p.rotation,
    mirrored: p.mirrored,
    frameCount: p.frameCount,
    source: p.source,
  };
}

import type { JobDoc, VideoDoc } from './db.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** The contract's Job. */
export function toJob(job: JobDoc) {
  return {
    id: job._id.toHexString(),
    videoId: job.videoId.toHexString(),
    state: job.state,
    progress: job.progress,
    attempts: job.attempts,
    error: job.error,
    errorDetail: job.errorDetail ?? null,
    createdAt: iso(job.createdAt),
    updatedAt: iso(job.updatedAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

/** The contract's Video; its status is the job's state when the job is at hand. */
export function toVideo(video: VideoDoc, job: JobDoc | null) {
  return {
    id: video._id.toHexString(),
    title: video.title,
    role: video.role,
    originalName: video.originalName,
    size: video.size,
    sha256: video.sha256,
    container: video.container,
    createdAt: iso(video.createdAt),
    status: job?.state ?? video.status,
    job: job ? toJob(job) : null,
    fps: video.fps,
    durationS: video.durationS,
    width: video.width,
    height: video.height,
  };
}

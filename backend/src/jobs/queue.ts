import { ObjectId } from 'mongodb';
import type { Collections, JobDoc, TaskDoc, TaskKind } from '../db.js';

/*
 * The API's side of the work queue (docs/contracts.md, issue 14): it creates a job with its ingest task, cancels a
 * video's tasks, and retries a failed job. Pose workers claim the tasks and own every other transition.
 */

/**
 * A new queued task (docs/contracts.md "tasks"); every task the API creates has this shape. `jobId` is the job it
 * works for (an export's own id for kind `export`); `priority` orders the claim, first come, first served.
 */
export function queuedTask(kind: TaskKind, owner: { jobId: ObjectId; videoId: ObjectId }, priority: Date, now = new Date()): TaskDoc {
  return {
    _id: new ObjectId(),
    jobId: owner.jobId,
    videoId: owner.videoId,
    kind,
    seq: 0,
    state: 'queued',
    priority,
    attempts: 0,
    lost: 0,
    runAfter: now,
    workerId: null,
    leaseUntil: null,
    heartbeatAt: null,
    errorKind: null,
    errorDetail: null,
    result: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  };
}

/** A queued ingest task for a job; priority is the job's createdAt, so jobs are served first come, first served. */
export function ingestTask(job: Pick<JobDoc, '_id' | 'videoId' | 'createdAt'>, now = new Date()): TaskDoc {
  return queuedTask('ingest', { jobId: job._id, videoId: job.videoId }, job.createdAt, now);
}

/** The fields of a job waiting for its ingest (a new one, or a failed one being retried). */
export function freshJobFields(now: Date) {
  return {
    state: 'queued' as const,
    stage: 'ingest' as const,
    progress: 0,
    framesTotal: null,
    framesDone: 0,
    segmentsTotal: null,
    segmentsDone: 0,
    attempts: 0,
    errorKind: null,
    error: null,
    errorDetail: null,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
  };
}

/** Inserts a new queued job and then its ingest task (in that order: a worker never sees a task without its job). */
export async function createJob(c: Collections, videoId: ObjectId, jobId: ObjectId, now = new Date()): Promise<void> {
  const job: JobDoc = { _id: jobId, videoId, createdAt: now, ...freshJobFields(now) };
  await c.jobs.insertOne(job);
  await c.tasks.insertOne(ingestTask(job, now));
}

/**
 * Deletes every task of a video: a worker's next heartbeat (every 0.5 s) matches nothing, so it stops within a
 * second and writes nothing more.
 */
export async function cancelTasks(c: Collections, videoId: ObjectId): Promise<number> {
  return (await c.tasks.deleteMany({ videoId })).deletedCount;
}

/**
 * Puts a failed job back in the queue: attempts reset, the failed run's tasks and partial results removed, a new
 * ingest task. The upload (the original in GridFS) is kept. Returns false when the job is not failed (only the
 * request that flips it runs the rest).
 */
export async function retryJob(c: Collections, jobId: ObjectId): Promise<boolean> {
  const now = new Date();
  const job = await c.jobs.findOneAndUpdate({ _id: jobId, state: 'failed' }, { $set: freshJobFields(now) }, { returnDocument: 'after' });
  if (!job) return false;
  await c.tasks.deleteMany({ jobId });
  await Promise.all([
    c.frames.deleteMany({ videoId: job.videoId }),
    c.metrics.deleteOne({ _id: job.videoId }),
    c.metricSeries.deleteMany({ videoId: job.videoId }),
  ]);
  await c.tasks.insertOne(ingestTask(job, now));
  await c.videos.updateOne({ _id: job.videoId }, { $set: { status: 'queued', riderTrackId: null } });
  return true;
}

/**
 * Jobs from before the work queue (queued or running, no task of any kind) get an ingest task, and their old
 * worker fields are reset; also repairs a job whose API stopped between inserting it and its task. Only jobs
 * older than `olderThanMs` are touched, so a job being created right now is left alone. Returns the job ids.
 */
export async function enqueueOrphanJobs(c: Collections, olderThanMs: number): Promise<string[]> {
  const before = new Date(Date.now() - olderThanMs);
  const candidates = await c.jobs
    .find({ state: { $in: ['queued', 'running'] }, createdAt: { $lte: before } }, { projection: { _id: 1, videoId: 1, createdAt: 1, progress: 1 } })
    .toArray();
  const done: string[] = [];
  for (const job of candidates) {
    if (await c.tasks.findOne({ jobId: job._id }, { projection: { _id: 1 } })) continue;
    if (!(await c.videos.findOne({ _id: job.videoId, originalFileId: { $ne: null } }, { projection: { _id: 1 } }))) continue;
    const now = new Date();
    const res = await c.jobs.updateOne(
      { _id: job._id, state: { $in: ['queued', 'running'] } },
      { $set: { ...freshJobFields(now), progress: 0 }, $unset: { runAfter: '', heartbeatAt: '', workerId: '' } },
    );
    if (res.matchedCount === 0) continue;
    await c.tasks.insertOne(ingestTask(job, now));
    await c.videos.updateOne({ _id: job.videoId }, { $set: { status: 'queued' } });
    done.push(job._id.toHexString());
  }
  return done;
}

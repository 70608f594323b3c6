import { Readable } from 'node:stream';
import { ObjectId } from 'mongodb';
import type { Collections, PoseFrame } from '../../src/db.js';
import { rotationSortKey } from '../../src/jobs/metrics.js';
import type { MediaStore } from '../../src/media/store.js';

/*
 * Documents written the way a pose worker writes them (docs/contracts.md, "the work queue"), for tests of the API's
 * side where a real worker would make the timing uncontrollable (a queue position, a delete in the middle of a
 * segment, a progress sequence). This is test DATA in the real database, not a double of anything the API calls;
 * the whole flow with the real worker is in pose-worker-flow.test.ts.
 */

export const COCO17 = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
];

export function frameFor(index: number, fps: number): PoseFrame {
  const keypoints = COCO17.map((name, k) => ({ name, x: 100 + k + index, y: 200 + k, score: 0.9 }));
  return { index, t: index / fps, persons: [{ track_id: 1, score: 0.9, bbox: [0, 0, 10, 10], keypoints }] };
}

/** A worker's presence document; live for 10 s after `heartbeatAt`. */
export async function registerWorker(c: Collections, id: string, framesPerSecond: number | null, heartbeatAt = new Date()): Promise<void> {
  await c.workers.replaceOne({ _id: id }, { hostname: 'test', pid: 1, backend: 'mediapipe', device: 'cpu', startedAt: heartbeatAt, heartbeatAt, taskId: null, framesPerSecond }, { upsert: true });
}

/** Claims the job's ingest task, writes rendition/poster/sprite into GridFS, and plans `segments` segment tasks. */
export async function ingest(c: Collections, media: MediaStore, jobId: ObjectId, framesTotal: number, segments: number): Promise<void> {
  const job = (await c.jobs.findOne({ _id: jobId }))!;
  const now = new Date();
  await c.tasks.updateOne({ jobId, kind: 'ingest', state: 'queued' }, { $set: { state: 'running', workerId: 'w-test', leaseUntil: new Date(Date.now() + 10_000), heartbeatAt: now } });
  await c.jobs.updateOne({ _id: jobId }, { $set: { state: 'running', startedAt: now, updatedAt: now } });
  await c.videos.updateOne({ _id: job.videoId }, { $set: { status: 'running' } });
  const files: Record<string, ObjectId> = {};
  for (const [kind, type, bytes] of [
    ['rendition', 'video/mp4', Buffer.alloc(300_000, 1)],
    ['poster', 'image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])],
    ['sprite', 'image/jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 4, 5, 6, 7])],
  ] as const) {
    files[kind] = (await media.put(Readable.from([bytes]), `${kind}.bin`, { videoId: job.videoId, kind, contentType: type })).fileId;
  }
  await c.videos.updateOne(
    { _id: job.videoId },
    {
      $set: {
        rendition: { fileId: files.rendition!, width: 640, height: 480, size: 300_000, codec: 'h264' },
        poster: { fileId: files.poster!, width: 640, height: 480, size: 7 },
        sprite: { fileId: files.sprite!, width: 800, height: 60, size: 8, layout: { columns: 10, rows: 1, tileWidth: 80, tileHeight: 60, times: [0] } },
      },
    },
  );
  const length = Math.ceil(framesTotal / segments);
  for (let i = 0; i < segments; i++) {
    await c.tasks.insertOne({
      _id: new ObjectId(), jobId, videoId: job.videoId, kind: 'segment', seq: i + 1, state: 'queued', priority: job.createdAt,
      frameStart: i * length, frameEnd: Math.min((i + 1) * length, framesTotal), attempts: 0, lost: 0, runAfter: now,
      workerId: null, leaseUntil: null, heartbeatAt: null, errorKind: null, errorDetail: null, result: null, createdAt: now, updatedAt: now, finishedAt: null,
    });
  }
  await c.tasks.updateOne({ jobId, kind: 'ingest' }, { $set: { state: 'done', finishedAt: new Date() } });
  await c.jobs.updateOne({ _id: jobId }, { $set: { stage: 'analysis', framesTotal, segmentsTotal: segments, framesDone: 0, segmentsDone: 0, updatedAt: new Date() } });
}

/** Marks segment `seq` running (a worker claimed it). */
export async function claimSegment(c: Collections, jobId: ObjectId, seq: number): Promise<void> {
  await c.tasks.updateOne({ jobId, kind: 'segment', seq }, { $set: { state: 'running', workerId: 'w-test', leaseUntil: new Date(Date.now() + 10_000), heartbeatAt: new Date() } });
}

/** Writes segment `seq`'s pose frame chunks (100 frames each, 30 fps) and counts it done on the job. */
export async function finishSegment(c: Collections, jobId: ObjectId, seq: number): Promise<void> {
  const task = (await c.tasks.findOne({ jobId, kind: 'segment', seq }))!;
  const fps = 30;
  for (let start = task.frameStart!; start < task.frameEnd!; start += 100) {
    const frames = Array.from({ length: Math.min(100, task.frameEnd! - start) }, (_, i) => frameFor(start + i, fps));
    const chunk = Math.floor(start / 100);
    await c.frames.replaceOne({ videoId: task.videoId, chunk }, { videoId: task.videoId, chunk, tStart: frames[0]!.t, tEnd: frames.at(-1)!.t, frames }, { upsert: true });
  }
  await c.tasks.updateOne({ _id: task._id }, { $set: { state: 'done', finishedAt: new Date() } });
  const job = (await c.jobs.findOneAndUpdate(
    { _id: jobId },
    { $inc: { framesDone: task.frameEnd! - task.frameStart!, segmentsDone: 1 }, $set: { updatedAt: new Date() } },
    { returnDocument: 'after' },
  ))!;
  await c.jobs.updateOne({ _id: jobId }, { $max: { progress: (job.framesDone ?? 0) / job.framesTotal! } });
}

/**
 * The summary fields every finish writes (docs/schemas/summary.schema.json), for tests that care about a few: the
 * API serves metrics only when they conform, so `finishJob` completes a partial summary with these.
 */
export const EMPTY_SUMMARY = {
  max_rotation_deg: null, rotation_direction: null, airtime_s: null, airborne_segments: [], stance: null, min_knee_angle_deg: null,
  frames_analysed: 0, frames_with_rider: 0, frames_seen: { torso: 0, legs: 0, feet: 0 }, joint_score_min: 0.5, unavailable: {},
};

/** The finish task: split metrics (1,000 frames per chunk), riderTrackId, job done. */
export async function finishJob(c: Collections, jobId: ObjectId, metrics: { series: Record<string, unknown>; summary: unknown }): Promise<void> {
  const job = (await c.jobs.findOne({ _id: jobId }))!;
  const { t, smoothed, ...rest } = metrics.series as { t: number[]; smoothed: Record<string, unknown[]> } & Record<string, unknown[]>;
  const keys = Object.keys(rest);
  const count = Math.ceil(t.length / 1000);
  for (let i = 0; i < count; i++) {
    const cut = <T>(a: T[]) => a.slice(i * 1000, (i + 1) * 1000);
    await c.metricSeries.replaceOne(
      { videoId: job.videoId, chunk: i },
      { videoId: job.videoId, chunk: i, t: cut(t), series: Object.fromEntries(keys.map((k) => [k, cut(rest[k]!)])), smoothed: Object.fromEntries(keys.map((k) => [k, cut(smoothed[k]!)])) },
      { upsert: true },
    );
  }
  const summary = { ...EMPTY_SUMMARY, ...(metrics.summary as object) };
  await c.metrics.replaceOne({ _id: job.videoId }, { summary, seriesKeys: keys, frames: t.length, seriesChunks: count }, { upsert: true });
  await c.videos.updateOne({ _id: job.videoId }, { $set: { riderTrackId: 1, status: 'done', maxRotationDeg: rotationSortKey(summary) } });
  await c.jobs.updateOne({ _id: jobId }, { $set: { state: 'done', stage: null, progress: 1, finishedAt: new Date(), updatedAt: new Date() } });
}

/** A worker failing the job for good with `errorKind`. */
export async function failJob(c: Collections, jobId: ObjectId, errorKind: string, errorDetail: string): Promise<void> {
  const job = (await c.jobs.findOne({ _id: jobId }))!;
  await c.tasks.updateMany({ jobId, state: { $in: ['queued', 'running'] } }, { $set: { state: 'failed', errorKind: errorKind as never } });
  await c.jobs.updateOne({ _id: jobId }, { $set: { state: 'failed', errorKind: errorKind as never, errorDetail, attempts: 3, finishedAt: new Date(), updatedAt: new Date() } });
  await c.videos.updateOne({ _id: job.videoId }, { $set: { status: 'failed' } });
}

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { ObjectId, type Filter } from 'mongodb';
import type { AppDeps } from '../app.js';
import type { Container, JobDoc, JobState, Role, VideoDoc } from '../db.js';
import { HttpError, notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { intInRange, nonNegativeSeconds, oneOf, readQuery } from '../query.js';
import { toVideo } from '../serialize.js';
import { commitUpload, receiveUpload, removeQuietly } from '../upload/receive.js';

const ROLES: readonly Role[] = ['rider', 'reference'];
const STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];
const MIME: Record<Container, string> = { mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm' };

/**
 * After a rejected upload the client may still be sending. The response says `Connection: close`; Node
 * discards (never buffers) what still arrives, and a client that keeps streaming is cut off shortly after.
 */
function stopReadingAfterResponse(req: Request, res: Response) {
  res.once('finish', () => {
    if (!req.complete) setTimeout(() => req.socket.destroy(), 2_000).unref();
  });
}

/** A single `bytes=` range resolved against the file size: a range, 'unsatisfiable', or null (serve the whole file). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // malformed or multiple ranges: RFC 9110 lets us ignore Range and send 200
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return null; // e.g. bytes=5-2: invalid, so ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) };
}

/** TEST ONLY: says the upload sits between its rename and its insert, then never returns (the test kills the process). */
function pauseForCrashTest(log: AppDeps['log'], finalPath: string): Promise<never> {
  log(`TEST_ONLY_PAUSE_AFTER_UPLOAD_RENAME: paused after renaming ${path.basename(finalPath)}, before the insert`);
  return new Promise<never>(() => undefined);
}

export function videosRouter(deps: AppDeps): Router {
  const router = Router();
  const { collections: c } = deps.db;
  const filePathOf = (video: VideoDoc) => path.join(deps.config.uploadDir, video.storedName);

  async function loadVideo(rawId: unknown): Promise<VideoDoc> {
    const id = parseId(rawId, 'video');
    const video = await c.videos.findOne({ _id: id });
    if (!video) throw notFound('video');
    return video;
  }

  async function requireDone(video: VideoDoc): Promise<JobDoc> {
    const job = await c.jobs.findOne({ _id: video.jobId });
    if (!job || job.state !== 'done') {
      throw new HttpError(409, 'not_ready', `analysis is ${job?.state ?? 'missing'}; results exist once the job is done`);
    }
    return job;
  }

  router.post('/', async (req, res) => {
    let upload;
    try {
      upload = await receiveUpload(req, { uploadDir: deps.config.uploadDir, maxBytes: deps.config.maxUploadBytes });
    } catch (err) {
      stopReadingAfterResponse(req, res);
      throw err;
    }
    const videoId = new ObjectId();
    const jobId = new ObjectId();
    const storedName = `${videoId.toHexString()}.${upload.container}`;
    const finalPath = path.join(deps.config.uploadDir, storedName);
    const now = new Date();
    try {
      await commitUpload(upload.tempPath, finalPath);
      if (deps.config.testPauseAfterUploadRename) await pauseForCrashTest(deps.log, finalPath);
      await c.videos.insertOne({
        _id: videoId,
        title: upload.title,
        role: upload.role,
        originalName: upload.originalName,
        storedName,
        size: upload.size,
        sha256: upload.sha256,
        container: upload.container,
        createdAt: now,
        status: 'queued',
        jobId,
        fps: null,
        durationS: null,
        width: null,
        height: null,
        frameCount: null,
        riderTrackId: null,
      });
      await c.jobs.insertOne({
        _id: jobId,
        videoId,
        state: 'queued',
        progress: 0,
        attempts: 0,
        error: null,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        finishedAt: null,
        runAfter: now,
        heartbeatAt: null,
        workerId: null,
      });
    } catch (err) {
      await Promise.all([
        removeQuietly(upload.tempPath),
        removeQuietly(finalPath),
        c.videos.deleteOne({ _id: videoId }).catch(() => undefined),
      ]);
      throw err;
    }
    deps.events.enqueued();
    res
      .status(202)
      .location(`/api/videos/${videoId.toHexString()}`)
      .json({ videoId: videoId.toHexString(), jobId: jobId.toHexString() });
  });

  router.get('/', async (req, res) => {
    const q = readQuery(req.query, ['page', 'limit', 'role', 'status'] as const);
    const page = intInRange('page', q.page, 1, 1, 1_000_000);
    const limit = intInRange('limit', q.limit, 20, 1, 100);
    const filter: Filter<VideoDoc> = {};
    const role = oneOf('role', q.role, ROLES);
    const status = oneOf('status', q.status, STATES);
    if (role) filter.role = role;
    if (status) filter.status = status;
    const [videos, total] = await Promise.all([
      c.videos.find(filter).sort({ createdAt: -1, _id: -1 }).skip((page - 1) * limit).limit(limit).toArray(),
      c.videos.countDocuments(filter),
    ]);
    const jobs = videos.length ? await c.jobs.find({ _id: { $in: videos.map((v) => v.jobId) } }).toArray() : [];
    const jobById = new Map(jobs.map((j) => [j._id.toHexString(), j]));
    res.json({ items: videos.map((v) => toVideo(v, jobById.get(v.jobId.toHexString()) ?? null)), page, limit, total });
  });

  router.get('/:id', async (req, res) => {
    const video = await loadVideo(req.params.id);
    const job = await c.jobs.findOne({ _id: video.jobId });
    res.json(toVideo(video, job));
  });

  router.get('/:id/stream', async (req, res) => {
    const video = await loadVideo(req.params.id);
    const file = filePathOf(video);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new HttpError(404, 'not_found', 'the video file is missing (deleted?)');
    }
    const etag = `"${video.sha256}"`;
    res.set({ 'Accept-Ranges': 'bytes', 'Content-Type': MIME[video.container], ETag: etag, 'Cache-Control': 'private, max-age=0' });
    const ifRange = req.headers['if-range'];
    const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.removeHeader('Content-Type');
      throw new HttpError(416, 'range_not_satisfiable', `the file is ${size} bytes long`, { 'Content-Range': `bytes */${size}` });
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range) res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
    res.set('Content-Length', String(size === 0 ? 0 : end - start + 1));
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(file, { start, end }), res);
    } catch {
      // Client went away mid-stream (or the file vanished): nothing left to answer.
      res.destroy();
    }
  });

  router.get('/:id/pose', async (req, res) => {
    const q = readQuery(req.query, ['from', 'to'] as const);
    const from = nonNegativeSeconds('from', q.from) ?? 0;
    const to = nonNegativeSeconds('to', q.to) ?? Number.MAX_VALUE;
    if (from > to) throw new HttpError(400, 'invalid_query', '`from` must not be after `to`');
    const video = await loadVideo(req.params.id);
    await requireDone(video);
    const chunks = await c.frames
      .find({ videoId: video._id, tStart: { $lte: to }, tEnd: { $gte: from } })
      .sort({ chunk: 1 })
      .toArray();
    const frames = chunks.flatMap((chunk) => chunk.frames.filter((f) => f.t >= from && f.t <= to));
    res.json({
      videoId: video._id.toHexString(),
      fps: video.fps,
      width: video.width,
      height: video.height,
      riderTrackId: video.riderTrackId,
      frames,
    });
  });

  router.get('/:id/metrics', async (req, res) => {
    const video = await loadVideo(req.params.id);
    await requireDone(video);
    const doc = await c.metrics.findOne({ _id: video._id });
    if (!doc) throw new HttpError(409, 'not_ready', 'the metrics are not stored yet');
    res.json(doc.metrics);
  });

  router.delete('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'video');
    // Only the request that actually removes the document cleans up; concurrent deletes get 404.
    const video = await c.videos.findOneAndDelete({ _id: id });
    if (!video) throw notFound('video');
    await c.jobs.deleteMany({ videoId: id });
    await Promise.all([c.frames.deleteMany({ videoId: id }), c.metrics.deleteOne({ _id: id }), removeQuietly(filePathOf(video))]);
    deps.events.changed(video.jobId.toHexString());
    res.status(204).end();
  });

  return router;
}

import express, { Router, type Request, type Response } from 'express';
import type { Filter } from 'mongodb';
import type { AppDeps } from '../deps.js';
import type { DerivedFile, JobDoc, JobState, Role, VideoDoc } from '../db.js';
import { HttpError, notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { intInRange, nonNegativeSeconds, oneOf, readQuery } from '../query.js';
import { readContractQuery } from '../queryContract.js';
import { toVideo } from '../serialize.js';
import { FreshSingleFlight } from '../coalesce.js';
import { admitUpload } from '../upload/intake.js';
import { libraryFilter, loadVideoFor, ownersOf, visibilityKey } from '../auth/access.js';
import { userOf } from '../auth/gate.js';
import { authCollections } from '../auth/store.js';
import { drawingsCollection } from './drawings.js';
import { receiveUpload } from '../upload/receive.js';
import { cancelTasks, retryJob } from '../jobs/queue.js';
import { readMetrics, readMetricsSummary } from '../jobs/metrics.js';
import { servedConforms } from '../contracts.js';
import { exportsCollection } from './exports.js';
import { contentDisposition, MIME, parseRange, sendStored } from '../media/http.js';

// Kept importable from here (tests and older callers): they live with the media code now.
export { contentDisposition, parseRange };

const ROLES: readonly Role[] = ['rider', 'reference'];
const STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];
/**
 * Library orders. Max rotation is not one of them: it lives in the separate `metrics` summary, so sorting on it
 * needs a join per page that the list's indexes cannot serve; date and duration are fields of the video itself.
 */
const SORTS = {
  date: { createdAt: -1, _id: -1 },
  duration: { durationS: -1, createdAt: -1, _id: -1 },
  // The biggest spin first; videos without a measured rotation (none yet, or unavailable) come last.
  rotation: { maxRotationDeg: -1, createdAt: -1, _id: -1 },
} as const;
type Sort = keyof typeof SORTS;
const TITLE_MAX = 120;
const parseJson = express.json({ limit: '4kb', type: () => true });

/** A search string as a literal, case-insensitive substring pattern (no regex operator of the user's reaches MongoDB). */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A rename's title: a string, 1–120 characters once trimmed (400 `invalid_title` otherwise). */
function readTitle(body: unknown): string {
  const raw = body && typeof body === 'object' ? (body as Record<string, unknown>).title : undefined;
  if (typeof raw !== 'string') throw new HttpError(400, 'invalid_title', 'send {"title": "..."} with the new title as a string');
  const title = raw.trim();
  if (title.length < 1 || title.length > TITLE_MAX) {
    throw new HttpError(400, 'invalid_title', `the title must be 1 to ${TITLE_MAX} characters (not counting spaces at either end)`);
  }
  return title;
}

/**
 * After a rejected upload the client may still be sending. The response says `Connection: close`; Node
 * discards (never buffers) what still arrives, and a client that keeps streaming is cut off shortly after.
 */
function stopReadingAfterResponse(req: Request, res: Response) {
  res.once('finish', () => {
    if (!req.complete) setTimeout(() => req.socket.destroy(), 2_000).unref();
  });
}

/**
 * How a route finds its video: by `:id`, scoped to the signed-in user (the default), or by share token (the public
 * /api/shared router mounts this router's read routes with its own resolver, so both serve media one way).
 */
export type VideoResolver = (req: Request, opts?: { write?: boolean }) => Promise<VideoDoc>;

export function videosRouter(deps: AppDeps, resolveVideo?: VideoResolver): Router {
  const router = Router();
  const { collections: c } = deps.db;
  const { users, shares } = authCollections(deps.db.db);
  const listReads = new FreshSingleFlight<string>();

  /** The video of `req.params.id` if the signed-in user may see it (404 otherwise; see auth/access.ts). */
  const loadVideo: VideoResolver = resolveVideo ?? ((req, opts) => loadVideoFor(c.videos, userOf(req), req.params.id, opts));

  /** The original's GridFS id; a video from before GridFS that the start-up migration could not move has none. */
  function originalOf(video: VideoDoc) {
    if (!video.originalFileId) throw new HttpError(404, 'not_found', 'the video file is missing from the media store');
    return video.originalFileId;
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
    const admitted = await admitUpload(deps, { ...upload, ownerId: userOf(req).id });
    res.status(202).location(`/api/videos/${admitted.videoId}`).json(admitted);
  });

  router.get('/', async (req, res) => {
    const q = readQuery(req.query, ['page', 'limit', 'role', 'status', 'owner', 'q', 'sort'] as const);
    const page = intInRange('page', q.page, 1, 1, 1_000_000);
    const limit = intInRange('limit', q.limit, 20, 1, 100);
    const role = oneOf('role', q.role, ROLES);
    const status = oneOf('status', q.status, STATES);
    const sort: Sort = oneOf('sort', q.sort, Object.keys(SORTS) as Sort[]) ?? 'date';
    const search = (q.q ?? '').trim();
    if (search.length > TITLE_MAX) throw new HttpError(400, 'invalid_query', `\`q\` must be at most ${TITLE_MAX} characters`);
    const user = userOf(req);
    const scope = await libraryFilter(users, user, q.owner);
    if (scope === null) {
      res.json({ items: [], page, limit, total: 0 });
      return;
    }
    const filter: Filter<VideoDoc> = { ...scope };
    if (role) filter.role = role;
    if (status) filter.status = status;
    // A video without a title is found by the name it was uploaded with, as the library shows it.
    if (search) {
      const pattern = { $regex: escapeRegex(search), $options: 'i' };
      filter.$or = [{ title: pattern }, { title: null, originalName: pattern }];
    }
    // Everyone polling the same page with the same view shares one read and one serialisation (see coalesce.ts).
    const key = `${visibilityKey(user)}|${JSON.stringify(scope)}|${page}|${limit}|${role ?? ''}|${status ?? ''}|${sort}|${search}`;
    const body = await listReads.run(key, async () => {
      const [videos, total] = await Promise.all([
        c.videos.find(filter).sort({ ...SORTS[sort] }).skip((page - 1) * limit).limit(limit).toArray(),
        c.videos.countDocuments(filter),
      ]);
      const jobs = videos.length ? await c.jobs.find({ _id: { $in: videos.map((v) => v.jobId) } }).toArray() : [];
      const jobById = new Map(jobs.map((j) => [j._id.toHexString(), j]));
      const owners = await ownersOf(users, videos);
      const ownerOf = (v: VideoDoc) => (v.ownerId ? (owners.get(v.ownerId.toHexString()) ?? null) : null);
      const queue = await deps.queue.snapshot();
      return JSON.stringify({ items: videos.map((v) => toVideo(v, jobById.get(v.jobId.toHexString()) ?? null, ownerOf(v), queue)), page, limit, total });
    });
    res.type('application/json').send(body);
  });

  router.get('/:id', async (req, res) => {
    const video = await loadVideo(req);
    const job = await c.jobs.findOne({ _id: video.jobId });
    const owners = await ownersOf(users, [video]);
    const queue = await deps.queue.snapshot();
    res.json(toVideo(video, job, video.ownerId ? (owners.get(video.ownerId.toHexString()) ?? null) : null, queue));
  });

  // The browser-safe rendition once the ingest task made it; the original before that. Both from GridFS.
  router.get('/:id/stream', async (req, res) => {
    const video = await loadVideo(req);
    const rendition = video.rendition?.fileId;
    if (rendition) {
      await sendStored(req, res, deps.media, rendition, { headers: { 'Content-Type': 'video/mp4' }, etag: `"r-${rendition.toHexString()}"` });
      return;
    }
    await sendStored(req, res, deps.media, originalOf(video), { headers: { 'Content-Type': MIME[video.container] }, etag: `"${video.sha256}"` });
  });

  // The uploaded file, byte for byte, as a download under the name it was uploaded with.
  router.get('/:id/original', async (req, res) => {
    const video = await loadVideo(req);
    const name = video.originalName || `${video._id.toHexString()}.${video.container}`;
    await sendStored(req, res, deps.media, originalOf(video), {
      headers: { 'Content-Type': MIME[video.container], 'Content-Disposition': contentDisposition(name) },
      etag: `"${video.sha256}"`,
    });
  });

  for (const kind of ['poster', 'sprite'] as const) {
    router.get(`/:id/${kind}`, async (req, res) => {
      const video = await loadVideo(req);
      const file = (video[kind] as DerivedFile | null | undefined)?.fileId;
      if (!file) throw new HttpError(404, 'not_found', `the ${kind} is not made yet (it comes with the video's ingest)`);
      // Made once per video (a new file gets a new id): cacheable, revalidated by ETag if the browser asks again.
      await sendStored(req, res, deps.media, file, {
        headers: { 'Content-Type': 'image/jpeg' },
        etag: `"${kind[0]}-${file.toHexString()}"`,
        cacheControl: 'private, max-age=86400',
        missing: `the ${kind} is missing`,
      });
    });
  }

  router.get('/:id/pose', async (req, res) => {
    const q = readQuery(req.query, ['from', 'to'] as const);
    const from = nonNegativeSeconds('from', q.from) ?? 0;
    const to = nonNegativeSeconds('to', q.to) ?? Number.MAX_VALUE;
    if (from > to) throw new HttpError(400, 'invalid_query', '`from` must not be after `to`');
    const video = await loadVideo(req);
    // While the job runs, the chunks of finished segments are readable already (partial results).
    const job = await c.jobs.findOne({ _id: video.jobId });
    if (!job || job.state === 'failed' || job.state === 'queued') {
      throw new HttpError(409, 'not_ready', `analysis is ${job?.state ?? 'missing'}; pose frames appear as its segments finish`);
    }
    const chunks = await c.frames
      .find({ videoId: video._id, tStart: { $lte: to }, tEnd: { $gte: from } }, { projection: { warmup: 0 } })
      .sort({ chunk: 1 })
      .toArray();
    const frames = chunks.flatMap((chunk) => chunk.frames.filter((f) => f.t >= from && f.t <= to));
    // A finished analysis's frames never change (only a failed job is retried), so the web app's time windows are
    // kept by the browser: a window dropped from its bounded cache and wanted again (a scrub back) costs no request.
    // While the job runs, every read must be fresh.
    const body = {
      videoId: video._id.toHexString(),
      fps: video.fps ?? null,
      width: video.width ?? null,
      height: video.height ?? null,
      riderTrackId: video.riderTrackId ?? null,
      /** True while the job runs: only finished segments are included, and track ids are final once it is done. */
      partial: job.state !== 'done',
      frames,
    };
    // The frames are the workers' documents: held to the contract (docs/schemas/api-pose.schema.json) as served.
    servedConforms('api-pose', body, `the stored pose frames of video ${video._id.toHexString()}`);
    res.set('Cache-Control', job.state === 'done' ? 'private, max-age=86400' : 'no-store');
    res.json(body);
  });

  // `?series=0`: the summary alone (docs/schemas/api-metrics-summary.schema.json), so the analysis view shows the
  // player and its tiles before a long clip's series; `series=1`, empty or none: the whole Metrics as ever. The
  // allowed query is docs/schemas/api-metrics-query.schema.json (the web e2e double checks the same file).
  router.get('/:id/metrics', async (req, res) => {
    const q = readContractQuery<{ series?: '0' | '1' | '' }>('api-metrics-query', req.query);
    const withSeries = q.series !== '0';
    const video = await loadVideo(req);
    await requireDone(video);
    const what = `the stored metrics of video ${video._id.toHexString()}`;
    if (!withSeries) {
      const summary = await readMetricsSummary(c, video._id);
      if (summary === undefined) throw new HttpError(409, 'not_ready', 'the metrics are not stored yet');
      res.json(servedConforms('api-metrics-summary', summary, what));
      return;
    }
    const metrics = await readMetrics(c, video._id);
    if (metrics === undefined) throw new HttpError(409, 'not_ready', 'the metrics are not stored yet');
    res.json(servedConforms('metrics', metrics, what));
  });

  // Rename: owner only (a coach gets 403 read_only), CSRF-checked like every write by the session gate.
  router.patch('/:id', parseJson, async (req, res) => {
    const title = readTitle(req.body);
    const video = await loadVideo(req, { write: true });
    await c.videos.updateOne({ _id: video._id }, { $set: { title } });
    const job = await c.jobs.findOne({ _id: video.jobId });
    const owners = await ownersOf(users, [video]);
    const queue = await deps.queue.snapshot();
    res.json(toVideo({ ...video, title }, job, video.ownerId ? (owners.get(video.ownerId.toHexString()) ?? null) : null, queue));
  });

  router.delete('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'video');
    await loadVideo(req, { write: true });
    // Only the request that actually removes the document cleans up; concurrent deletes get 404.
    const video = await c.videos.findOneAndDelete({ _id: id });
    if (!video) throw notFound('video');
    // Its tasks next, at once: each worker's heartbeat then matches nothing and it stops within a second.
    await cancelTasks(c, id);
    await Promise.all([
      deps.media.removeVideo(id),
      c.frames.deleteMany({ videoId: id }),
      c.metrics.deleteOne({ _id: id }),
      c.metricSeries.deleteMany({ videoId: id }),
      shares.deleteMany({ videoId: id }),
      exportsCollection(deps.db.db).deleteMany({ videoId: id }),
      drawingsCollection(deps.db.db).deleteOne({ _id: id }),
    ]);
    await c.jobs.deleteMany({ videoId: id });
    deps.events.changed(video.jobId.toHexString());
    res.status(204).end();
  });

  // A failed analysis again, from the upload that is kept: a new ingest task, attempts reset.
  router.post('/:id/retry', async (req, res) => {
    const video = await loadVideo(req, { write: true });
    if (!(await retryJob(c, video.jobId))) {
      const job = await c.jobs.findOne({ _id: video.jobId }, { projection: { state: 1 } });
      throw new HttpError(409, 'not_failed', `the analysis is ${job?.state ?? 'missing'}; only a failed analysis can be retried`);
    }
    deps.events.changed(video.jobId.toHexString());
    res.status(202).json({ videoId: video._id.toHexString(), jobId: video.jobId.toHexString() });
  });

  return router;
}

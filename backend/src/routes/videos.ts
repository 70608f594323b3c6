import { createReadStream } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { Filter } from 'mongodb';
import type { AppDeps } from '../deps.js';
import type { Container, DerivedFile, JobDoc, JobState, Role, VideoDoc } from '../db.js';
import { derivedDirName } from '../derived.js';
import { HttpError, notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { intInRange, nonNegativeSeconds, oneOf, readQuery } from '../query.js';
import { toVideo } from '../serialize.js';
import { FreshSingleFlight } from '../coalesce.js';
import { admitUpload } from '../upload/intake.js';
import { libraryFilter, loadVideoFor, ownersOf, visibilityKey } from '../auth/access.js';
import { userOf } from '../auth/gate.js';
import { authCollections } from '../auth/store.js';
import { receiveUpload, removeQuietly } from '../upload/receive.js';

const ROLES: readonly Role[] = ['rider', 'reference'];
const STATES: readonly JobState[] = ['queued', 'running', 'done', 'failed'];
const MIME: Record<Container, string> = { mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska' };

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

const exists = (file: string) => access(file).then(() => true, () => false);

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / RFC 8187). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
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
  const filePathOf = (video: VideoDoc) => path.join(deps.config.uploadDir, video.storedName);

  /** The video of `req.params.id` if the signed-in user may see it (404 otherwise; see auth/access.ts). */
  const loadVideo: VideoResolver = resolveVideo ?? ((req, opts) => loadVideoFor(c.videos, userOf(req), req.params.id, opts));

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
    const q = readQuery(req.query, ['page', 'limit', 'role', 'status', 'owner'] as const);
    const page = intInRange('page', q.page, 1, 1, 1_000_000);
    const limit = intInRange('limit', q.limit, 20, 1, 100);
    const role = oneOf('role', q.role, ROLES);
    const status = oneOf('status', q.status, STATES);
    const user = userOf(req);
    const scope = await libraryFilter(users, user, q.owner);
    if (scope === null) {
      res.json({ items: [], page, limit, total: 0 });
      return;
    }
    const filter: Filter<VideoDoc> = { ...scope };
    if (role) filter.role = role;
    if (status) filter.status = status;
    // Everyone polling the same page with the same view shares one read and one serialisation (see coalesce.ts).
    const key = `${visibilityKey(user)}|${JSON.stringify(scope)}|${page}|${limit}|${role ?? ''}|${status ?? ''}`;
    const body = await listReads.run(key, async () => {
      const [videos, total] = await Promise.all([
        c.videos.find(filter).sort({ createdAt: -1, _id: -1 }).skip((page - 1) * limit).limit(limit).toArray(),
        c.videos.countDocuments(filter),
      ]);
      const jobs = videos.length ? await c.jobs.find({ _id: { $in: videos.map((v) => v.jobId) } }).toArray() : [];
      const jobById = new Map(jobs.map((j) => [j._id.toHexString(), j]));
      const owners = await ownersOf(users, videos);
      const ownerOf = (v: VideoDoc) => (v.ownerId ? (owners.get(v.ownerId.toHexString()) ?? null) : null);
      return JSON.stringify({ items: videos.map((v) => toVideo(v, jobById.get(v.jobId.toHexString()) ?? null, ownerOf(v))), page, limit, total });
    });
    res.type('application/json').send(body);
  });

  router.get('/:id', async (req, res) => {
    const video = await loadVideo(req);
    const job = await c.jobs.findOne({ _id: video.jobId });
    const owners = await ownersOf(users, [video]);
    res.json(toVideo(video, job, video.ownerId ? (owners.get(video.ownerId.toHexString()) ?? null) : null));
  });

  /**
   * Sends a file with HTTP range support (206 / 416) and a validator; HEAD answers the headers only.
   * `etag` must change whenever the bytes do.
   */
  async function sendRanged(req: Request, res: Response, file: string, headers: Record<string, string>, etag: string) {
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new HttpError(404, 'not_found', 'the video file is missing (deleted?)');
    }
    res.set({ 'Accept-Ranges': 'bytes', ETag: etag, 'Cache-Control': 'private, max-age=0', ...headers });
    const ifRange = req.headers['if-range'];
    const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.removeHeader('Content-Type');
      res.removeHeader('Content-Disposition');
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
  }

  /** A derived file's absolute path if the ingest stage made it and it is still on disk. */
  async function derivedPath(file: DerivedFile | null | undefined): Promise<string | null> {
    if (!file) return null;
    const full = path.join(deps.config.uploadDir, file.name);
    return (await exists(full)) ? full : null;
  }

  // The browser-safe rendition once the ingest stage made it; the original before that.
  router.get('/:id/stream', async (req, res) => {
    const video = await loadVideo(req);
    const rendition = await derivedPath(video.rendition);
    if (rendition) {
      await sendRanged(req, res, rendition, { 'Content-Type': 'video/mp4' }, `"r-${video.sha256}-${video.rendition!.size ?? 0}"`);
      return;
    }
    await sendRanged(req, res, filePathOf(video), { 'Content-Type': MIME[video.container] }, `"${video.sha256}"`);
  });

  // The uploaded file, byte for byte, as a download under the name it was uploaded with.
  router.get('/:id/original', async (req, res) => {
    const video = await loadVideo(req);
    const name = video.originalName || `${video._id.toHexString()}.${video.container}`;
    await sendRanged(
      req,
      res,
      filePathOf(video),
      { 'Content-Type': MIME[video.container], 'Content-Disposition': contentDisposition(name) },
      `"${video.sha256}"`,
    );
  });

  for (const kind of ['poster', 'sprite'] as const) {
    router.get(`/:id/${kind}`, async (req, res) => {
      const video = await loadVideo(req);
      const file = await derivedPath(video[kind]);
      if (!file) throw new HttpError(404, 'not_found', `the ${kind} is not made yet (it comes with the video's ingest)`);
      const etag = `"${kind[0]}-${video.sha256}-${video[kind]!.size ?? 0}"`;
      // Made once per video: cacheable, revalidated by ETag if the browser asks again.
      res.set({ 'Cache-Control': 'private, max-age=86400', ETag: etag });
      if (req.headers['if-none-match'] === etag) {
        res.status(304).end();
        return;
      }
      res.type('image/jpeg');
      try {
        await pipeline(createReadStream(file), res);
      } catch {
        res.destroy();
      }
    });
  }

  router.get('/:id/pose', async (req, res) => {
    const q = readQuery(req.query, ['from', 'to'] as const);
    const from = nonNegativeSeconds('from', q.from) ?? 0;
    const to = nonNegativeSeconds('to', q.to) ?? Number.MAX_VALUE;
    if (from > to) throw new HttpError(400, 'invalid_query', '`from` must not be after `to`');
    const video = await loadVideo(req);
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
    const video = await loadVideo(req);
    await requireDone(video);
    const doc = await c.metrics.findOne({ _id: video._id });
    if (!doc) throw new HttpError(409, 'not_ready', 'the metrics are not stored yet');
    res.json(doc.metrics);
  });

  router.delete('/:id', async (req, res) => {
    const id = parseId(req.params.id, 'video');
    await loadVideo(req, { write: true });
    // Only the request that actually removes the document cleans up; concurrent deletes get 404.
    const video = await c.videos.findOneAndDelete({ _id: id });
    if (!video) throw notFound('video');
    await c.jobs.deleteMany({ videoId: id });
    await Promise.all([
      c.frames.deleteMany({ videoId: id }),
      c.metrics.deleteOne({ _id: id }),
      shares.deleteMany({ videoId: id }),
      removeQuietly(filePathOf(video)),
      rm(path.join(deps.config.uploadDir, derivedDirName(id)), { recursive: true, force: true }),
    ]);
    deps.events.changed(video.jobId.toHexString());
    res.status(204).end();
  });

  return router;
}

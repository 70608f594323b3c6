import express, { Router } from 'express';
import { ObjectId, type Collection, type Db } from 'mongodb';
import type { AppDeps } from '../deps.js';
import type { TaskDoc, VideoDoc } from '../db.js';
import { HttpError, notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { oneOf, readQuery } from '../query.js';
import { loadVideoFor } from '../auth/access.js';
import { userOf } from '../auth/gate.js';
import { readMetrics } from '../jobs/metrics.js';
import { queuedTask } from '../jobs/queue.js';
import { WORKER_LIVE_MS } from '../jobs/queueView.js';
import { contentDisposition, sendStored } from '../media/http.js';
import { downloadBase, framesCsv, metricsDocument, summaryCsv, type MetricsJson } from '../export/metricsFiles.js';

/*
 * Exports (issue 18, item 9; docs/contracts.md "Exports"). Every route is a read of the video, so a coach may export
 * an assigned rider's video (loadVideoFor without `write`).
 *  - Metrics files, made here from the stored metrics: GET /:id/metrics.csv (per frame; ?table=summary for the
 *    summary) and GET /:id/metrics.json, both as attachments.
 *  - The skeleton MP4, made by a pose worker: POST /:id/exports inserts an `exports` record and one queue task of kind
 *    `export` whose jobId is the export's id (so the queue's job-scoped writes touch no analysis job); the worker
 *    writes progress and the GridFS file on the record (pose_service/worker/export.py). GET /:id/exports/:eid reads
 *    it; GET /:id/exports/:eid/file serves the MP4 with ranges. A video's DELETE removes its tasks (the worker stops
 *    within a second), files and exports.
 */

export type ExportState = 'queued' | 'running' | 'done' | 'failed';

export interface ExportDoc {
  _id: ObjectId;
  videoId: ObjectId;
  kind: 'mp4';
  state: ExportState;
  framesDone: number;
  framesTotal: number | null;
  progress: number;
  fileId: ObjectId | null;
  size: number | null;
  width?: number | null;
  height?: number | null;
  durationS?: number | null;
  errorKind: string | null;
  errorDetail: string | null;
  requestedBy: ObjectId | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const exportsCollection = (db: Db): Collection<ExportDoc> => db.collection<ExportDoc>('exports');

const KINDS = ['mp4'] as const;
const TABLES = ['frames', 'summary'] as const;
const parseJson = express.json({ limit: '1kb', type: () => true });

/** The export task: a queue task of kind `export`, FIFO with analysis jobs by time. */
export function exportTask(exp: Pick<ExportDoc, '_id' | 'videoId'>, now = new Date()): TaskDoc {
  return queuedTask('export', { jobId: exp._id, videoId: exp.videoId }, now, now);
}

/** The export's JSON (docs/contracts.md "Exports"). */
export function toExport(e: ExportDoc, liveWorkers: number) {
  const unfinished = e.state === 'queued' || e.state === 'running';
  const id = e._id.toHexString();
  const videoId = e.videoId.toHexString();
  return {
    id,
    videoId,
    kind: e.kind,
    state: e.state,
    progress: e.progress,
    framesDone: e.framesDone,
    framesTotal: e.framesTotal,
    size: e.size,
    waiting: unfinished && liveWorkers === 0 ? ('workers' as const) : null,
    error: e.state === 'failed' ? 'The video with the skeleton could not be made. Try again; if it fails again, the clip may need to be analysed again.' : null,
    errorDetail: e.errorDetail,
    fileUrl: e.state === 'done' ? `/api/videos/${videoId}/exports/${id}/file` : null,
    createdAt: e.createdAt.toISOString(),
    updatedAt: e.updatedAt.toISOString(),
    finishedAt: e.finishedAt?.toISOString() ?? null,
  };
}

export function exportsRouter(deps: AppDeps): Router {
  const router = Router();
  const c = deps.db.collections;
  const exportsColl = exportsCollection(deps.db.db);
  const loadVideo = (req: express.Request) => loadVideoFor(c.videos, userOf(req), req.params.id);
  const liveWorkers = () => c.workers.countDocuments({ heartbeatAt: { $gt: new Date(Date.now() - WORKER_LIVE_MS) } });

  async function requireDone(video: VideoDoc): Promise<void> {
    const job = await c.jobs.findOne({ _id: video.jobId }, { projection: { state: 1 } });
    if (!job || job.state !== 'done') {
      throw new HttpError(409, 'not_ready', `analysis is ${job?.state ?? 'missing'}; exports exist once the job is done`);
    }
  }

  async function metricsOf(video: VideoDoc): Promise<{ metrics: MetricsJson; frames: (number | null)[] }> {
    await requireDone(video);
    const metrics = (await readMetrics(c, video._id)) as MetricsJson | undefined;
    if (metrics === undefined) throw new HttpError(409, 'not_ready', 'the metrics are not stored yet');
    // The video's frame number of each analysed frame (the metrics hold their times only), in series order.
    // Only the frame numbers travel: a 30-minute clip's pose is hundreds of MB, its frame numbers a few hundred KB.
    const chunks = await c.frames.find({ videoId: video._id }, { projection: { chunk: 1, 'frames.index': 1 } }).sort({ chunk: 1 }).toArray();
    const indices = chunks.flatMap((ch) => ch.frames.map((f) => f.index));
    const frames = metrics.series.t.map((_, i) => indices[i] ?? null);
    return { metrics, frames };
  }

  router.get('/:id/metrics.csv', async (req, res) => {
    const q = readQuery(req.query, ['table'] as const);
    const table = oneOf('table', q.table, TABLES) ?? 'frames';
    const video = await loadVideo(req);
    const { metrics, frames } = await metricsOf(video);
    const body = table === 'summary' ? summaryCsv(metrics) : framesCsv(metrics, frames);
    const name = `${downloadBase(video)}-${table === 'summary' ? 'summary' : 'metrics'}.csv`;
    res.set({ 'Content-Type': 'text/csv; charset=utf-8; header=present', 'Content-Disposition': contentDisposition(name), 'Cache-Control': 'private, no-store' });
    res.send(body);
  });

  router.get('/:id/metrics.json', async (req, res) => {
    readQuery(req.query, [] as const);
    const video = await loadVideo(req);
    const { metrics, frames } = await metricsOf(video);
    const doc = metricsDocument(metrics, frames, {
      id: video._id.toHexString(),
      title: video.title,
      originalName: video.originalName,
      fps: video.fps,
      width: video.width,
      height: video.height,
      durationS: video.durationS,
    });
    res.set({ 'Content-Disposition': contentDisposition(`${downloadBase(video)}-metrics.json`), 'Cache-Control': 'private, no-store' });
    res.type('application/json').send(JSON.stringify(doc, null, 1));
  });

  // Start (or join) the skeleton MP4: 202 with the export. One per video at a time: a queued, running or done export
  // is answered again (the result depends only on the video and its analysis); a failed one is replaced.
  router.post('/:id/exports', async (req, res, next) => {
    const video = await loadVideo(req);
    parseJson(req, res, async (err?: unknown) => {
      try {
        if ((err as { type?: string } | undefined)?.type === 'entity.parse.failed') throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
        if (err) throw err;
        const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
        const kind = body.kind ?? 'mp4';
        if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
          throw new HttpError(400, 'invalid_kind', `kind must be one of: ${KINDS.join(', ')}`);
        }
        await requireDone(video);
        if (!video.rendition?.fileId) throw new HttpError(409, 'not_ready', 'the video has no rendition to draw on yet');
        let exp = await exportsColl.findOne({ videoId: video._id, kind: 'mp4', state: { $ne: 'failed' } }, { sort: { createdAt: -1 } });
        // A done export whose file is gone (removed by hand, or by a reconciliation from before exports) is made again.
        if (exp?.state === 'done' && (!exp.fileId || !(await deps.media.find(exp.fileId)))) {
          await exportsColl.updateOne({ _id: exp._id }, { $set: { state: 'failed', errorKind: 'internal', errorDetail: 'the exported file is missing', updatedAt: new Date() } });
          exp = null;
        }
        if (!exp) {
          const now = new Date();
          exp = {
            _id: new ObjectId(),
            videoId: video._id,
            kind: 'mp4',
            state: 'queued',
            framesDone: 0,
            framesTotal: video.frameCount ?? null,
            progress: 0,
            fileId: null,
            size: null,
            errorKind: null,
            errorDetail: null,
            requestedBy: userOf(req).id ?? null,
            createdAt: now,
            updatedAt: now,
            startedAt: null,
            finishedAt: null,
          };
          // The record first, then its task: a worker never claims a task without its record.
          await exportsColl.insertOne(exp);
          await c.tasks.insertOne(exportTask(exp, now));
        }
        const location = `/api/videos/${video._id.toHexString()}/exports/${exp._id.toHexString()}`;
        res.status(202).location(location).json(toExport(exp, await liveWorkers()));
      } catch (e) {
        next(e);
      }
    });
  });

  async function loadExport(req: express.Request): Promise<{ video: VideoDoc; exp: ExportDoc }> {
    const video = await loadVideo(req);
    const id = parseId(req.params.eid, 'export');
    const exp = await exportsColl.findOne({ _id: id, videoId: video._id });
    if (!exp) throw notFound('export');
    return { video, exp };
  }

  router.get('/:id/exports/:eid', async (req, res) => {
    const { exp } = await loadExport(req);
    res.set('Cache-Control', 'no-store').json(toExport(exp, await liveWorkers()));
  });

  router.get('/:id/exports/:eid/file', async (req, res) => {
    const { video, exp } = await loadExport(req);
    if (exp.state !== 'done' || !exp.fileId) {
      throw new HttpError(409, 'not_ready', `the export is ${exp.state}; its file exists once it is done`);
    }
    await sendStored(req, res, deps.media, exp.fileId, {
      headers: { 'Content-Type': 'video/mp4', 'Content-Disposition': contentDisposition(`${downloadBase(video)}-skeleton.mp4`) },
      etag: `"x-${exp.fileId.toHexString()}"`,
      missing: 'the exported file is missing',
    });
  });

  return router;
}

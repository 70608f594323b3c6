import { lstat, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import type { Collections } from '../db.js';
import type { MediaStore } from '../media/store.js';

/*
 * An upload is stored in two steps: the original is written into the media store (GridFS), then its video document
 * is inserted; a delete removes the video document first, then its tasks, files and results. A crash between the
 * steps leaves things nobody refers to; a lost file leaves a document that can never be analysed or played.
 * Reconciliation repairs both, at start-up and then periodically:
 *  - on the local uploads folder (staging for uploads in flight, and videos from before GridFS until the start-up
 *    migration moved them): a file or derived folder named after a video id with no video document, or an
 *    abandoned `.incoming-*` temp file, is removed once its mtime is older than the grace period;
 *  - in GridFS: a file whose video is gone, a file of a video that no longer refers to it (e.g. a rendition
 *    replaced by a retried ingest), and chunks with no file document (a write that died midway) are removed once
 *    older than the grace period, so a write in flight (here, in another API process or in a pose worker) is never
 *    touched;
 *  - the jobs, tasks, pose frames and metrics of a video that no longer exists are removed;
 *  - a video whose original is neither in GridFS nor still on the local disk is marked failed, with a plain reason.
 * Only names this API writes are considered on disk; anything else in the folder is left alone.
 */

const ID_NAMED = /^([0-9a-f]{24})(?:[._-].*)?$/;
const TEMP_NAMED = /^\.incoming-[0-9a-f-]{36}\.part$/;

export const MISSING_FILE_ERROR = 'The video file is missing from the server, so it cannot be analysed or played. Please upload the clip again.';

export interface ReconcileReport {
  orphansRemoved: string[];
  orphansKeptInGrace: number;
  mediaFilesRemoved: number;
  orphanChunkFilesRemoved: number;
  leftoversRemoved: number;
  videosMarkedFailed: string[];
}

/** Removes orphans older than graceMs and fails videos whose original is gone; returns what it did. */
export async function reconcileUploads(
  c: Collections,
  media: MediaStore,
  uploadDir: string,
  graceMs: number,
  log: (msg: string, err?: unknown) => void,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { orphansRemoved: [], orphansKeptInGrace: 0, mediaFilesRemoved: 0, orphanChunkFilesRemoved: 0, leftoversRemoved: 0, videosMarkedFailed: [] };
  const now = Date.now();

  // Direction 1: files with no document.
  const names = await readdir(uploadDir);
  const byId = new Map<string, string[]>();
  const candidates: string[] = [];
  for (const name of names) {
    const m = ID_NAMED.exec(name);
    if (m) {
      const list = byId.get(m[1]!) ?? [];
      list.push(name);
      byId.set(m[1]!, list);
    } else if (TEMP_NAMED.test(name)) {
      candidates.push(name);
    }
  }
  if (byId.size > 0) {
    const ids = [...byId.keys()].map((id) => new ObjectId(id));
    const known = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const found = await c.videos.find({ _id: { $in: ids.slice(i, i + 1000) } }, { projection: { _id: 1 } }).toArray();
      for (const v of found) known.add(v._id.toHexString());
    }
    for (const [id, files] of byId) if (!known.has(id)) candidates.push(...files);
  }
  for (const name of candidates) {
    const full = path.join(uploadDir, name);
    const st = await lstat(full).catch(() => null);
    if (!st) continue;
    if (now - st.mtimeMs < graceMs) {
      report.orphansKeptInGrace++;
      continue;
    }
    // Checked again right before removal: an insert may have landed since the query above.
    const m = ID_NAMED.exec(name);
    if (m && (await c.videos.findOne({ _id: new ObjectId(m[1]!) }, { projection: { _id: 1 } }))) continue;
    await rm(full, { recursive: true, force: true });
    report.orphansRemoved.push(name);
    log(`removed orphan upload ${name} (no video document; last modified ${new Date(st.mtimeMs).toISOString()})`);
  }

  // Direction 2: GridFS files and results nobody refers to.
  const before = new Date(now - graceMs);
  const referenced = new Set<string>();
  const videoIds = new Set<string>();
  for await (const v of c.videos.find({}, { projection: { _id: 1, originalFileId: 1, rendition: 1, poster: 1, sprite: 1 } })) {
    videoIds.add(v._id.toHexString());
    for (const id of [v.originalFileId, v.rendition?.fileId, v.poster?.fileId, v.sprite?.fileId]) if (id) referenced.add(id.toHexString());
  }
  for await (const f of media.files.find({ uploadDate: { $lt: before } }, { projection: { _id: 1, metadata: 1 } })) {
    const owner = f.metadata?.videoId?.toHexString();
    if (referenced.has(f._id.toHexString()) || !owner) continue; // files without a video are not ours
    // Checked again right before removal: a write may have been recorded since the read above.
    const video = owner ? await c.videos.findOne({ _id: new ObjectId(owner) }, { projection: { originalFileId: 1, rendition: 1, poster: 1, sprite: 1, migration: 1 } }) : null;
    const refs = video ? [video.originalFileId, video.rendition?.fileId, video.poster?.fileId, video.sprite?.fileId, ...Object.values((video as { migration?: Record<string, ObjectId> }).migration ?? {})] : [];
    if (refs.some((id) => id?.equals(f._id))) continue;
    // A skeleton MP4 (issue 18, routes/exports.ts) is referred to by its `exports` record, not by the video.
    if (video && (f.metadata?.kind as string | undefined) === 'export' && (await c.videos.db.collection('exports').countDocuments({ fileId: f._id }, { limit: 1 }))) continue;
    await media.remove(f._id);
    report.mediaFilesRemoved++;
  }
  const withFiles = new Set((await media.files.find({}, { projection: { _id: 1 } }).toArray()).map((f) => f._id.toHexString()));
  for (const filesId of await media.chunks.distinct('files_id', { n: 0 })) {
    if (!(filesId instanceof ObjectId) || withFiles.has(filesId.toHexString()) || filesId.getTimestamp().getTime() >= before.getTime()) continue;
    if (await media.files.findOne({ _id: filesId }, { projection: { _id: 1 } })) continue;
    await media.chunks.deleteMany({ files_id: filesId });
    report.orphanChunkFilesRemoved++;
  }
  for (const coll of [c.tasks, c.jobs, c.frames, c.metricSeries] as const) {
    const gone = (await (coll as typeof c.jobs).distinct('videoId', {})).filter((id) => !videoIds.has(id.toHexString()));
    for (const videoId of gone) {
      if (await c.videos.findOne({ _id: videoId }, { projection: { _id: 1 } })) continue;
      report.leftoversRemoved += (await (coll as typeof c.jobs).deleteMany({ videoId })).deletedCount;
    }
  }
  for (const m of await c.metrics.find({}, { projection: { _id: 1 } }).toArray()) {
    if (videoIds.has(m._id.toHexString()) || (await c.videos.findOne({ _id: m._id }, { projection: { _id: 1 } }))) continue;
    report.leftoversRemoved += (await c.metrics.deleteOne({ _id: m._id })).deletedCount;
  }

  // Direction 3: videos whose original is gone.
  const videos = c.videos.find({ status: { $ne: 'failed' } }, { projection: { _id: 1, storedName: 1, originalFileId: 1, jobId: 1 } });
  for await (const video of videos) {
    let present: boolean;
    if (video.originalFileId) {
      present = (await media.find(video.originalFileId)) !== null;
    } else if (video.storedName) {
      // Not migrated yet (see media/migrate.ts): the local file is still the original.
      present = await stat(path.join(uploadDir, video.storedName)).then(
        () => true,
        (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
      );
    } else {
      present = false;
    }
    if (present) continue;
    const finishedAt = new Date();
    const detail = video.originalFileId
      ? `reconciliation: the original (GridFS file ${video.originalFileId.toHexString()}) is not in the media store`
      : `reconciliation: ${video.storedName ?? 'the original'} is neither in the media store nor in UPLOAD_DIR (${uploadDir})`;
    await c.tasks.deleteMany({ videoId: video._id });
    await c.jobs.updateOne(
      { _id: video.jobId },
      {
        $set: {
          state: 'failed',
          error: MISSING_FILE_ERROR,
          errorDetail: detail,
          finishedAt,
          updatedAt: finishedAt,
        },
      },
    );
    await c.videos.updateOne({ _id: video._id }, { $set: { status: 'failed' } });
    report.videosMarkedFailed.push(video._id.toHexString());
    log(`video ${video._id.toHexString()} marked failed: ${detail}`);
  }
  const removed = report.mediaFilesRemoved + report.orphanChunkFilesRemoved + report.leftoversRemoved;
  if (removed) log(`reconciliation removed ${report.mediaFilesRemoved} unreferenced media file(s), ${report.orphanChunkFilesRemoved} half-written one(s) and ${report.leftoversRemoved} leftover document(s) of deleted videos`);
  return report;
}

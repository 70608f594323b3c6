import { lstat, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import type { Collections } from '../db.js';

/*
 * An upload is stored in two steps: the file is renamed to its final name, then its video document is
 * inserted. A crash between the two leaves a file nobody knows about; a lost or deleted file leaves a document
 * that can never be analysed or played. Reconciliation repairs both, at start-up and then periodically:
 *  - a file (or derived folder) named after a video id with no video document, or an abandoned `.incoming-*`
 *    temp file, is removed once its mtime is older than the grace period, so an upload still in flight (in this
 *    process or another API process sharing the folder) is never touched;
 *  - a video whose file is missing is marked failed, with a plain reason for the rider.
 * Only names this API writes are considered; anything else in the folder is left alone.
 */

const ID_NAMED = /^([0-9a-f]{24})(?:[._-].*)?$/;
const TEMP_NAMED = /^\.incoming-[0-9a-f-]{36}\.part$/;

export const MISSING_FILE_ERROR = 'The video file is missing from the server, so it cannot be analysed or played. Please upload the clip again.';

export interface ReconcileReport {
  orphansRemoved: string[];
  orphansKeptInGrace: number;
  videosMarkedFailed: string[];
}

/** Removes orphan upload files older than graceMs and fails videos whose file is gone; returns what it did. */
export async function reconcileUploads(
  c: Collections,
  uploadDir: string,
  graceMs: number,
  log: (msg: string, err?: unknown) => void,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { orphansRemoved: [], orphansKeptInGrace: 0, videosMarkedFailed: [] };
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

  // Direction 2: documents with no file.
  const videos = c.videos.find({ status: { $ne: 'failed' } }, { projection: { _id: 1, storedName: 1, jobId: 1 } });
  for await (const video of videos) {
    const exists = await stat(path.join(uploadDir, video.storedName)).then(
      () => true,
      (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
    );
    if (exists) continue;
    const finishedAt = new Date();
    const detail = `reconciliation: ${video.storedName} is not in UPLOAD_DIR (${uploadDir})`;
    await c.jobs.updateOne(
      { _id: video.jobId },
      {
        $set: {
          state: 'failed',
          error: MISSING_FILE_ERROR,
          errorDetail: detail,
          finishedAt,
          updatedAt: finishedAt,
          heartbeatAt: null,
          workerId: null,
        },
      },
    );
    await c.videos.updateOne({ _id: video._id }, { $set: { status: 'failed' } });
    report.videosMarkedFailed.push(video._id.toHexString());
    log(`video ${video._id.toHexString()} marked failed: ${detail}`);
  }
  return report;
}

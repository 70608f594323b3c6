import { createReadStream } from 'node:fs';
import { rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { ObjectId } from 'mongodb';
import type { Collections, DerivedFile, VideoDoc } from '../db.js';
import { MIME } from './http.js';
import type { MediaKind, MediaStore } from './store.js';

/*
 * Start-up migration of media from the API's local uploads folder (where videos lived before GridFS) into the
 * media store. Per video: the original (`storedName`) and the derived files (`<id>.derived/`: rendition, poster,
 * sprite) are copied into GridFS, each copy read back and checked (the original against `videos.sha256`, a derived
 * file against the hash of its local bytes), recorded on the video, and only then is the local file removed.
 *
 * Idempotent and resumable: the GridFS id of a copy is recorded on the video (`migration.<kind>`) before the copy
 * starts, so a run that dies mid-copy leaves chunks under a known id that the next run removes before copying
 * again; a copy that is recorded is never made twice; a local file is removed only once its copy is recorded.
 * `storedName` and `derivedDir` are unset when a video has nothing left on the local disk.
 */

const DERIVED: readonly ('rendition' | 'poster' | 'sprite')[] = ['rendition', 'poster', 'sprite'];
const CONTENT_TYPE: Record<'rendition' | 'poster' | 'sprite', string> = { rendition: 'video/mp4', poster: 'image/jpeg', sprite: 'image/jpeg' };

export interface MigrationReport {
  videos: number;
  files: number;
  bytes: number;
  /** Videos left as they were because a copy did not match (their local files are kept). */
  failed: string[];
  /** Videos whose original is neither in GridFS nor on disk (reconciliation fails them). */
  missing: string[];
}

export interface MigrationOptions {
  uploadDir: string;
  log: (msg: string, err?: unknown) => void;
  /** TEST ONLY: stall for good once this many bytes were copied (the test kills the process there). */
  pauseAfterBytes?: number | null;
}

const exists = (file: string) => stat(file).then((s) => s.isFile(), () => false);

export async function migrateLocalMedia(c: Collections, media: MediaStore, opts: MigrationOptions): Promise<MigrationReport> {
  const report: MigrationReport = { videos: 0, files: 0, bytes: 0, failed: [], missing: [] };
  let copied = 0;
  /** Counts the bytes copied, for the test-only pause. */
  const meter = () =>
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        const limit = opts.pauseAfterBytes;
        if (limit != null && copied + chunk.length >= limit) {
          // Up to the limit, then never done(): the copy stalls mid-file (the test kills the process there).
          this.push(chunk.subarray(0, limit - copied));
          copied = limit;
          opts.log(`TEST_ONLY_PAUSE_MIGRATION_AFTER_BYTES: paused after copying ${copied} bytes into GridFS`);
          return;
        }
        copied += chunk.length;
        done(null, chunk);
      },
    });

  /** Copies a local file into GridFS under the id recorded on the video, and checks what GridFS now holds. */
  async function copy(video: VideoDoc, kind: MediaKind, file: string, contentType: string, expectedSha: string | null): Promise<{ fileId: ObjectId; size: number } | null> {
    const slot = `migration.${kind}`;
    let fileId = (video as VideoDoc & { migration?: Record<string, ObjectId> }).migration?.[kind];
    if (!fileId) {
      fileId = new ObjectId();
      await c.videos.updateOne({ _id: video._id }, { $set: { [slot]: fileId } });
    }
    await media.remove(fileId); // what an interrupted run left under this id
    const source = createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(meter());
    const name = kind === 'original' ? (video.originalName ?? path.basename(file)) : path.basename(file);
    const written = await media.put(source, name, { videoId: video._id, kind, contentType, ...(kind === 'original' ? { sha256: video.sha256 } : {}) }, fileId);
    const stored = await media.digest(fileId);
    const want = expectedSha ?? written.sha256;
    if (stored.sha256 !== want || stored.size !== written.size) {
      await media.remove(fileId);
      opts.log(`media migration: video ${video._id.toHexString()} ${kind}: the GridFS copy (sha256 ${stored.sha256}) does not match ${want}; the local file ${file} is kept`);
      return null;
    }
    report.files++;
    report.bytes += stored.size;
    return { fileId, size: stored.size };
  }

  const todo = c.videos.find({ storedName: { $exists: true, $ne: null } }).sort({ _id: 1 });
  for await (const video of todo) {
    const id = video._id.toHexString();
    let ok = true;
    // 1. The original.
    const local = path.join(opts.uploadDir, video.storedName!);
    const hasLocal = await exists(local);
    if (!video.originalFileId) {
      if (!hasLocal) {
        report.missing.push(id);
        continue;
      }
      const made = await copy(video, 'original', local, MIME[video.container], video.sha256);
      if (!made) {
        report.failed.push(id);
        continue;
      }
      const res = await c.videos.updateOne({ _id: video._id }, { $set: { originalFileId: made.fileId }, $unset: { 'migration.original': '' } });
      if (res.matchedCount === 0) {
        await media.remove(made.fileId); // deleted meanwhile
        continue;
      }
      video.originalFileId = made.fileId;
    } else if (hasLocal) {
      // Recorded by an earlier run that stopped before removing the local file: check the copy before removing it.
      const stored = await media.find(video.originalFileId);
      const digest = stored ? await media.digest(video.originalFileId) : null;
      if (!digest || digest.sha256 !== video.sha256) {
        opts.log(`media migration: video ${id}: the recorded GridFS original does not match sha256 ${video.sha256}; it is copied again at the next start`);
        await c.videos.updateOne({ _id: video._id }, { $unset: { originalFileId: '' } });
        ok = false;
      }
    }
    if (ok && hasLocal) await unlink(local).catch(() => undefined);
    if (!ok) {
      report.failed.push(id);
      continue;
    }

    // 2. The derived files (old shape: `name` relative to the uploads folder).
    for (const kind of DERIVED) {
      const d = video[kind] as DerivedFile | null | undefined;
      if (!d || d.fileId || !d.name) continue;
      const file = path.resolve(opts.uploadDir, d.name);
      if (!file.startsWith(opts.uploadDir + path.sep) || !(await exists(file))) {
        await c.videos.updateOne({ _id: video._id }, { $set: { [kind]: null } });
        continue;
      }
      const made = await copy(video, kind, file, CONTENT_TYPE[kind], null);
      if (!made) {
        ok = false;
        continue;
      }
      const { name: _name, ...rest } = d;
      const res = await c.videos.updateOne(
        { _id: video._id },
        { $set: { [kind]: { ...rest, fileId: made.fileId, size: made.size } }, $unset: { [`migration.${kind}`]: '' } },
      );
      if (res.matchedCount === 0) await media.remove(made.fileId);
    }
    if (!ok) {
      report.failed.push(id);
      continue;
    }

    // 3. Nothing of this video is left only on the local disk.
    await rm(path.join(opts.uploadDir, `${id}.derived`), { recursive: true, force: true });
    await c.videos.updateOne({ _id: video._id }, { $unset: { storedName: '', derivedDir: '', migration: '' } });
    report.videos++;
  }
  if (report.videos || report.failed.length) {
    opts.log(
      `media migration: ${report.videos} video(s), ${report.files} file(s), ${(report.bytes / 1024 / 1024).toFixed(1)} MB moved into GridFS` +
        (report.failed.length ? `; ${report.failed.length} kept on disk (copy mismatch): ${report.failed.join(', ')}` : ''),
    );
  }
  return report;
}

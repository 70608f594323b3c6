import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ObjectId } from 'mongodb';
import type { AppDeps } from '../deps.js';
import type { Container, Role, VideoProbe } from '../db.js';
import { HttpError } from '../errors.js';
import { NotMediaError, probeUpload, refusalFor, type UploadProbe } from './probe.js';
import { createJob } from '../jobs/queue.js';
import { MIME } from '../media/http.js';
import { removeQuietly } from './receive.js';
import { SNIFF_BYTES, detectContainer } from './sniff.js';

/** A complete upload sitting in a temp file inside the uploads folder, its fields already validated. */
export interface PendingUpload {
  tempPath: string;
  size: number;
  sha256: string;
  container: Container;
  role: Role;
  title: string | null;
  originalName: string | null;
  /** The uploader (users._id); null only while sign-in is off (start-up migration gives those to the first admin). */
  ownerId: ObjectId | null;
}

export function toVideoProbe(p: UploadProbe): VideoProbe {
  return {
    source: 'upload',
    container: p.formatName,
    codec: p.codec,
    profile: p.profile,
    pixFmt: p.pixFmt,
    bitDepth: null,
    codedWidth: p.codedWidth,
    codedHeight: p.codedHeight,
    rotation: p.rotation,
    mirrored: false,
    displayWidth: p.displayWidth,
    displayHeight: p.displayHeight,
    fps: p.fps,
    frameRateMode: null,
    frameCount: null,
    durationS: p.durationS,
    hasAudio: null,
  };
}

/** SHA-256, size and container of a file already on disk (the resumable path, where no single stream saw it all). */
export async function fingerprintFile(file: string): Promise<{ size: number; sha256: string; container: Container | null }> {
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headLength = 0;
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (headLength < SNIFF_BYTES) {
      head.push(chunk.subarray(0, SNIFF_BYTES - headLength));
      headLength += Math.min(chunk.length, SNIFF_BYTES - headLength);
    }
  }
  return { size, sha256: hash.digest('hex'), container: detectContainer(Buffer.concat(head)) };
}

/** TEST ONLY: says the upload sits between its GridFS write and its insert, then never returns (the test kills the process). */
function pauseForCrashTest(log: AppDeps['log'], fileId: ObjectId): Promise<never> {
  log(`TEST_ONLY_PAUSE_AFTER_UPLOAD_STORE: paused after storing media file ${fileId.toHexString()}, before the insert`);
  return new Promise<never>(() => undefined);
}

/**
 * Probes a complete upload and, if it is a decodable video within the limits, copies it into the media store
 * (GridFS; the bytes are checked against the SHA-256 taken on the way in), records the video and queues its job
 * with an ingest task for the pose workers. The temp file is removed whatever happens; on refusal or failure
 * nothing is stored.
 */
export async function admitUpload(deps: AppDeps, upload: PendingUpload): Promise<{ videoId: string; jobId: string }> {
  const { collections: c } = deps.db;
  let probe: UploadProbe;
  try {
    probe = await probeUpload(upload.tempPath);
  } catch (err) {
    await removeQuietly(upload.tempPath);
    if (err instanceof NotMediaError) {
      throw new HttpError(415, 'unsupported_type', 'the file is not a video ffmpeg can read (checked from its content, not its name)');
    }
    throw err;
  }
  const refusal = refusalFor(probe, deps.config.maxDurationS);
  if (refusal) {
    await removeQuietly(upload.tempPath);
    throw refusal;
  }
  const videoId = new ObjectId();
  const jobId = new ObjectId();
  const fileId = new ObjectId();
  const now = new Date();
  try {
    // Our own name in GridFS too; the client's file name is only ever displayed (originalName).
    const stored = await deps.media.putFile(upload.tempPath, `${videoId.toHexString()}.${upload.container}`, {
      videoId,
      kind: 'original',
      contentType: MIME[upload.container],
      sha256: upload.sha256,
    }, fileId);
    if (stored.sha256 !== upload.sha256 || stored.size !== upload.size) {
      throw new Error(`the stored copy differs from the upload (sha256 ${stored.sha256}, ${stored.size} bytes; expected ${upload.sha256}, ${upload.size})`);
    }
    await removeQuietly(upload.tempPath);
    if (deps.config.testPauseAfterUploadStore) await pauseForCrashTest(deps.log, fileId);
    await c.videos.insertOne({
      _id: videoId,
      title: upload.title,
      role: upload.role,
      originalName: upload.originalName,
      originalFileId: fileId,
      size: upload.size,
      sha256: upload.sha256,
      container: upload.container,
      createdAt: now,
      status: 'queued',
      jobId,
      fps: probe.fps,
      durationS: probe.durationS,
      width: probe.displayWidth,
      height: probe.displayHeight,
      frameCount: null,
      riderTrackId: null,
      probe: toVideoProbe(probe),
      rendition: null,
      poster: null,
      sprite: null,
      timing: null,
      ownerId: upload.ownerId,
    });
    await createJob(c, videoId, jobId, now);
  } catch (err) {
    await Promise.all([
      removeQuietly(upload.tempPath),
      deps.media.remove(fileId).catch(() => undefined),
      c.videos.deleteOne({ _id: videoId }).catch(() => undefined),
      c.jobs.deleteOne({ _id: jobId }).catch(() => undefined),
    ]);
    throw err;
  }
  return { videoId: videoId.toHexString(), jobId: jobId.toHexString() };
}

import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectId } from 'mongodb';
import type { Collections, DerivedFile, VideoDoc, VideoProbe } from '../db.js';
import { derivedDirName } from '../derived.js';
import type { IngestResult, PoseClient, ServiceFile, ServiceProbe } from './poseClient.js';

/*
 * The ingest stage: the pose service probes the upload (display orientation, frame-rate mode, true frame times)
 * and writes a browser-safe H.264 rendition, a poster and maybe a sprite strip into the video's derived folder.
 * The worker runs it for every job (beside the pose analysis); the backfill runs it once for videos uploaded
 * before this stage existed.
 */

export function fromServiceProbe(p: ServiceProbe): VideoProbe {
  return {
    source: 'ingest',
    container: p.container,
    codec: p.video_codec,
    profile: p.profile,
    pixFmt: p.pix_fmt,
    bitDepth: p.bit_depth,
    codedWidth: p.coded_width,
    codedHeight: p.coded_height,
    rotation: p.rotation,
    mirrored: p.mirrored,
    displayWidth: p.display_width,
    displayHeight: p.display_height,
    fps: p.fps,
    frameRateMode: p.frame_rate_mode,
    frameCount: p.frame_count,
    durationS: p.duration_s,
    hasAudio: p.has_audio,
  };
}

/** The folder the pose service writes a video's derived files into (absolute; the pose service sees the same path). */
export const derivedDirOf = (uploadDir: string, videoId: ObjectId) => path.join(uploadDir, derivedDirName(videoId));

/** A file the pose service reported, named relative to the uploads folder (it must lie inside the derived folder). */
export function toDerivedFile(uploadDir: string, videoId: ObjectId, f: ServiceFile): DerivedFile {
  const dir = derivedDirName(videoId);
  let name = path.relative(uploadDir, path.resolve(uploadDir, f.path));
  if (name.startsWith('..') || path.isAbsolute(name) || !name.startsWith(`${dir}${path.sep}`)) {
    name = path.join(dir, path.basename(f.path));
  }
  return { name, width: f.width, height: f.height, size: f.size, codec: f.codec ?? null, ...(f.layout ? { layout: f.layout } : {}) };
}

/** The $set that records an ingest result on the video document. */
export function ingestFields(uploadDir: string, videoId: ObjectId, r: IngestResult): Partial<VideoDoc> {
  return {
    probe: fromServiceProbe(r.probe),
    derivedDir: derivedDirName(videoId),
    rendition: toDerivedFile(uploadDir, videoId, r.rendition),
    poster: toDerivedFile(uploadDir, videoId, r.poster),
    sprite: r.sprite ? toDerivedFile(uploadDir, videoId, r.sprite) : null,
  };
}

/** True when the video's rendition is recorded and still on disk (a retried job or the backfill skips it then). */
export async function hasRendition(uploadDir: string, video: VideoDoc): Promise<boolean> {
  if (!video.rendition || !video.poster) return false;
  return access(path.join(uploadDir, video.rendition.name)).then(
    () => true,
    () => false,
  );
}

/** Removes a video's derived folder (after a delete, or when a delete raced an ingest). */
export async function removeDerived(uploadDir: string, videoId: ObjectId): Promise<void> {
  await rm(derivedDirOf(uploadDir, videoId), { recursive: true, force: true });
}

/**
 * Makes renditions and posters for videos stored before the ingest stage existed, one at a time, in the
 * background: the API is ready meanwhile and /stream serves the original until a rendition exists. Videos whose
 * job is still queued or running get theirs from the job. Nothing is deleted; a failure is logged and left for
 * the next start-up.
 */
export class RenditionBackfill {
  private readonly ac = new AbortController();
  private running: Promise<number> | null = null;

  constructor(
    private readonly deps: {
      collections: Collections;
      uploadDir: string;
      pose: PoseClient;
      timeoutMs: number;
      log: (msg: string, err?: unknown) => void;
    },
  ) {}

  /** Starts the pass (once); resolves with the number of videos given a rendition. */
  start(): Promise<number> {
    this.running ??= this.run().catch((err) => {
      if (!this.ac.signal.aborted) this.deps.log('rendition backfill stopped', err);
      return 0;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.ac.abort();
    await this.running;
  }

  private async run(): Promise<number> {
    const { collections: c, uploadDir, pose, timeoutMs, log } = this.deps;
    const todo = await c.videos
      .find({ status: { $in: ['done', 'failed'] }, $or: [{ rendition: { $exists: false } }, { rendition: null }] }, { projection: { _id: 1 } })
      .sort({ createdAt: -1 })
      .toArray();
    if (todo.length > 0) log(`rendition backfill: ${todo.length} video(s) have no rendition yet; making them in the background`);
    let made = 0;
    for (const { _id } of todo) {
      if (this.ac.signal.aborted) break;
      const video = await c.videos.findOne({ _id });
      if (!video || (await hasRendition(uploadDir, video))) continue;
      try {
        const result = await pose.ingest(path.join(uploadDir, video.storedName), derivedDirOf(uploadDir, _id), {
          timeoutMs,
          signal: this.ac.signal,
        });
        const res = await c.videos.updateOne({ _id }, { $set: ingestFields(uploadDir, _id, result) });
        if (res.matchedCount === 0) await removeDerived(uploadDir, _id); // deleted meanwhile
        else made++;
      } catch (err) {
        if (this.ac.signal.aborted) break;
        log(`rendition backfill: video ${_id.toHexString()} skipped: ${(err as Error).message}`);
      }
    }
    if (todo.length > 0) log(`rendition backfill: ${made} of ${todo.length} made`);
    return made;
  }
}

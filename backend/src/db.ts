import { MongoClient, type Collection, type Db, type ObjectId } from 'mongodb';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
export type Container = 'mp4' | 'mov' | 'webm' | 'mkv';
export type Role = 'rider' | 'reference';

export interface VideoDoc {
  _id: ObjectId;
  title: string | null;
  role: Role;
  originalName: string | null;
  storedName: string;
  size: number;
  sha256: string;
  container: Container;
  createdAt: Date;
  status: JobState;
  jobId: ObjectId;
  fps: number | null;
  durationS: number | null;
  width: number | null;
  height: number | null;
  frameCount: number | null;
  riderTrackId: number | null;
  /** What ffprobe (at upload) and then the pose service's /v1/probe (at ingest) found; absent on videos from before probing. */
  probe?: VideoProbe | null;
  /** Browser-safe H.264 rendition, poster and sprite strip, under derivedDir; absent until ingest made them. */
  derivedDir?: string | null;
  rendition?: DerivedFile | null;
  poster?: DerivedFile | null;
  sprite?: DerivedFile | null;
  timing?: IngestTiming | null;
  /** The uploader (users._id); absent or null only on videos from before accounts, until start-up migration. */
  ownerId?: ObjectId | null;
}

export interface VideoProbe {
  source: 'upload' | 'ingest';
  container: string;
  codec: string | null;
  profile: string | null;
  pixFmt: string | null;
  bitDepth: number | null;
  codedWidth: number | null;
  codedHeight: number | null;
  rotation: number;
  mirrored: boolean;
  displayWidth: number | null;
  displayHeight: number | null;
  fps: number | null;
  frameRateMode: 'cfr' | 'vfr' | null;
  frameCount: number | null;
  durationS: number | null;
  hasAudio: boolean | null;
}

/** A file the ingest stage derived from the upload; `name` is relative to the uploads folder. */
export interface DerivedFile {
  name: string;
  width: number | null;
  height: number | null;
  size: number | null;
  codec?: string | null;
  /** The sprite strip's tiles: one row of `columns` tiles, tile i showing the frame at times[i]. */
  layout?: SpriteLayout | null;
}

export interface SpriteLayout {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  times: number[];
}

/** Seconds spent in each stage of the last successful job run. */
export interface IngestTiming {
  probeS: number | null;
  ingestS: number | null;
  poseS: number | null;
  totalS: number;
}

export interface JobDoc {
  _id: ObjectId;
  videoId: ObjectId;
  state: JobState;
  progress: number;
  attempts: number;
  /** Plain words for the rider (what happened, what happens next); null when nothing went wrong. */
  error: string | null;
  /** The technical cause behind `error`, for the details pane and the logs; absent on jobs from before it existed. */
  errorDetail?: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Not before this time may a worker claim it (backoff after a failed attempt). */
  runAfter: Date;
  heartbeatAt: Date | null;
  workerId: string | null;
}

/**
 * Pose frames are stored in chunks of consecutive frames, not one document per frame: a 10-minute
 * 30 fps video is 18,000 frames, and per-frame documents would mean 18,000 index entries and
 * round-trips-worth of overhead per video, while a range read (`from`/`to`) touches only a few chunks.
 * FRAMES_PER_CHUNK keeps a chunk well under MongoDB's 16 MB document limit even with several people
 * per frame and 3D keypoints (~3 KB per person). (videoId, chunk) is unique, so a retried job upserts
 * the same chunks instead of duplicating them.
 */
export const FRAMES_PER_CHUNK = 100;

export interface PoseFrame {
  index: number;
  t: number;
  persons: unknown[];
}

export interface FrameChunkDoc {
  _id?: ObjectId;
  videoId: ObjectId;
  chunk: number;
  tStart: number;
  tEnd: number;
  frames: PoseFrame[];
}

export interface MetricsDoc {
  _id: ObjectId; // the video id
  metrics: unknown;
}

export interface Collections {
  videos: Collection<VideoDoc>;
  jobs: Collection<JobDoc>;
  frames: Collection<FrameChunkDoc>;
  metrics: Collection<MetricsDoc>;
}

export interface Database {
  client: MongoClient;
  db: Db;
  collections: Collections;
}

export async function connectDatabase(uri: string, dbName: string): Promise<Database> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000, appName: 'snowboarding-backend-api' });
  await client.connect();
  const db = client.db(dbName);
  return {
    client,
    db,
    collections: {
      videos: db.collection<VideoDoc>('videos'),
      jobs: db.collection<JobDoc>('jobs'),
      frames: db.collection<FrameChunkDoc>('pose_frames'),
      metrics: db.collection<MetricsDoc>('metrics'),
    },
  };
}

/** Creates every index the queries rely on; idempotent, run at start-up. */
export async function ensureIndexes(c: Collections): Promise<void> {
  await Promise.all([
    c.videos.createIndex({ createdAt: -1, _id: -1 }),
    c.videos.createIndex({ role: 1, status: 1, createdAt: -1 }),
    c.videos.createIndex({ status: 1, createdAt: -1 }),
    // The claim query: oldest claimable queued job first.
    c.jobs.createIndex({ state: 1, runAfter: 1, createdAt: 1 }),
    // The stale-heartbeat sweep.
    c.jobs.createIndex({ state: 1, heartbeatAt: 1 }),
    c.jobs.createIndex({ videoId: 1 }),
    c.frames.createIndex({ videoId: 1, chunk: 1 }, { unique: true }),
    c.frames.createIndex({ videoId: 1, tStart: 1 }),
  ]);
}

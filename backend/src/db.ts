import { MongoClient, type Collection, type Db, type ObjectId } from 'mongodb';

export type JobState = 'queued' | 'running' | 'done' | 'failed';
export type Container = 'mp4' | 'mov' | 'webm' | 'mkv';
export type Role = 'rider' | 'reference';

export interface VideoDoc {
  _id: ObjectId;
  title: string | null;
  role: Role;
  originalName: string | null;
  /** The upload's name on the API's local uploads folder, from before media moved to GridFS (migration reads it). */
  storedName?: string | null;
  /** The uploaded file, byte for byte, in the GridFS bucket `media` (absent only on videos not migrated yet). */
  originalFileId?: ObjectId | null;
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
  /** The spin's size in degrees (|summary.max_rotation_deg|), written by the finish; null when unavailable. The library sorts on it. */
  maxRotationDeg?: number | null;
  /** What ffprobe (at upload) and then the pose service's /v1/probe (at ingest) found; absent on videos from before probing. */
  probe?: VideoProbe | null;
  /** Before GridFS: the folder of the local derived files (migration reads it; new videos never have it). */
  derivedDir?: string | null;
  /** Browser-safe H.264 rendition, poster and sprite strip in GridFS; absent until the ingest task made them. */
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

/**
 * A file the ingest task derived from the upload, stored in GridFS (`fileId`). `name` is the old local shape
 * (relative to the uploads folder), found only on videos the start-up migration has not moved yet.
 */
export interface DerivedFile {
  fileId?: ObjectId;
  name?: string;
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

export type JobStage = 'ingest' | 'analysis' | 'finish';
/** Why a job or task failed, as the pose workers classify it (the API turns it into the rider's words). */
export type ErrorKind = 'undecodable' | 'unsupported' | 'no_frames' | 'ingest_failed' | 'internal' | 'cancelled';

/** An analysis job (docs/contracts.md, "the work queue"): the API creates, retries and deletes it; pose workers move it. */
export interface JobDoc {
  _id: ObjectId;
  videoId: ObjectId;
  state: JobState;
  /** Absent on jobs from before the work queue. */
  stage?: JobStage | null;
  /** framesDone / framesTotal once known (0 before), 1 at done; never decreases. */
  progress: number;
  framesTotal?: number | null;
  framesDone?: number;
  segmentsTotal?: number | null;
  segmentsDone?: number;
  /** Failures caused by the video itself. */
  attempts: number;
  errorKind?: ErrorKind | null;
  /** Plain words for the rider; written by older APIs and by reconciliation, otherwise derived from errorKind. */
  error: string | null;
  /** The technical cause, for the details pane and the logs; absent on jobs from before it existed. */
  errorDetail?: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Fields of the retired in-API worker, still on old jobs. */
  runAfter?: Date;
  heartbeatAt?: Date | null;
  workerId?: string | null;
}

/** `export` renders a skeleton MP4 (routes/exports.ts); its jobId is the export's own id, not an analysis job's. */
export type TaskKind = 'ingest' | 'segment' | 'finish' | 'export';

/** One unit of work a pose worker claims (docs/contracts.md); the API inserts ingest tasks and deletes tasks. */
export interface TaskDoc {
  _id: ObjectId;
  jobId: ObjectId;
  videoId: ObjectId;
  kind: TaskKind;
  seq: number;
  state: JobState;
  /** The job's createdAt: FIFO across jobs. */
  priority: Date;
  frameStart?: number;
  frameEnd?: number;
  attempts: number;
  lost: number;
  runAfter: Date;
  workerId: string | null;
  leaseUntil: Date | null;
  heartbeatAt: Date | null;
  errorKind: ErrorKind | null;
  errorDetail: string | null;
  result: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** A pose worker's presence (written by the workers); live while heartbeatAt is recent. */
export interface WorkerDoc {
  _id: string;
  hostname?: string;
  pid?: number;
  backend?: string;
  device?: string;
  startedAt?: Date;
  heartbeatAt: Date;
  taskId?: ObjectId | null;
  /** Analysed frames per second, moving average; null until the worker has finished a segment. */
  framesPerSecond?: number | null;
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

/**
 * A video's metrics. Split (workers write it): summary and shape here, the per-frame series in `metric_series`
 * chunks of METRIC_FRAMES_PER_CHUNK frames, so a 30-minute clip stays far under 16 MB per document. Old
 * single documents carry the whole JSON in `metrics`.
 */
export interface MetricsDoc {
  _id: ObjectId; // the video id
  metrics?: unknown;
  summary?: unknown;
  seriesKeys?: string[];
  frames?: number;
  seriesChunks?: number;
}

export const METRIC_FRAMES_PER_CHUNK = 1_000;

export interface MetricSeriesDoc {
  _id?: ObjectId;
  videoId: ObjectId;
  chunk: number;
  t: number[];
  series: Record<string, unknown[]>;
  smoothed: Record<string, unknown[]>;
}

export interface Collections {
  videos: Collection<VideoDoc>;
  jobs: Collection<JobDoc>;
  tasks: Collection<TaskDoc>;
  workers: Collection<WorkerDoc>;
  frames: Collection<FrameChunkDoc>;
  metrics: Collection<MetricsDoc>;
  metricSeries: Collection<MetricSeriesDoc>;
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
      tasks: db.collection<TaskDoc>('tasks'),
      workers: db.collection<WorkerDoc>('workers'),
      frames: db.collection<FrameChunkDoc>('pose_frames'),
      metrics: db.collection<MetricsDoc>('metrics'),
      metricSeries: db.collection<MetricSeriesDoc>('metric_series'),
    },
  };
}

/** Creates every index the queries rely on; idempotent, run at start-up. */
export async function ensureIndexes(c: Collections): Promise<void> {
  await Promise.all([
    c.videos.createIndex({ createdAt: -1, _id: -1 }),
    c.videos.createIndex({ role: 1, status: 1, createdAt: -1 }),
    c.videos.createIndex({ status: 1, createdAt: -1 }),
    c.videos.createIndex({ maxRotationDeg: -1, createdAt: -1, _id: -1 }),
    // Queue positions: queued and running jobs by age.
    c.jobs.createIndex({ state: 1, createdAt: 1 }),
    c.jobs.createIndex({ videoId: 1 }),
    // The workers' claim, and the API's cancel/retry by job or video (the workers may create the same ones).
    c.tasks.createIndex({ state: 1, runAfter: 1, priority: 1, seq: 1 }),
    c.tasks.createIndex({ jobId: 1 }),
    c.tasks.createIndex({ videoId: 1 }),
    c.workers.createIndex({ heartbeatAt: 1 }),
    c.metricSeries.createIndex({ videoId: 1, chunk: 1 }, { unique: true }),
    c.frames.createIndex({ videoId: 1, chunk: 1 }, { unique: true }),
    c.frames.createIndex({ videoId: 1, tStart: 1 }),
  ]);
}

// Shapes from docs/contracts.md (the one source of truth for these).
import type * as Contract from './contract.gen';

export const KEYPOINT_NAMES = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
  'left_wrist', 'right_wrist', 'left_hip', 'right_hip',
  'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
] as const;
export type KeypointName = (typeof KEYPOINT_NAMES)[number];

export interface Keypoint2D { name: KeypointName | string; x: number; y: number; score: number }
export interface Keypoint3D { name: KeypointName | string; x: number; y: number; z: number }

export interface Person {
  track_id: number | null;
  bbox: [number, number, number, number];
  score: number;
  keypoints: Keypoint2D[];
  keypoints_3d: Keypoint3D[] | null;
}

export interface PoseFrame extends Omit<Contract.PoseFrame, 'persons'> { persons: Person[] }

/**
 * GET /api/videos/:id/pose (docs/schemas/api-pose.schema.json): `fps`, `width` and `height` are null when the probe
 * could not tell them (pose/frameRate.ts measures the rate from the frame times then); `partial` is true while the
 * job runs (only finished segments' frames, riderTrackId null, track ids provisional).
 */
export interface PoseResponse extends Omit<Contract.VideoPose, 'frames'> { frames: PoseFrame[] }

export type Series = Contract.SeriesValues;

export const SERIES_KEYS = [
  'left_knee_angle', 'right_knee_angle', 'left_hip_angle', 'right_hip_angle',
  'stance_width', 'upper_body_rotation', 'body_tilt', 'hip_height', 'cumulative_rotation',
] as const;
export type SeriesKey = (typeof SERIES_KEYS)[number];

export type AirborneSegment = Contract.AirborneSegment;

export type MetricsSummary = Contract.MetricsSummary;

/** The summary values that may be unavailable (summary.unavailable's keys). */
export type SummaryKey = keyof Contract.Unavailable;

/** The score threshold of docs/contracts.md (Metrics, Confidence), for metrics that do not carry it. */
export const DEFAULT_JOINT_SCORE_MIN = 0.5;

export interface Metrics {
  series: { t: number[]; smoothed?: Partial<Record<SeriesKey, Series>> } & Partial<Record<SeriesKey, Series>>;
  summary: MetricsSummary;
}

export type JobState = Contract.JobState;
/** Where a job is (issue 14): making the rendition, analysing segments, joining the results. */
export type JobStage = NonNullable<Contract.Job['stage']>;

export interface Job {
  id: string;
  videoId: string;
  state: JobState;
  progress: number;
  attempts: number;
  /** Plain words for the rider: what happened and what happens next. */
  error: string | null;
  /** The technical cause behind `error` (for the details pane); absent from older APIs. */
  errorDetail?: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  // Issue 14 (absent from older APIs): real progress, the queue and partial results.
  stage?: JobStage | null;
  /** Analysed frames finished / to analyse (known after the ingest). */
  framesDone?: number;
  framesTotal?: number | null;
  segments?: { total: number | null; done: number; running: number };
  /** Why a queued or running job cannot go on now: no live analysis worker, or the database is unreachable. */
  waiting?: 'workers' | 'database' | null;
  /** 1 = the next job to start, among queued jobs by creation time. */
  queuePosition?: number | null;
  etaS?: number | null;
  /** Some pose frames can be read (GET /pose?from&to) before the job is done. */
  partial?: boolean;
}

export type Role = Contract.Video['role'];

export interface Video {
  id: string;
  title: string | null;
  role: Role;
  originalName: string;
  size: number;
  sha256: string;
  container: 'mp4' | 'mov' | 'webm' | 'mkv';
  createdAt: string;
  status: JobState;
  job: Job | null;
  fps: number | null;
  durationS: number | null;
  /** Display size: the picture as the viewer sees it (rotation applied); pose keypoints use the same frame. */
  width: number | null;
  height: number | null;
  /** What the probe found (absent from older APIs; null before the upload was probed). */
  probe?: VideoProbe | null;
  /** Poster JPEG, once the ingest stage made it. */
  posterUrl?: string | null;
  spriteUrl?: string | null;
  /** How to cut the sprite into scrub previews: tile i (left to right) shows the frame at times[i]. */
  spriteLayout?: SpriteLayout | null;
  /** True once /stream serves the browser-safe H.264 rendition. */
  renditionReady?: boolean;
  /** Who uploaded it (issue 16); absent on the public share page and from APIs without accounts. */
  owner?: { id: string; username: string } | null;
}

export type SpriteLayout = Contract.SpriteLayout;

export type VideoProbe = Contract.Probe;

export interface VideoPage { items: Video[]; page: number; limit: number; total: number }

export interface ApiErrorBody { error: string; detail?: string }

// Issue 17/5: the hand-kept names above must equal the contract's (docs/schemas, generated into contract.gen.ts);
// a schema change that misses them fails `tsc`. Hand-written stay only the types the generated one would loosen
// or that the app builds loosely: keypoint names as plain strings in tests, the bbox as a 4-tuple, Job's
// non-null times, and Job/Video fields that older APIs leave out. The rest are aliases of the generated ones.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const CONTRACT_NAME_CHECKS: [Same<KeypointName, Contract.KeypointName>, Same<JobState, Contract.Video['status']>] =
  [true, true];

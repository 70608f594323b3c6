import { DEFAULT_JOINT_SCORE_MIN, type Keypoint2D, type Person, type PoseFrame } from '../api/types';

/** COCO-17 limbs as pairs of keypoint indices, with the body side for colouring. */
export const SKELETON_EDGES: ReadonlyArray<readonly [number, number, 'left' | 'right' | 'center']> = [
  [0, 1, 'left'], [0, 2, 'right'], [1, 3, 'left'], [2, 4, 'right'],
  [5, 6, 'center'], [5, 7, 'left'], [7, 9, 'left'], [6, 8, 'right'], [8, 10, 'right'],
  [5, 11, 'left'], [6, 12, 'right'], [11, 12, 'center'],
  [11, 13, 'left'], [13, 15, 'left'], [12, 14, 'right'], [14, 16, 'right'],
];

export const SIDE_COLORS = { left: '#38bdf8', right: '#f472b6', center: '#e2e8f0' } as const;

export interface ContainFit { scale: number; offsetX: number; offsetY: number; width: number; height: number }

/**
 * Where a videoW×videoH frame lands inside a boxW×boxH element with object-fit: contain
 * (scaled uniformly, centred, letterboxed).
 */
export function fitContain(videoW: number, videoH: number, boxW: number, boxH: number): ContainFit {
  if (videoW <= 0 || videoH <= 0 || boxW <= 0 || boxH <= 0) return { scale: 0, offsetX: 0, offsetY: 0, width: 0, height: 0 };
  const scale = Math.min(boxW / videoW, boxH / videoH);
  const width = videoW * scale;
  const height = videoH * scale;
  return { scale, offsetX: (boxW - width) / 2, offsetY: (boxH - height) / 2, width, height };
}

/**
 * How sure the pose model was of a joint: `seen` at or above the metrics' threshold (summary.joint_score_min),
 * `unsure` from half of it (the model's guess, e.g. a leg below the picture's edge: drawn faded and dashed),
 * `hidden` below that or without coordinates (not drawn). Never draw an unsure joint like a seen one.
 */
export type JointConfidence = 'seen' | 'unsure' | 'hidden';

/** Share of the threshold from which a joint is drawn as a faded guess rather than left out. */
export const UNSURE_SHARE = 0.5;

export function jointConfidence(k: Keypoint2D, minScore = DEFAULT_JOINT_SCORE_MIN): JointConfidence {
  if (!Number.isFinite(k.x) || !Number.isFinite(k.y) || !Number.isFinite(k.score)) return 'hidden';
  if (k.score >= minScore) return 'seen';
  return k.score >= minScore * UNSURE_SHARE ? 'unsure' : 'hidden';
}

/** A limb is solid only when both ends were seen, faded when either is a guess, absent when either is hidden. */
export function limbStyle(a: JointConfidence | undefined, b: JointConfidence | undefined): 'solid' | 'faded' | null {
  if (!a || !b || a === 'hidden' || b === 'hidden') return null;
  return a === 'seen' && b === 'seen' ? 'solid' : 'faded';
}

export interface ScreenPoint { x: number; y: number; visible: boolean; confidence: JointConfidence }

/** Video-pixel keypoints → element pixels; `visible` only for joints seen at or above minScore. */
export function projectKeypoints(keypoints: Keypoint2D[], fit: ContainFit, minScore = DEFAULT_JOINT_SCORE_MIN): ScreenPoint[] {
  return keypoints.map((k) => {
    const confidence = jointConfidence(k, minScore);
    return { x: fit.offsetX + k.x * fit.scale, y: fit.offsetY + k.y * fit.scale, visible: confidence === 'seen', confidence };
  });
}

/** Index of the frame whose timestamp is closest to t (frames sorted by t); -1 when there are none. */
export function nearestFrameIndex(frames: ReadonlyArray<{ t: number }>, t: number): number {
  const n = frames.length;
  if (n === 0) return -1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].t < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(frames[lo - 1].t - t) <= Math.abs(frames[lo].t - t)) return lo - 1;
  return lo;
}

/** The rider in a frame: the person with riderTrackId, else the highest-scoring person. */
export function riderOf(frame: PoseFrame | undefined, riderTrackId: number | null): Person | null {
  if (!frame || frame.persons.length === 0) return null;
  if (riderTrackId !== null) {
    const p = frame.persons.find((x) => x.track_id === riderTrackId);
    if (p) return p;
  }
  return frame.persons.reduce((best, p) => (p.score > best.score ? p : best));
}

/** Faded limbs and joints: thin, dashed, see-through, no dark halo — clearly not the solid, measured style. */
const FADED_ALPHA = 0.4;

/**
 * Draw one person's skeleton onto a 2D context already sized to the element's box: seen joints and limbs solid,
 * unsure ones faded and dashed (smaller see-through dots), hidden ones not at all. Returns how many joints got each style.
 */
export function drawSkeleton(ctx: CanvasRenderingContext2D, points: ScreenPoint[], lineWidth: number): Record<JointConfidence, number> {
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.save();
  ctx.globalAlpha = FADED_ALPHA;
  ctx.setLineDash([lineWidth * 2, lineWidth * 2]);
  for (const [a, b, side] of SKELETON_EDGES) {
    const pa = points[a];
    const pb = points[b];
    if (limbStyle(pa?.confidence, pb?.confidence) !== 'faded') continue;
    ctx.strokeStyle = SIDE_COLORS[side];
    ctx.lineWidth = Math.max(1, lineWidth * 0.6);
    ctx.beginPath();
    ctx.moveTo(pa.x, pa.y);
    ctx.lineTo(pb.x, pb.y);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.fillStyle = '#fde047';
  for (const p of points) {
    if (p.confidence !== 'unsure') continue;
    // The dot first clears what the faded limbs meeting there drew, so an unsure joint stays one see-through layer:
    // a dot over two or three dashed limbs had composited to about 0.8 alpha, next to solid on a phone-sized picture.
    ctx.globalCompositeOperation = 'destination-out';
    ctx.globalAlpha = 1;
    ctx.beginPath();
    ctx.arc(p.x, p.y, lineWidth * 0.6 + 1, 0, Math.PI * 2);
    ctx.fill();
    ctx.globalCompositeOperation = 'source-over';
    ctx.globalAlpha = FADED_ALPHA;
    ctx.beginPath();
    ctx.arc(p.x, p.y, lineWidth * 0.6 + 1, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.restore();
  for (const [a, b, side] of SKELETON_EDGES) {
    const pa = points[a];
    const pb = points[b];
    if (limbStyle(pa?.confidence, pb?.confidence) !== 'solid') continue;
    ctx.strokeStyle = 'rgba(2, 6, 23, 0.55)';
    ctx.lineWidth = lineWidth + 3;
    ctx.beginPath();
    ctx.moveTo(pa.x, pa.y);
    ctx.lineTo(pb.x, pb.y);
    ctx.stroke();
    ctx.strokeStyle = SIDE_COLORS[side];
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    ctx.moveTo(pa.x, pa.y);
    ctx.lineTo(pb.x, pb.y);
    ctx.stroke();
  }
  const counts: Record<JointConfidence, number> = { seen: 0, unsure: 0, hidden: 0 };
  for (const p of points) {
    counts[p.confidence] += 1;
    if (p.confidence !== 'seen') continue;
    ctx.fillStyle = '#fde047';
    ctx.beginPath();
    ctx.arc(p.x, p.y, lineWidth * 0.9 + 1, 0, Math.PI * 2);
    ctx.fill();
  }
  return counts;
}

/**
 * Index of the frame on screen at media time t: the last frame presented at or before t (frames sorted by their
 * true presentation times, which may be uneven: phones record variable frame rate); -1 before the first frame.
 * A video shows a frame from its presentation time until the next one's, so "nearest" would switch half a frame
 * early while playing. `tolerance` absorbs the rounding of media times reported by browsers.
 */
export function frameAtTime(frames: ReadonlyArray<{ t: number }>, t: number, tolerance = 0.002): number {
  let lo = 0;
  let hi = frames.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].t <= t + tolerance) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * Where to seek to show the frame `dir` steps away from the one at t: a quarter into that frame's display
 * interval, so the browser's rounding never lands on a neighbour. Falls back to 1/fps steps without frames.
 */
export function stepTarget(frames: ReadonlyArray<{ t: number }>, t: number, dir: 1 | -1, fps: number): number {
  const i = frameAtTime(frames, t);
  if (frames.length === 0 || (i < 0 && dir < 0)) {
    const frame = Math.round(t * fps) + dir;
    return Math.max(0, (frame + 0.25) / fps);
  }
  const j = Math.max(0, Math.min(frames.length - 1, i + dir));
  const next = frames[j + 1]?.t ?? frames[j].t + 1 / fps;
  return frames[j].t + (next - frames[j].t) / 4;
}

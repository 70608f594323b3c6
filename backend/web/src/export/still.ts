import type { PoseResponse } from '../api/types';
import type { Drawing } from '../drawing/model';
import { drawingsAt } from '../drawing/model';
import { paintDrawings } from '../drawing/paint';
import { frameRate } from '../pose/frameRate';
import { drawSkeleton, frameAtTime, projectKeypoints, riderOf, type JointConfidence } from '../pose/skeleton';

/*
 * "Still of this frame" (issue 18, item 9): the frame on screen at its own size, with the rider's skeleton in the
 * overlay's confidence styling and the drawings made on that frame, composed onto one canvas and saved as a PNG.
 */

export interface StillInput {
  /** What to draw the picture from (the player's <video>, paused on the frame). */
  source: CanvasImageSource;
  /** The frame's size in pixels (the video element's videoWidth × videoHeight). */
  width: number;
  height: number;
  /** Media time of the frame on screen. */
  t: number;
  pose: PoseResponse;
  /** Joints at or above this score are solid, from half of it faded, below hidden (summary.joint_score_min). */
  minScore?: number;
  drawings?: readonly Drawing[];
}

export interface Still {
  canvas: HTMLCanvasElement;
  /** The pose frame drawn (its index in pose.frames), -1 when the time has none. */
  frameIndex: number;
  joints: Record<JointConfidence, number> | null;
  drawings: number;
}

/** Same stroke as the player's overlay at this picture width. */
const skeletonLineWidth = (width: number) => Math.max(2, Math.min(5, width / 160));

export function composeStill(input: StillInput, canvas: HTMLCanvasElement = document.createElement('canvas')): Still {
  const { width, height, pose, t } = input;
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  ctx.drawImage(input.source, 0, 0, width, height);
  // Keypoints and drawings are pixels of the frame as displayed at the original's size; the picture may be the
  // rendition, smaller: scale both by the same factor. An original of unknown size (width null) is taken as this one.
  const scale = pose.width && pose.width > 0 ? width / pose.width : 1;
  const frameIndex = frameAtTime(pose.frames, t);
  const person = frameIndex >= 0 ? riderOf(pose.frames[frameIndex], pose.riderTrackId) : null;
  const joints = person
    ? drawSkeleton(ctx, projectKeypoints(person.keypoints, { scale, offsetX: 0, offsetY: 0, width, height }, input.minScore), skeletonLineWidth(width))
    : null;
  const shown = drawingsAt(input.drawings ?? [], t, frameRate(pose));
  paintDrawings(ctx, shown, (p) => ({ x: p.x * scale, y: p.y * scale }), { lineWidth: Math.max(2, width / 320) });
  return { canvas, frameIndex, joints, drawings: shown.length };
}

export function canvasToPng(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the picture could not be encoded'))), 'image/png'));
}

/** A download's base name from the video's title (or upload name): no extension, nothing a file system refuses. */
export function fileBase(title: string | null, originalName: string | null, id: string): string {
  const raw = (title || originalName || id).replace(/\.[A-Za-z0-9]{1,5}$/, '');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a file name
  const safe = raw.replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_').trim().slice(0, 80);
  return safe || id;
}

/** Saves a blob under a file name through a temporary link (the browser's normal download). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

import type { Point } from '../player/geometry';

/*
 * A coach's marks over a paused frame (issue 18, item 5), as the API keeps them (docs/contracts.md,
 * /api/videos/:id/drawings): points are pixels of the frame as displayed, the pose keypoints' coordinates, so the
 * marks stay on the same body part whatever the player's size, zoom or pan. Each drawing belongs to the frame it was
 * drawn on (its media time `t`).
 */

export type DrawingKind = 'line' | 'angle';
export interface Drawing { id: string; kind: DrawingKind; t: number; points: Point[]; color: string }

/** How many points each tool takes: a line's two ends; an angle's first arm end, vertex, second arm end. */
export const POINTS_PER_KIND: Record<DrawingKind, number> = { line: 2, angle: 3 };
export const DEFAULT_COLOR = '#facc15';

/** The angle at `vertex` between the arms to `a` and `b`, in degrees, 0–180; null when an arm has no length. */
export function angleDeg(a: Point, vertex: Point, b: Point): number | null {
  const ux = a.x - vertex.x;
  const uy = a.y - vertex.y;
  const vx = b.x - vertex.x;
  const vy = b.y - vertex.y;
  const nu = Math.hypot(ux, uy);
  const nv = Math.hypot(vx, vy);
  if (nu === 0 || nv === 0) return null;
  // atan2 of cross and dot: accurate near 0° and 180°, where acos loses precision.
  return (Math.abs(Math.atan2(ux * vy - uy * vx, ux * vx + uy * vy)) * 180) / Math.PI;
}

/** A drawing's label: an angle's degrees (whole), a line's length in frame pixels. */
export function drawingLabel(d: Drawing): string {
  if (d.kind === 'angle') {
    const deg = angleDeg(d.points[0], d.points[1], d.points[2]);
    return deg === null ? '—' : `${Math.round(deg)}°`;
  }
  return `${Math.round(Math.hypot(d.points[1].x - d.points[0].x, d.points[1].y - d.points[0].y))} px`;
}

/** Shortest distance from p to the segment a–b. */
export function distanceToSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const s = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + s * dx), p.y - (a.y + s * dy));
}

/** The topmost (last drawn) drawing within `tolerance` of p, among those shown; null when none. */
export function hitTest(drawings: readonly Drawing[], p: Point, tolerance: number): Drawing | null {
  for (let i = drawings.length - 1; i >= 0; i--) {
    const pts = drawings[i].points;
    for (let j = 1; j < pts.length; j++) if (distanceToSegment(p, pts[j - 1], pts[j]) <= tolerance) return drawings[i];
  }
  return null;
}

/**
 * The drawings shown at media time t: those drawn on the frame on screen then. A drawing's `t` is its frame's own
 * time, and a frame is on screen from its time until the next frame's (1/fps later), less the 2 ms by which browsers
 * may report a frame's time early (as frameAtTime in pose/skeleton.ts).
 */
export function drawingsAt(drawings: readonly Drawing[], t: number, fps: number): Drawing[] {
  const frame = 1 / (fps > 0 ? fps : 30);
  const early = 0.002;
  return drawings.filter((d) => d.t - early <= t && t < d.t + frame - early);
}

/** A new, unique-enough id for a drawing (the API takes 1–40 of [A-Za-z0-9_-]). */
export const newDrawingId = (): string => `d${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

// Partial results (issue 14): the pose frames of the finished segments of a running analysis. Segments finish
// in any order, so what is known is a set of time spans with gaps; these pure functions find the gaps (the
// windows to ask the API for next) and whether the frame on screen is analysed yet.
import type { PoseFrame } from '../api/types';
import { frameAtTime } from './skeleton';

/**
 * A gap is at least this many sampling steps with no frame. Real gaps are whole segments (≥ 100 analysed frames);
 * a variable-frame-rate stutter is a few steps, so it never reads as "not analysed yet".
 */
export const GAP_STEPS = 10;

export interface TimeWindow { from: number; to: number | null }

/** The frames of both lists, one per frame index, in time order (a window's edge frames arrive twice). */
export function mergeFrames(have: readonly PoseFrame[], incoming: readonly PoseFrame[]): PoseFrame[] {
  if (incoming.length === 0) return have as PoseFrame[];
  const byIndex = new Map<number, PoseFrame>();
  for (const f of have) byIndex.set(f.index, f);
  for (const f of incoming) byIndex.set(f.index, f);
  return [...byIndex.values()].sort((a, b) => a.t - b.t || a.index - b.index);
}

/** The usual time between analysed frames: the median step, or 1/fps before two frames are known. */
export function frameStep(frames: readonly { t: number }[], fps: number | null | undefined): number {
  if (frames.length < 2) return 1 / (fps && fps > 0 ? fps : 30);
  const steps = frames.slice(1).map((f, i) => f.t - frames[i].t).sort((a, b) => a - b);
  return Math.max(1e-3, steps[steps.length >> 1]);
}

/**
 * The time windows not analysed yet, as the API's inclusive from/to (a window starts and ends on the known frames
 * around it, so those come back twice and nothing in between is missed). `durationS` null = the end is unknown.
 */
export function missingWindows(frames: readonly { t: number }[], durationS: number | null | undefined, fps: number | null | undefined): TimeWindow[] {
  const end = durationS ?? null;
  if (frames.length === 0) return [{ from: 0, to: end }];
  const gap = GAP_STEPS * frameStep(frames, fps);
  const out: TimeWindow[] = [];
  if (frames[0].t > gap) out.push({ from: 0, to: frames[0].t });
  for (let i = 1; i < frames.length; i++) {
    if (frames[i].t - frames[i - 1].t > gap) out.push({ from: frames[i - 1].t, to: frames[i].t });
  }
  const last = frames[frames.length - 1].t;
  if (end === null || end - last > gap) out.push({ from: last, to: end });
  return out;
}

/**
 * Whether the frame shown at media time t has its pose yet: t lies inside a known span (the frame at or before
 * it is followed closely by the next known frame, or by the end of the clip), or within one step of a frame.
 * Built once per set of frames (the step is a median); the returned test runs on every presented frame.
 */
export function analysedAt(frames: readonly { t: number }[], durationS: number | null | undefined, fps: number | null | undefined): (t: number) => boolean {
  if (frames.length === 0) return () => false;
  const step = frameStep(frames, fps);
  const gap = GAP_STEPS * step;
  return (t) => {
    const i = frameAtTime(frames, t);
    if (i < 0) return frames[0].t <= gap;
    const here = frames[i].t;
    const next = frames[i + 1]?.t;
    if (t - here <= 1.5 * step) return true;
    if (next !== undefined) return next - here <= gap;
    return durationS != null && durationS - here <= gap;
  };
}

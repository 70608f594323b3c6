/** A loop over part of the clip: from the frame at `a` to the frame at `b` (media times), repeated while `on`. */
export interface LoopRange { a: number; b: number; on: boolean }

/**
 * Where a playing loop jumps back to when the frame at media time t is past its last frame (more than half a frame
 * after `b`), else null: the frame at `b` itself is shown in full before the jump.
 */
export function loopJump(loop: LoopRange | null, t: number, playing: boolean, fps: number): number | null {
  if (!loop?.on || !playing || loop.b <= loop.a) return null;
  return t > loop.b + 0.5 / (fps > 0 ? fps : 30) ? loop.a : null;
}

/** A loop from the frame at t to the current end (or the clip's end when that is not after t). */
export const loopFrom = (l: LoopRange | null, t: number, end: number): LoopRange => ({ a: t, b: l && l.b > t ? l.b : end, on: true });
/** A loop from the current start (or the clip's start when that is not before t) to the frame at t. */
export const loopTo = (l: LoopRange | null, t: number): LoopRange => ({ a: l && l.a < t ? l.a : 0, b: t, on: true });

/** A loop over part of the clip: from the frame at `a` to the frame at `b` (media times), repeated while `on`. */
export interface LoopRange { a: number; b: number; on: boolean }

/**
 * Where a playing loop jumps back to once the frame at media time t is its last one (at or past `b`), else null. The
 * jump is asked for as that frame is presented: a seek takes a frame or so, so asking any later would let the frame
 * after the range show.
 */
export function loopJump(loop: LoopRange | null, t: number, playing: boolean): number | null {
  if (!loop?.on || !playing || loop.b <= loop.a) return null;
  // A frame's reported time can be a hair before its own timestamp.
  return t >= loop.b - 0.002 ? loop.a : null;
}

/** A loop from the frame at t to the current end (or the clip's end when that is not after t). */
export const loopFrom = (l: LoopRange | null, t: number, end: number): LoopRange => ({ a: t, b: l && l.b > t ? l.b : end, on: true });
/** A loop from the current start (or the clip's start when that is not before t) to the frame at t. */
export const loopTo = (l: LoopRange | null, t: number): LoopRange => ({ a: l && l.a < t ? l.a : 0, b: t, on: true });

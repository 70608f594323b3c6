import type { AirborneSegment, Metrics, PoseFrame } from '../api/types';

/** Moments both runs can be lined up on: the jump's take-off or landing (from the airborne segments), or the clips' starts. */
export type SyncEvent = 'takeoff' | 'landing' | 'start';

export const EVENT_WORDS: Record<SyncEvent, string> = { takeoff: 'take-off', landing: 'landing', start: 'start of the clip' };

/** The jump a run is compared on: its longest airborne segment (the trick; a hop or a bump is shorter). */
export function mainJump(segments: ReadonlyArray<AirborneSegment>): AirborneSegment | null {
  let best: AirborneSegment | null = null;
  for (const s of segments) if (!best || s.end_s - s.start_s > best.end_s - best.start_s) best = s;
  return best;
}

/**
 * When the event happens in this run (seconds), or why it cannot be found. Take-off and landing need the feet
 * (summary.unavailable.airtime_s says why they were not seen) and a jump among the airborne segments.
 */
export function eventTime(m: Metrics, event: SyncEvent): { t: number; why: null } | { t: null; why: string } {
  if (event === 'start') return { t: 0, why: null };
  const jump = mainJump(m.summary.airborne_segments ?? []);
  if (!jump) {
    const feet = m.summary.unavailable?.airtime_s;
    return { t: null, why: feet ? `no ${EVENT_WORDS[event]}: ${feet}` : `no ${EVENT_WORDS[event]}: no jump found (the feet never left the ground)` };
  }
  return { t: event === 'takeoff' ? jump.start_s : jump.end_s, why: null };
}

/**
 * The frame that shows the event: the first pose frame at or after it (a segment's edge sits halfway between
 * the last ground frame and the first air frame, so this is the first frame in the air for a take-off and the
 * first frame back on the ground for a landing). -1 when there are no frames.
 */
export function eventFrame(frames: ReadonlyArray<Pick<PoseFrame, 't'>>, t: number, tolerance = 0.002): number {
  if (frames.length === 0) return -1;
  let lo = 0;
  let hi = frames.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid].t < t - tolerance) lo = mid + 1;
    else hi = mid;
  }
  return frames[lo].t >= t - tolerance ? lo : frames.length - 1;
}

/**
 * Where to seek so the browser shows frame i: a quarter into its display interval (as the player's frame
 * stepping does), so rounding of media times never lands on the neighbour.
 */
export function frameSeekTime(frames: ReadonlyArray<Pick<PoseFrame, 't'>>, i: number, fps: number): number {
  if (i < 0 || i >= frames.length) return 0;
  const next = frames[i + 1]?.t ?? frames[i].t + 1 / (fps || 30);
  return frames[i].t + (next - frames[i].t) / 4;
}

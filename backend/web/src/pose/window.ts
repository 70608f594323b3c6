// Issue 18/10: the pose of a long clip, fetched by time window as the player advances instead of all at once.
// A clip is cut into fixed windows of WINDOW_S seconds (window k covers k·W ≤ t ≤ (k+1)·W, the API's inclusive
// GET /pose?from&to); the player needs the window under the playhead, the next one as the playhead nears it (prefetched,
// so playback never waits) and the one behind near a window's start (a step back). A bounded cache keeps the most recently
// used windows and drops the rest. These are pure functions and one small class; views/usePoseWindow.ts does the I/O.
import type { PoseFrame } from '../api/types';

/**
 * Seconds per window: 150 frames at 30 fps, ~40 KB brotli of real pose JSON (about 270 B a frame): the first
 * load's share of pose stays small, and one request every 5 s of playback is nothing.
 */
export const WINDOW_S = 5;
/**
 * The next window is fetched once the playhead is this close to its start (4 s of playback at 1×, 2 s at 2×, for
 * a request that takes tens of milliseconds). At 0 s only the first window is asked: the first load stays light.
 */
export const AHEAD_S = 4;
/** The window before is fetched while the playhead is within this much of the current window's start (stepping back). */
export const BEHIND_S = 2;
/** At most this many windows are kept (80 s of clip). */
export const MAX_WINDOWS = 16;

export interface WindowOptions { size?: number; aheadS?: number; behindS?: number }

/** The window holding media time t. */
export const windowOf = (t: number, size = WINDOW_S): number => Math.max(0, Math.floor(Math.max(0, t) / size));

/** How many windows a clip of this duration has (null duration: unknown, treated as open-ended). */
export function windowCount(durationS: number | null | undefined, size = WINDOW_S): number | null {
  if (durationS == null || !Number.isFinite(durationS) || durationS <= 0) return null;
  return Math.max(1, Math.ceil(durationS / size));
}

/** The API's query for window k: from k·W to (k+1)·W seconds, inclusive (edge frames come twice; merged by index). */
export function windowRange(k: number, size = WINDOW_S): { from: number; to: number } {
  return { from: k * size, to: (k + 1) * size };
}

/**
 * The windows wanted at playhead t, most urgent first: the current one; the next one(s) whose start is within
 * AHEAD_S of t; the previous one while t is within BEHIND_S of the current window's start. None past the clip's end.
 */
export function wantedWindows(t: number, durationS: number | null | undefined, opts: WindowOptions = {}): number[] {
  const size = opts.size ?? WINDOW_S;
  const count = windowCount(durationS, size);
  const here = count === null ? windowOf(t, size) : Math.min(windowOf(t, size), count - 1);
  const out = [here];
  for (let k = here + 1; (count === null || k < count) && k * size - t <= (opts.aheadS ?? AHEAD_S); k++) out.push(k);
  if (here > 0 && t - here * size <= (opts.behindS ?? BEHIND_S)) out.push(here - 1);
  return out;
}

/**
 * A number that changes exactly when wantedWindows(t) would: the player calls this on every presented frame, so
 * it allocates nothing (no array, no string) and costs a few arithmetic operations.
 */
export function wantKey(t: number, durationS: number | null | undefined, opts: WindowOptions = {}): number {
  const size = opts.size ?? WINDOW_S;
  const count = windowCount(durationS, size);
  const here = count === null ? windowOf(t, size) : Math.min(windowOf(t, size), count - 1);
  const last = Math.floor(((opts.aheadS ?? AHEAD_S) + t) / size);
  const ahead = Math.max(0, (count === null ? last : Math.min(last, count - 1)) - here);
  const behind = here > 0 && t - here * size <= (opts.behindS ?? BEHIND_S) ? 1 : 0;
  return (here * 64 + Math.min(ahead, 31)) * 2 + behind;
}

/**
 * The windows fetched so far, at most `max`, least recently wanted dropped first (never one wanted now). `frames`
 * is every kept window's frames in time order, one per frame index, rebuilt only when a window comes or goes: the
 * player reads it on every presented frame and must not pay for the merge there.
 */
export class PoseWindowCache {
  private readonly windows = new Map<number, PoseFrame[]>();
  private merged: PoseFrame[] = [];
  constructor(readonly max = MAX_WINDOWS) {}

  has(k: number): boolean {
    return this.windows.has(k);
  }

  get size(): number {
    return this.windows.size;
  }

  /** The window indices kept, in least- to most-recently-used order. */
  keys(): number[] {
    return [...this.windows.keys()];
  }

  get frames(): readonly PoseFrame[] {
    return this.merged;
  }

  /** Marks windows as just used (Map order is the use order). */
  touch(ks: readonly number[]): void {
    for (const k of [...ks].reverse()) {
      const w = this.windows.get(k);
      if (w) {
        this.windows.delete(k);
        this.windows.set(k, w);
      }
    }
  }

  /**
   * Adds a fetched window, then drops the least recently used ones beyond `max`, keeping those in `keep` (the
   * windows wanted now). Returns whether the kept frames changed.
   */
  put(k: number, frames: PoseFrame[], keep: readonly number[] = []): boolean {
    this.windows.delete(k);
    this.windows.set(k, frames);
    this.evict(keep);
    this.rebuild();
    return true;
  }

  private evict(keep: readonly number[]): void {
    const protect = new Set(keep);
    for (const k of [...this.windows.keys()]) {
      if (this.windows.size <= this.max) break;
      if (!protect.has(k)) this.windows.delete(k);
    }
  }

  private rebuild(): void {
    const byIndex = new Map<number, PoseFrame>();
    for (const k of [...this.windows.keys()].sort((a, b) => a - b)) for (const f of this.windows.get(k)!) byIndex.set(f.index, f);
    this.merged = [...byIndex.values()].sort((a, b) => a.t - b.t || a.index - b.index);
  }
}

// Issue 18/10: the pose of a long clip, fetched by time window as the player advances instead of all at once.
// A clip is cut into fixed windows of WINDOW_S seconds (window k covers k·W ≤ t ≤ (k+1)·W, the API's inclusive
// GET /pose?from&to); the player needs the window under the playhead, the ones just ahead of it (prefetched, so
// playback never waits) and the one behind (a step back or a short scrub). A bounded cache keeps the most recently
// used windows and drops the rest. These are pure functions and one small class; views/usePoseWindow.ts does the I/O.
import type { PoseFrame } from '../api/types';

/** Seconds per window: at 30 fps, 300 frames (~60 KB of JSON before compression, ~12 KB brotli). */
export const WINDOW_S = 10;
/** Windows fetched ahead of the playhead (20 s of playback at 1×). */
export const AHEAD = 2;
/** Windows kept behind the playhead. */
export const BEHIND = 1;
/** At most this many windows are kept (about 80 s of a 30 fps clip). */
export const MAX_WINDOWS = 8;

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
 * The windows wanted at playhead t, most urgent first: the current one, then AHEAD windows ahead, then BEHIND
 * windows behind; none past the clip's end.
 */
export function wantedWindows(t: number, durationS: number | null | undefined, opts: { size?: number; ahead?: number; behind?: number } = {}): number[] {
  const size = opts.size ?? WINDOW_S;
  const count = windowCount(durationS, size);
  const here = count === null ? windowOf(t, size) : Math.min(windowOf(t, size), count - 1);
  const out = [here];
  for (let i = 1; i <= (opts.ahead ?? AHEAD); i++) if (count === null || here + i < count) out.push(here + i);
  for (let i = 1; i <= (opts.behind ?? BEHIND); i++) if (here - i >= 0) out.push(here - i);
  return out;
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

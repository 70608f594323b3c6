import { describe, expect, it } from 'vitest';
import type { PoseFrame } from '../api/types';
import { PoseWindowCache, wantedWindows, windowCount, windowOf, windowRange } from './window';

const frames = (from: number, to: number, fps = 10): PoseFrame[] => {
  const out: PoseFrame[] = [];
  for (let i = Math.ceil(from * fps); i <= Math.floor(to * fps); i++) out.push({ index: i, t: i / fps, persons: [] } as unknown as PoseFrame);
  return out;
};

describe('pose windows (issue 18/10)', () => {
  it('cuts a clip into fixed windows the API reads inclusively', () => {
    expect(windowOf(0)).toBe(0);
    expect(windowOf(9.99)).toBe(0);
    expect(windowOf(10)).toBe(1);
    expect(windowOf(-1)).toBe(0);
    expect(windowCount(120)).toBe(12);
    expect(windowCount(3)).toBe(1);
    expect(windowCount(null)).toBeNull();
    expect(windowRange(3)).toEqual({ from: 30, to: 40 });
  });

  it('wants the window under the playhead first, then the ones ahead, then the one behind, within the clip', () => {
    expect(wantedWindows(0, 120)).toEqual([0, 1, 2]);
    expect(wantedWindows(35, 120)).toEqual([3, 4, 5, 2]);
    expect(wantedWindows(115, 120)).toEqual([11, 10]);
    expect(wantedWindows(500, 120)).toEqual([11, 10]); // past the end: the last window
    expect(wantedWindows(2, 3)).toEqual([0]); // a short clip is one request
    expect(wantedWindows(25, null)).toEqual([2, 3, 4, 1]); // duration unknown: open-ended
  });

  it('keeps at most max windows, drops the least recently used but never one wanted now, and merges edge frames once', () => {
    const cache = new PoseWindowCache(3);
    cache.put(0, frames(0, 10));
    cache.put(1, frames(10, 20));
    expect(cache.frames).toHaveLength(201); // frame 100 (t = 10) came in both windows
    expect(cache.frames.map((f) => f.t)).toEqual([...cache.frames.map((f) => f.t)].sort((a, b) => a - b));
    cache.put(2, frames(20, 30));
    cache.touch([0]); // window 0 used again: window 1 is now the oldest
    cache.put(3, frames(30, 40), [3]);
    expect(cache.keys().sort()).toEqual([0, 2, 3]);
    // Wanted windows survive even when they are the oldest.
    cache.put(4, frames(40, 50), [0, 2, 4]);
    expect(cache.keys().sort()).toEqual([0, 2, 4]);
    expect(cache.size).toBe(3);
    expect(cache.has(3)).toBe(false);
  });
});

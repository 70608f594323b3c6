import { describe, expect, it } from 'vitest';
import type { PoseFrame } from '../api/types';
import { PoseWindowCache, wantedWindows, wantKey, windowCount, windowOf, windowRange } from './window';

const frames = (from: number, to: number, fps = 10): PoseFrame[] => {
  const out: PoseFrame[] = [];
  for (let i = Math.ceil(from * fps); i <= Math.floor(to * fps); i++) out.push({ index: i, t: i / fps, persons: [] } as unknown as PoseFrame);
  return out;
};

// The tests spell out the window size and lead they assume (the shipped constants may be tuned).
const O = { size: 10, aheadS: 6, behindS: 2 };

describe('pose windows (issue 18/10)', () => {
  it('cuts a clip into fixed windows the API reads inclusively', () => {
    expect(windowOf(0, 10)).toBe(0);
    expect(windowOf(9.99, 10)).toBe(0);
    expect(windowOf(10, 10)).toBe(1);
    expect(windowOf(-1, 10)).toBe(0);
    expect(windowCount(120, 10)).toBe(12);
    expect(windowCount(3, 10)).toBe(1);
    expect(windowCount(null, 10)).toBeNull();
    expect(windowRange(3, 10)).toEqual({ from: 30, to: 40 });
  });

  it('wants the window under the playhead, the next one as the playhead nears it, and the one before near its start', () => {
    expect(wantedWindows(0, 120, O)).toEqual([0]); // the first load asks one window
    expect(wantedWindows(3.9, 120, O)).toEqual([0]);
    expect(wantedWindows(4, 120, O)).toEqual([0, 1]); // 6 s before window 1 starts
    expect(wantedWindows(31, 120, O)).toEqual([3, 2]); // just after a seek into window 3: a step back is near
    expect(wantedWindows(35, 120, O)).toEqual([3, 4]);
    expect(wantedWindows(115, 120, O)).toEqual([11]);
    expect(wantedWindows(500, 120, O)).toEqual([11]); // past the end: the last window
    expect(wantedWindows(2, 3, O)).toEqual([0]); // a short clip is one request
    expect(wantedWindows(25, null, O)).toEqual([2, 3]); // duration unknown: open-ended
    expect(wantedWindows(8, 120, { size: 5, aheadS: 6 })).toEqual([1, 2]);
    expect(wantedWindows(9.5, 120, { size: 5, aheadS: 6 })).toEqual([1, 2, 3]);
  });

  it('changes its key exactly where the wanted windows change', () => {
    let last = wantKey(0, 120, O);
    let lastWanted = JSON.stringify(wantedWindows(0, 120, O));
    for (let t = 0; t <= 120; t += 0.05) {
      const k = wantKey(t, 120, O);
      const w = JSON.stringify(wantedWindows(t, 120, O));
      expect(k !== last, `t=${t.toFixed(2)}`).toBe(w !== lastWanted);
      last = k;
      lastWanted = w;
    }
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

import { describe, expect, it } from 'vitest';
import type { PoseFrame } from '../api/types';
import { analysedAt, frameStep, mergeFrames, missingWindows } from './partial';

// 24 fps, 72 frames (3 s), cut into three parts of 24 frames: 0..23, 24..47, 48..71.
const frame = (i: number): PoseFrame => ({ index: i, t: i / 24, persons: [] });
const part = (k: number) => Array.from({ length: 24 }, (_, j) => frame(k * 24 + j));

describe('partial pose frames', () => {
  it('merges windows by frame index, in time order, edge frames once', () => {
    const merged = mergeFrames(part(2), [...part(0), frame(48)]);
    expect(merged.map((f) => f.index)).toEqual([...part(0), ...part(2)].map((f) => f.index));
  });

  it('asks for the whole clip before any frame is known', () => {
    expect(missingWindows([], 3, 24)).toEqual([{ from: 0, to: 3 }]);
    expect(missingWindows([], null, null)).toEqual([{ from: 0, to: null }]);
  });

  it('asks only for the gaps left by parts that finished out of order', () => {
    // The last part finished first: the start is missing.
    expect(missingWindows(part(2), 3, 24)).toEqual([{ from: 0, to: 2 }]);
    // First and last done: the middle.
    expect(missingWindows([...part(0), ...part(2)], 3, 24)).toEqual([{ from: 23 / 24, to: 2 }]);
    // First done: the rest up to the end.
    expect(missingWindows(part(0), 3, 24)).toEqual([{ from: 23 / 24, to: 3 }]);
    expect(missingWindows([...part(0), ...part(1), ...part(2)], 3, 24)).toEqual([]);
  });

  it('does not read a short stutter of a variable-frame-rate clip as a gap', () => {
    const vfr = [...part(0)];
    vfr.splice(10, 3); // 4 frame times without a frame: a dropped-frames stutter
    expect(frameStep(vfr, 24)).toBeCloseTo(1 / 24);
    expect(missingWindows(vfr, 1, 24)).toEqual([]);
  });

  it('knows which media times are analysed', () => {
    const isAnalysed = analysedAt([...part(0), ...part(2)], 3, 24);
    expect(isAnalysed(0.5)).toBe(true);
    expect(isAnalysed(23 / 24 + 0.01)).toBe(true); // still the last frame of part 0 on screen
    expect(isAnalysed(1.5)).toBe(false); // part 1 is still running
    expect(isAnalysed(2.5)).toBe(true);
    expect(isAnalysed(2.99)).toBe(true); // the last frame lasts to the end of the clip
    expect(analysedAt(part(2), 3, 24)(0.2)).toBe(false);
    expect(analysedAt([], 3, 24)(1)).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import type { PoseFrame, Person } from '../api/types';
import { fitContain, frameAtTime, nearestFrameIndex, projectKeypoints, riderOf, SKELETON_EDGES, stepTarget } from './skeleton';

describe('fitContain', () => {
  it('letterboxes a wide video inside a taller box, centred vertically', () => {
    expect(fitContain(1920, 1080, 640, 640)).toEqual({ scale: 1 / 3, offsetX: 0, offsetY: 140, width: 640, height: 360 });
  });
  it('pillarboxes a portrait video inside a wide box, centred horizontally', () => {
    const f = fitContain(1080, 1920, 1280, 720);
    expect(f.scale).toBeCloseTo(0.375);
    expect(f.offsetX).toBeCloseTo((1280 - 405) / 2);
    expect(f.offsetY).toBe(0);
  });
  it('returns a zero fit for unknown sizes instead of NaN', () => {
    expect(fitContain(0, 0, 100, 100).scale).toBe(0);
  });
});

describe('projectKeypoints', () => {
  it('maps video pixels to element pixels and hides low-confidence points', () => {
    const fit = fitContain(200, 100, 400, 400); // scale 2, offsetY 100
    const pts = projectKeypoints(
      [
        { name: 'nose', x: 50, y: 25, score: 0.9 },
        { name: 'left_eye', x: 10, y: 10, score: 0.1 },
      ],
      fit,
    );
    expect(pts[0]).toEqual({ x: 100, y: 150, visible: true });
    expect(pts[1].visible).toBe(false);
  });
});

describe('nearestFrameIndex', () => {
  const frames = [0, 0.1, 0.2, 0.4].map((t) => ({ t }));
  it.each([
    [-1, 0],
    [0, 0],
    [0.04, 0],
    [0.06, 1],
    [0.29, 2],
    [0.31, 3],
    [9, 3],
  ])('t=%s → frame %s', (t, idx) => expect(nearestFrameIndex(frames, t)).toBe(idx));
  it('prefers the earlier frame on an exact tie', () => expect(nearestFrameIndex(frames, 0.3)).toBe(2));
  it('is -1 without frames', () => expect(nearestFrameIndex([], 1)).toBe(-1));
  it('handles sampled (non-uniform) timestamps over many frames', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ t: i / 10 + (i % 3) * 0.01 }));
    expect(nearestFrameIndex(many, 50.02)).toBe(500);
  });
});

describe('riderOf', () => {
  const person = (track_id: number | null, score: number): Person => ({ track_id, score, bbox: [0, 0, 1, 1], keypoints: [], keypoints_3d: null });
  const frame: PoseFrame = { index: 0, t: 0, persons: [person(1, 0.5), person(2, 0.9)] };
  it('picks the rider track when present', () => expect(riderOf(frame, 1)?.track_id).toBe(1));
  it('falls back to the best-scoring person', () => expect(riderOf(frame, 7)?.track_id).toBe(2));
  it('is null for an empty frame', () => expect(riderOf({ ...frame, persons: [] }, 1)).toBeNull());
});

it('skeleton edges only reference COCO-17 indices', () => {
  for (const [a, b] of SKELETON_EDGES) {
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeLessThan(17);
  }
});

describe('frameAtTime (the frame on screen at a media time)', () => {
  // Variable frame rate: uneven intervals, as phones record.
  const frames = [0, 0.03, 0.07, 0.1, 0.15, 0.2].map((t, index) => ({ index, t }));
  it('picks the last frame presented at or before t, never the next one early', () => {
    expect(frameAtTime(frames, 0)).toBe(0);
    expect(frameAtTime(frames, 0.027)).toBe(0);
    expect(frameAtTime(frames, 0.03)).toBe(1);
    expect(frameAtTime(frames, 0.066)).toBe(1); // nearest would say 2
    expect(frameAtTime(frames, 0.147)).toBe(3);
    expect(frameAtTime(frames, 5)).toBe(5);
  });
  it('absorbs media-time rounding just below a frame time, and is -1 before the first frame', () => {
    expect(frameAtTime(frames, 0.0699)).toBe(2);
    expect(frameAtTime([{ t: 0.5 }], 0.1)).toBe(-1);
    expect(frameAtTime([], 1)).toBe(-1);
  });
  it('agrees with a linear scan on many random sorted times', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const ts: { t: number }[] = [];
    let t = 0;
    for (let i = 0; i < 500; i++) ts.push({ t: (t += 0.01 + rnd() * 0.05) });
    for (let k = 0; k < 200; k++) {
      const q = rnd() * (t + 0.1);
      let expected = -1;
      ts.forEach((f, i) => { if (f.t <= q + 0.002) expected = i; });
      expect(frameAtTime(ts, q)).toBe(expected);
    }
  });
});

describe('stepTarget', () => {
  const frames = [0, 0.03, 0.07, 0.1].map((t, index) => ({ index, t }));
  it('lands inside the neighbouring frame by its true times', () => {
    expect(frameAtTime(frames, stepTarget(frames, 0.031, 1, 30))).toBe(2);
    expect(frameAtTime(frames, stepTarget(frames, 0.08, -1, 30))).toBe(1);
    expect(frameAtTime(frames, stepTarget(frames, 0.1, 1, 30))).toBe(3); // stays on the last frame
    expect(frameAtTime(frames, stepTarget(frames, 0, -1, 30))).toBe(0);
  });
});

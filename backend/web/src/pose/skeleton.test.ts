import { describe, expect, it } from 'vitest';
import type { PoseFrame, Person } from '../api/types';
import { drawSkeleton, fitContain, frameAtTime, jointConfidence, limbStyle, nearestFrameIndex, projectKeypoints, riderOf, SKELETON_EDGES, stepTarget } from './skeleton';

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
    expect(pts[0]).toEqual({ x: 100, y: 150, visible: true, confidence: 'seen' });
    expect(pts[1].visible).toBe(false);
    expect(pts[1].confidence).toBe('hidden');
  });
});

describe('confidence (issue 18)', () => {
  const k = (score: number, x = 1) => ({ name: 'left_knee', x, y: 1, score });
  it('is seen at the threshold, a faded guess from half of it, hidden below', () => {
    expect(jointConfidence(k(0.5))).toBe('seen');
    expect(jointConfidence(k(0.49))).toBe('unsure');
    expect(jointConfidence(k(0.25))).toBe('unsure');
    expect(jointConfidence(k(0.24))).toBe('hidden');
    expect(jointConfidence(k(0.9, Number.NaN))).toBe('hidden');
    expect(jointConfidence(k(0.7), 0.8)).toBe('unsure');
  });
  it('draws a limb solid only when both ends were seen', () => {
    expect(limbStyle('seen', 'seen')).toBe('solid');
    expect(limbStyle('seen', 'unsure')).toBe('faded');
    expect(limbStyle('unsure', 'unsure')).toBe('faded');
    expect(limbStyle('seen', 'hidden')).toBeNull();
    expect(limbStyle(undefined, 'seen')).toBeNull();
  });
  it('never paints an unsure joint or limb in the solid style', () => {
    const calls: { op: string; alpha: number; dash: number }[] = [];
    let alpha = 1;
    let dash: number[] = [];
    let composite = 'source-over';
    const stack: [number, string][] = [];
    const ctx = {
      set globalAlpha(v: number) { alpha = v; },
      get globalAlpha() { return alpha; },
      set globalCompositeOperation(v: string) { composite = v; },
      get globalCompositeOperation() { return composite; },
      save: () => stack.push([alpha, composite]),
      restore: () => { [alpha, composite] = stack.pop() ?? [1, 'source-over']; dash = []; },
      setLineDash: (d: number[]) => { dash = d; },
      beginPath() {}, moveTo() {}, lineTo() {}, arc() {},
      stroke: () => calls.push({ op: 'stroke', alpha, dash: dash.length }),
      // A fill that erases (destination-out) paints nothing: recorded apart from the painting ones.
      fill: () => calls.push({ op: composite === 'destination-out' ? 'erase' : 'fill', alpha, dash: dash.length }),
    } as unknown as CanvasRenderingContext2D;
    const fit = fitContain(100, 100, 100, 100);
    // Torso seen, legs guessed (a waist-up clip): shoulders 5 6, hips 11 12 solid; knees/ankles 13-16 unsure.
    const kps = Array.from({ length: 17 }, (_, i) => ({ name: String(i), x: i * 5, y: i * 5, score: i >= 13 ? 0.3 : 0.9 }));
    const counts = drawSkeleton(ctx, projectKeypoints(kps, fit), 3);
    expect(counts).toEqual({ seen: 13, unsure: 4, hidden: 0 });
    // Each unsure dot first clears the faded limbs under it (no layers adding up to nearly solid there).
    expect(calls.filter((c) => c.op === 'erase')).toHaveLength(4);
    const painted = calls.filter((c) => c.op !== 'erase');
    const solid = painted.filter((c) => c.alpha === 1);
    const faded = painted.filter((c) => c.alpha < 1);
    // 4 leg limbs faded and dashed + 4 see-through knee/ankle dots; 12 solid limbs (halo + colour) + 13 dots.
    expect(faded.filter((c) => c.op === 'stroke' && c.dash > 0)).toHaveLength(4);
    expect(faded.filter((c) => c.op === 'fill')).toHaveLength(4);
    expect(faded).toHaveLength(8);
    expect(solid.filter((c) => c.op === 'fill')).toHaveLength(13);
    expect(solid.filter((c) => c.op === 'stroke')).toHaveLength(12 * 2);
    expect(solid.every((c) => c.dash === 0)).toBe(true);
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

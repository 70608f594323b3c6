import { describe, expect, it } from 'vitest';
import { frameRate } from './frameRate';

const frames = (n: number, fps: number, from = 0) => Array.from({ length: n }, (_, i) => ({ t: (from + i) / fps }));

describe('frame rate of a pose answer', () => {
  it('is the answer’s fps when the API knows it, else the video’s', () => {
    expect(frameRate({ fps: 24, frames: frames(10, 30) })).toBe(24);
    expect(frameRate({ fps: null, frames: frames(10, 30) }, 25)).toBe(25);
    expect(frameRate({ fps: 24, frames: [] }, 25)).toBe(24);
  });

  it('with fps null, is measured from the frame times, not guessed', () => {
    expect(frameRate({ fps: null, frames: frames(10, 24) })).toBeCloseTo(24, 6);
    expect(frameRate({ fps: null, frames: frames(10, 60) }, null)).toBeCloseTo(60, 6);
    // Two time windows with a gap between them (the windowed player keeps a few): the median step still says 50.
    expect(frameRate({ fps: null, frames: [...frames(20, 50), ...frames(20, 50, 500)] })).toBeCloseTo(50, 6);
    // A variable-frame-rate stutter (one late frame) does not move it.
    const vfr = frames(30, 30).map((f, i) => (i === 12 ? { t: f.t + 0.02 } : f));
    expect(frameRate({ fps: null, frames: vfr })).toBeCloseTo(30, 6);
  });

  it('is 30 when nothing says it (no fps, fewer than two frames, no pose)', () => {
    expect(frameRate({ fps: null, frames: frames(1, 24) })).toBe(30);
    expect(frameRate(null)).toBe(30);
    expect(frameRate(null, 0)).toBe(30);
  });
});

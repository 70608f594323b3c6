import { describe, expect, it } from 'vitest';
import { fitContain } from '../pose/skeleton';
import { clampView, frameToStage, IDENTITY_VIEW, MAX_ZOOM, panBy, stageToFrame, zoomAt } from './geometry';

// A portrait phone clip (1080×1920 as displayed) in a 360×640 stage: it fills it exactly (scale 1/3).
const fit = fitContain(1080, 1920, 360, 640);
// A landscape clip in the same stage: letterboxed, 202.5 px tall, centred.
const wide = fitContain(1920, 1080, 360, 640);

describe('screen ↔ frame mapping', () => {
  it('is the contain fit at zoom 1', () => {
    expect(stageToFrame({ x: 180, y: 320 }, IDENTITY_VIEW, fit)).toEqual({ x: 540, y: 960 });
    expect(frameToStage({ x: 0, y: 0 }, IDENTITY_VIEW, wide)).toEqual({ x: 0, y: 218.75 });
    expect(frameToStage({ x: 1920, y: 1080 }, IDENTITY_VIEW, wide)).toEqual({ x: 360, y: 421.25 });
  });

  it('round-trips under zoom and pan', () => {
    const v = { zoom: 2.5, panX: -123, panY: -456 };
    for (const p of [{ x: 0, y: 0 }, { x: 1079, y: 1919 }, { x: 333.3, y: 77.7 }]) {
      const back = stageToFrame(frameToStage(p, v, wide), v, wide);
      expect(back.x).toBeCloseTo(p.x, 9);
      expect(back.y).toBeCloseTo(p.y, 9);
    }
  });

  it('keeps the picture point under the pointer when zooming there', () => {
    const at = { x: 100, y: 500 };
    const before = stageToFrame(at, IDENTITY_VIEW, fit);
    const v = zoomAt(IDENTITY_VIEW, 3, at, 360, 640);
    expect(v.zoom).toBe(3);
    const after = stageToFrame(at, v, fit);
    expect(after.x).toBeCloseTo(before.x, 9);
    expect(after.y).toBeCloseTo(before.y, 9);
    // Twice 2× at the same point = 4× with the same point still under it.
    const twice = zoomAt(zoomAt(IDENTITY_VIEW, 2, at, 360, 640), 2, at, 360, 640);
    expect(twice.zoom).toBe(4);
    expect(stageToFrame(at, twice, fit).x).toBeCloseTo(before.x, 9);
  });

  it('a point drawn at 4× and the same point at 1× mark the same frame pixel', () => {
    const v = zoomAt(IDENTITY_VIEW, 4, { x: 200, y: 300 }, 360, 640);
    const frame = stageToFrame({ x: 50, y: 60 }, v, fit);
    const onScreen = frameToStage(frame, IDENTITY_VIEW, fit);
    expect(onScreen.x).toBeCloseTo(v.panX / -4 + 50 / 4, 9);
    expect(onScreen.y).toBeCloseTo(v.panY / -4 + 60 / 4, 9);
  });
});

describe('clampView', () => {
  it('keeps the zoom within 1..MAX and the picture covering the stage', () => {
    expect(clampView({ zoom: 0.2, panX: 50, panY: 50 }, 360, 640)).toEqual({ zoom: 1, panX: 0, panY: 0 });
    expect(clampView({ zoom: 100, panX: 0, panY: 0 }, 360, 640).zoom).toBe(MAX_ZOOM);
    // At 2×, the layer is 720×1280: pan runs from -360 to 0 across, -640 to 0 down.
    expect(clampView({ zoom: 2, panX: -1000, panY: 20 }, 360, 640)).toEqual({ zoom: 2, panX: -360, panY: 0 });
    expect(clampView({ zoom: Number.NaN, panX: Number.NaN, panY: 0 }, 360, 640)).toEqual({ zoom: 1, panX: 0, panY: 0 });
  });
  it('panning at 1× does nothing; zoomed it moves, up to the edge', () => {
    expect(panBy(IDENTITY_VIEW, 40, 40, 360, 640)).toEqual(IDENTITY_VIEW);
    const v = { zoom: 2, panX: -100, panY: -100 };
    expect(panBy(v, 30, -20, 360, 640)).toEqual({ zoom: 2, panX: -70, panY: -120 });
    expect(panBy(v, 500, 500, 360, 640)).toEqual({ zoom: 2, panX: 0, panY: 0 });
  });
});

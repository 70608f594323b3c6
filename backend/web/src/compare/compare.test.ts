import { describe, expect, it } from 'vitest';
import type { Keypoint2D, Metrics } from '../api/types';
import { differences, valueAt } from './differences';
import { eventFrame, eventTime, frameSeekTime, mainJump } from './events';
import { bodyFrame, placeGhost } from './ghost';
import { clampToClip, describeOffset, offsetSeconds, referenceRate, referenceTime, riderTime, syncedTime, type SyncMapping } from './sync';

const t24 = Array.from({ length: 72 }, (_, i) => +(i / 24).toFixed(4));

function metrics(over: Partial<Metrics['summary']> = {}, series: Partial<Record<string, (number | null)[]>> = {}): Metrics {
  return {
    series: { t: t24, ...series },
    summary: {
      max_rotation_deg: 540, rotation_direction: 'clockwise', airtime_s: 0.8, airborne_segments: [{ start_s: 1, end_s: 1.8 }],
      stance: 'regular', min_knee_angle_deg: 110, frames_analysed: 72, frames_with_rider: 72, unavailable: {}, ...over,
    },
  };
}
const flat = (v: number | null) => t24.map(() => v);

describe('events', () => {
  it('takes the longest airborne segment as the jump', () => {
    expect(mainJump([{ start_s: 0.2, end_s: 0.35 }, { start_s: 1, end_s: 1.8 }, { start_s: 2, end_s: 2.2 }])).toEqual({ start_s: 1, end_s: 1.8 });
    expect(mainJump([])).toBeNull();
  });

  it('finds take-off and landing, or says why not', () => {
    expect(eventTime(metrics(), 'takeoff')).toEqual({ t: 1, why: null });
    expect(eventTime(metrics(), 'landing')).toEqual({ t: 1.8, why: null });
    expect(eventTime(metrics(), 'start')).toEqual({ t: 0, why: null });
    expect(eventTime(metrics({ airborne_segments: [], airtime_s: null, unavailable: { airtime_s: 'feet not visible' } }), 'takeoff')).toEqual({ t: null, why: 'no take-off: feet not visible' });
    expect(eventTime(metrics({ airborne_segments: [] }), 'landing').why).toMatch(/no landing: no jump found/);
  });

  it('maps an event to the first frame at or after it, and seeks a quarter into that frame', () => {
    const frames = t24.map((t) => ({ t }));
    expect(eventFrame(frames, 1)).toBe(24);
    expect(eventFrame(frames, 0.98)).toBe(24); // halfway between frames 23 and 24
    expect(eventFrame(frames, 99)).toBe(71);
    expect(eventFrame([], 1)).toBe(-1);
    expect(frameSeekTime(frames, 24, 24)).toBeCloseTo(1 + 1 / 96, 4);
    expect(frameSeekTime(frames, 71, 24)).toBeCloseTo(t24[71] + 1 / 96, 4);
  });
});

describe('sync', () => {
  const map: SyncMapping = { kind: 'anchor', rider: 1, reference: 0.5, offsetS: 0 };
  it('lines the reference up on the anchors at the same speed, and inverts', () => {
    expect(referenceTime(map, 1)).toBe(0.5);
    expect(referenceTime(map, 2)).toBe(1.5);
    expect(referenceTime({ ...map, offsetS: 2 / 24 }, 1)).toBeCloseTo(0.5 + 2 / 24, 6);
    expect(riderTime({ ...map, offsetS: 0.1 }, referenceTime({ ...map, offsetS: 0.1 }, 1.7))).toBeCloseTo(1.7, 9);
    expect(referenceRate(map, 0.5)).toBe(0.5);
  });

  it('keeps the whole-clip mode (both start and end together)', () => {
    const p: SyncMapping = { kind: 'progress', riderDuration: 3, referenceDuration: 6, offsetS: 0 };
    expect(referenceTime(p, 1.5)).toBe(3);
    expect(riderTime(p, 3)).toBe(1.5);
    expect(referenceRate(p, 1)).toBe(2);
    expect(syncedTime(1.5, 3, 6)).toBe(3);
    expect(syncedTime(5, 3, 6)).toBe(6);
    expect(syncedTime(1, 0, 6)).toBe(0);
  });

  it('clamps to the clip and says which side fell outside', () => {
    expect(clampToClip(-0.2, 3)).toEqual({ t: 0, outside: 'before' });
    expect(clampToClip(3.5, 3)).toEqual({ t: 3, outside: 'after' });
    expect(clampToClip(1, 3)).toEqual({ t: 1, outside: null });
  });

  it('turns frames and milliseconds into seconds and words', () => {
    expect(offsetSeconds(2, 10, 24)).toBeCloseTo(2 / 24 + 0.01, 9);
    expect(describeOffset(0, 0, 24)).toBe('no offset');
    expect(describeOffset(2, 0, 24)).toBe('+2 frames = +83 ms');
    expect(describeOffset(-1, 0, 24)).toBe('−1 frame = −42 ms');
    expect(describeOffset(0, -10, 24)).toBe('−10 ms');
    expect(describeOffset(1, 10, 24)).toBe('+1 frame +10 ms = +52 ms');
  });
});

describe('differences', () => {
  it('reads a series at the nearest sample, or a seen neighbour within two samples', () => {
    const v = flat(170);
    v[24] = null;
    v[23] = 150;
    const m = metrics({}, { left_knee_angle: v });
    expect(valueAt(m, 'left_knee_angle', 1)).toBe(150);
    expect(valueAt(metrics({}, { left_knee_angle: flat(null) }), 'left_knee_angle', 1)).toBeNull();
  });

  it('says how the rider differs at each run\'s own take-off, in words and numbers', () => {
    // The rider bends to 120° at take-off (1.0 s); the reference, whose take-off is at 0.5 s, to 144°.
    const rk = flat(170); rk[24] = 120;
    const fk = flat(170); fk[12] = 144;
    const rider = metrics({}, { left_knee_angle: rk, right_knee_angle: rk });
    const reference = metrics({ max_rotation_deg: 630, airtime_s: 0.7, min_knee_angle_deg: 100, stance: 'goofy', airborne_segments: [{ start_s: 0.5, end_s: 1.2 }] }, { left_knee_angle: fk, right_knee_angle: fk });
    const d = Object.fromEntries(differences(rider, reference).map((x) => [x.key, x]));
    expect(d.knee_flex_takeoff.diff).toBe(24);
    expect(d.knee_flex_takeoff.text).toBe('you flex 24° more at take-off (60° vs 36°)');
    expect(d.rotation.text).toBe('rotation 90° less than the reference (540° vs 630°)');
    expect(d.deepest_flex.text).toBe('your deepest flex is 10° less than the reference\'s (70° vs 80°)');
    expect(d.airtime.text).toBe('you are in the air 0.10 s longer than the reference (0.80 s vs 0.70 s)');
    expect(d.knee_flex_landing.text).toBe('the same knee flex at landing (10° vs 10°)');
    expect(d.stance.text).toBe('you ride regular, the reference goofy');
  });

  it('says a metric is unavailable, and why, instead of a number', () => {
    const rider = metrics({ min_knee_angle_deg: null, airtime_s: null, airborne_segments: [], stance: null, unavailable: { min_knee_angle_deg: 'legs not visible', airtime_s: 'feet not visible', stance: 'feet not visible' } }, { left_knee_angle: flat(null), right_knee_angle: flat(null), upper_body_rotation: flat(10) });
    const reference = metrics({}, { left_knee_angle: flat(150), right_knee_angle: flat(150), upper_body_rotation: flat(30) });
    const d = Object.fromEntries(differences(rider, reference).map((x) => [x.key, x]));
    expect(d.knee_flex_takeoff.diff).toBeNull();
    expect(d.knee_flex_takeoff.unavailable).toBe('legs not visible in your run');
    expect(d.deepest_flex.text).toBe('not available: legs not visible in your run');
    expect(d.airtime.unavailable).toBe('feet not visible in your run');
    // Shoulder turn needs only the torso, but "at take-off" needs the take-off, which needs the feet.
    expect(d.windup_takeoff.unavailable).toBe('no take-off: feet not visible in your run');
    expect(d.stance.unavailable).toBe('feet not visible in your run');
    expect(d.rotation.diff).toBe(0);
    expect(d.rotation.text).toBe('the same rotation (540° vs 540°)');
  });
});

describe('ghost placement', () => {
  const kp = (pts: [number, number][], score = 0.9): Keypoint2D[] => Array.from({ length: 17 }, (_, i) => ({ name: String(i), x: pts[i]?.[0] ?? 0, y: pts[i]?.[1] ?? 0, score }));
  // shoulders at y=0, hips at y=100 (torso 100 px), centred on x=50
  const body = (x: number, y: number, s: number) => {
    const p: [number, number][] = [];
    p[5] = [x - 20 * s, y - 100 * s]; p[6] = [x + 20 * s, y - 100 * s]; p[11] = [x - 10 * s, y]; p[12] = [x + 10 * s, y];
    for (let i = 0; i < 17; i++) p[i] ??= [x, y];
    return p;
  };
  const fit = (scale: number, offsetX = 0, offsetY = 0) => ({ scale, offsetX, offsetY, width: 0, height: 0 });

  it('measures the hip centre and torso only from seen joints', () => {
    expect(bodyFrame(kp(body(50, 200, 1)))).toEqual({ x: 50, y: 200, torso: 100 });
    expect(bodyFrame(kp(body(50, 200, 1), 0.3))).toBeNull();
  });

  it('puts the reference hips on the rider\'s hips at the rider\'s size, or as filmed', () => {
    const ref = kp(body(100, 300, 2)); // torso 200 px in the reference frame
    const rider = kp(body(40, 150, 0.5)); // torso 50 px in the rider frame
    const g = placeGhost(ref, fit(0.5), rider, fit(2, 10, 0), true);
    expect(g.aligned).toBe(true);
    // reference hip centre lands on the rider's, on screen: 10 + 40×2 = 90, 150×2 = 300; torso 50×2 = 100 px
    expect(100 * g.scale + g.dx).toBeCloseTo(90, 9);
    expect(300 * g.scale + g.dy).toBeCloseTo(300, 9);
    expect(200 * g.scale).toBeCloseTo(100, 9);
    expect(placeGhost(ref, fit(0.5, 3, 4), rider, fit(2), false)).toEqual({ scale: 0.5, dx: 3, dy: 4, aligned: false });
    expect(placeGhost(ref, fit(0.5), null, fit(2), true).aligned).toBe(false);
  });
});

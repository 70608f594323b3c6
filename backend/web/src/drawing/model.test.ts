import { describe, expect, it, vi } from 'vitest';
import { angleDeg, drawingLabel, drawingsAt, hitTest, type Drawing } from './model';
import { paintDrawings } from './paint';

const angle = (a: [number, number], v: [number, number], b: [number, number]) =>
  angleDeg({ x: a[0], y: a[1] }, { x: v[0], y: v[1] }, { x: b[0], y: b[1] });

describe('angleDeg', () => {
  it('measures the angle at the vertex, 0–180°, whichever way round', () => {
    expect(angle([1, 0], [0, 0], [0, 1])).toBeCloseTo(90, 9);
    expect(angle([0, 1], [0, 0], [1, 0])).toBeCloseTo(90, 9);
    expect(angle([1, 0], [0, 0], [-1, 0])).toBeCloseTo(180, 9);
    expect(angle([1, 0], [0, 0], [2, 0])).toBeCloseTo(0, 9);
    expect(angle([1, 0], [0, 0], [1, 1])).toBeCloseTo(45, 9);
    expect(angle([1, 0], [0, 0], [-1, -Math.sqrt(3)])).toBeCloseTo(120, 9);
    // A knee: hip above, ankle forward and below, the vertex at the knee (image y down).
    expect(angle([100, 0], [100, 100], [200, 100])).toBeCloseTo(90, 9);
  });
  it('is exact near 0° and 180° and null for an arm of no length', () => {
    expect(angle([1e6, 0], [0, 0], [1e6, 1])).toBeCloseTo((Math.atan(1e-6) * 180) / Math.PI, 12);
    expect(angle([0, 0], [0, 0], [1, 1])).toBeNull();
  });
  it('labels an angle in whole degrees and a line by its length', () => {
    const a: Drawing = { id: 'a', kind: 'angle', t: 0, color: '#fff000', points: [{ x: 10, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 10 }] };
    expect(drawingLabel(a)).toBe('90°');
    expect(drawingLabel({ ...a, kind: 'line', points: [{ x: 0, y: 0 }, { x: 30, y: 40 }] })).toBe('50 px');
  });
});

describe('selection and frames', () => {
  const line: Drawing = { id: 'l', kind: 'line', t: 1, color: '#fff000', points: [{ x: 0, y: 0 }, { x: 100, y: 0 }] };
  const over: Drawing = { id: 'o', kind: 'angle', t: 1, color: '#fff000', points: [{ x: 50, y: 50 }, { x: 50, y: 0 }, { x: 90, y: 0 }] };
  it('hits the topmost drawing near the pointer, within the tolerance only', () => {
    expect(hitTest([line, over], { x: 70, y: 2 }, 4)?.id).toBe('o');
    expect(hitTest([line, over], { x: 20, y: 3 }, 4)?.id).toBe('l');
    expect(hitTest([line, over], { x: 20, y: 6 }, 4)).toBeNull();
    expect(hitTest([line], { x: 104, y: 0 }, 4)?.id).toBe('l');
  });
  it('shows a drawing while its own frame is on screen, and only then', () => {
    const ds = [line, { ...over, t: 1 + 1 / 24 }];
    expect(drawingsAt(ds, 1, 24).map((d) => d.id)).toEqual(['l']);
    expect(drawingsAt(ds, 0.999, 24).map((d) => d.id)).toEqual(['l']); // reported a hair early
    expect(drawingsAt(ds, 1 + 1 / 24 - 0.005, 24).map((d) => d.id)).toEqual(['l']); // late in frame 1's time
    expect(drawingsAt(ds, 1 + 1 / 24 + 0.01, 24).map((d) => d.id)).toEqual(['o']);
    expect(drawingsAt(ds, 0.99, 24)).toEqual([]);
    expect(drawingsAt(ds, 1.5, 24)).toEqual([]);
  });
});

describe('paintDrawings', () => {
  it('maps every point through toTarget and writes the angle in degrees', () => {
    const calls: string[] = [];
    const ctx = new Proxy({ measureText: () => ({ width: 20 }) } as Record<string, unknown>, {
      get: (o, k: string) => (k in o ? o[k] : (...args: unknown[]) => calls.push(`${k}(${args.map((a) => (typeof a === 'number' ? Math.round(a) : a)).join(',')})`)),
      set: () => true,
    }) as unknown as CanvasRenderingContext2D;
    const toTarget = vi.fn((p: { x: number; y: number }) => ({ x: p.x * 2, y: p.y * 2 }));
    paintDrawings(ctx, [{ id: 'a', kind: 'angle', t: 0, color: '#ff0000', points: [{ x: 10, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 10 }] }], toTarget);
    expect(toTarget).toHaveBeenCalledTimes(3);
    expect(calls).toContain('moveTo(20,0)');
    expect(calls).toContain('lineTo(0,0)');
    expect(calls).toContain('lineTo(0,20)');
    expect(calls.some((c) => c.startsWith('fillText(90°'))).toBe(true);
    expect(calls[0]).toBe('save()');
    expect(calls.at(-1)).toBe('restore()');
  });
});

import { describe, expect, it } from 'vitest';
import { extent, linearScale, linePath, niceDomain, niceStep } from './scale';

describe('linearScale', () => {
  it('maps and inverts, including a flipped (SVG y) range', () => {
    const y = linearScale([0, 180], [150, 10]);
    expect(y(0)).toBe(150);
    expect(y(180)).toBe(10);
    expect(y(90)).toBe(80);
    expect(y.invert(80)).toBe(90);
  });
  it('puts a flat domain in the middle of the range', () => {
    expect(linearScale([5, 5], [0, 100])(5)).toBe(50);
  });
});

describe('extent', () => {
  it('ignores nulls and non-finite values across series', () => {
    expect(extent([[3, null, 7], [null, -2, Number.NaN]])).toEqual([-2, 7]);
  });
  it('is null when there is nothing to plot', () => expect(extent([[null, null], []])).toBeNull());
});

describe('niceDomain', () => {
  it('widens to round steps', () => {
    expect(niceStep(0, 173, 4)).toBe(50);
    expect(niceDomain(112, 178, 3)).toEqual({ domain: [100, 180], ticks: [100, 120, 140, 160, 180] });
  });
  it('pads a single value so the line is not on the edge', () => {
    const { domain } = niceDomain(0.5, 0.5);
    expect(domain[0]).toBeLessThan(0.5);
    expect(domain[1]).toBeGreaterThan(0.5);
  });
});

describe('linePath', () => {
  it('breaks the line at nulls so gaps stay visible', () => {
    const id = (v: number) => v;
    expect(linePath([0, 1, 2, 3, 4], [1, 2, null, 4, 5], id, id)).toBe('M0.0,1.0L1.0,2.0M3.0,4.0L4.0,5.0');
  });
});

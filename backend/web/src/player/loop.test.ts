import { describe, expect, it } from 'vitest';
import { loopFrom, loopJump, loopTo } from './loop';

describe('loop of a selected range', () => {
  const loop = { a: 1, b: 2, on: true };
  it('jumps back to its first frame as its last frame is shown', () => {
    expect(loopJump(loop, 1.5, true)).toBeNull();
    expect(loopJump(loop, 1.99, true)).toBeNull();
    expect(loopJump(loop, 1.9995, true)).toBe(1);
    expect(loopJump(loop, 2, true)).toBe(1);
    expect(loopJump(loop, 2.5, true)).toBe(1);
  });
  it('never jumps while paused, switched off, or for an empty range', () => {
    expect(loopJump(loop, 2.5, false)).toBeNull();
    expect(loopJump({ ...loop, on: false }, 2.5, true)).toBeNull();
    expect(loopJump({ a: 2, b: 2, on: true }, 2.5, true)).toBeNull();
    expect(loopJump(null, 2.5, true)).toBeNull();
  });
  it('sets its ends from the frame on screen, keeping the other end when it still makes a range', () => {
    expect(loopFrom(null, 1.25, 3)).toEqual({ a: 1.25, b: 3, on: true });
    expect(loopFrom({ a: 0, b: 2, on: false }, 1.25, 3)).toEqual({ a: 1.25, b: 2, on: true });
    expect(loopFrom({ a: 0, b: 1, on: true }, 1.25, 3)).toEqual({ a: 1.25, b: 3, on: true });
    expect(loopTo(null, 2)).toEqual({ a: 0, b: 2, on: true });
    expect(loopTo({ a: 1.25, b: 3, on: true }, 2)).toEqual({ a: 1.25, b: 2, on: true });
    expect(loopTo({ a: 2.5, b: 3, on: true }, 2)).toEqual({ a: 0, b: 2, on: true });
  });
});

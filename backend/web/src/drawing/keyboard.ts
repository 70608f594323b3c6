import type { Point } from '../player/geometry';

/*
 * The drawing layer's keyboard path (a coach without a pointer, or who wants a point placed to the pixel): with a tool
 * in hand the layer takes focus, the arrow keys move a cross over the frame and Enter places a point where it stands.
 * Positions are frame pixels, as the drawings' points are.
 */

export interface StepKeys { shiftKey: boolean; altKey: boolean }

/** One arrow press, in frame pixels: 1 % of the frame's longer side (whole pixels); Shift 5×, Alt a single pixel. */
export function cursorStep(frameW: number, frameH: number, keys: StepKeys): number {
  if (keys.altKey) return 1;
  const base = Math.max(1, Math.round(Math.max(frameW, frameH) / 100));
  return keys.shiftKey ? base * 5 : base;
}

const ARROWS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** Where an arrow key moves the cross, kept on the frame (0..W, 0..H); null for any other key. */
export function moveCursor(p: Point, key: string, step: number, frameW: number, frameH: number): Point | null {
  const d = ARROWS[key];
  if (!d) return null;
  return { x: Math.min(frameW, Math.max(0, p.x + d[0] * step)), y: Math.min(frameH, Math.max(0, p.y + d[1] * step)) };
}

/** The cross's first place: the frame's centre, on whole pixels. */
export const frameCentre = (frameW: number, frameH: number): Point => ({ x: Math.round(frameW / 2), y: Math.round(frameH / 2) });

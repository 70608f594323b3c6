import type { ContainFit } from '../pose/skeleton';

/*
 * The player's picture can be zoomed and panned: the video, the skeleton and the drawings sit in one layer that is
 * scaled by `zoom` about the stage's top-left corner and then moved by (panX, panY) (CSS
 * `translate(panX, panY) scale(zoom)`, origin 0 0). These pure functions map between the three coordinate systems
 * the player meets: the stage (CSS px, as a pointer sees it), the layer (CSS px before zoom/pan: where the
 * object-fit:contain frame lies), and the frame (pixels of the video frame as displayed, the pose keypoints' and the
 * drawings' coordinates).
 */

export interface View { zoom: number; panX: number; panY: number }
export interface Point { x: number; y: number }

export const IDENTITY_VIEW: View = { zoom: 1, panX: 0, panY: 0 };
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 8;

/** Stage point → layer point (undo pan, then zoom). */
export const stageToLayer = (p: Point, v: View): Point => ({ x: (p.x - v.panX) / v.zoom, y: (p.y - v.panY) / v.zoom });
/** Layer point → stage point. */
export const layerToStage = (p: Point, v: View): Point => ({ x: p.x * v.zoom + v.panX, y: p.y * v.zoom + v.panY });
/** Frame pixel → layer point (the contain fit of the frame in the element). */
export const frameToLayer = (p: Point, fit: ContainFit): Point => ({ x: fit.offsetX + p.x * fit.scale, y: fit.offsetY + p.y * fit.scale });
/** Layer point → frame pixel. */
export const layerToFrame = (p: Point, fit: ContainFit): Point => ({ x: (p.x - fit.offsetX) / fit.scale, y: (p.y - fit.offsetY) / fit.scale });
/** Stage point (a pointer) → frame pixel, under zoom and pan. */
export const stageToFrame = (p: Point, v: View, fit: ContainFit): Point => layerToFrame(stageToLayer(p, v), fit);
/** Frame pixel → stage point, under zoom and pan. */
export const frameToStage = (p: Point, v: View, fit: ContainFit): Point => layerToStage(frameToLayer(p, fit), v);

/**
 * A pointer's position in stage coordinates: from the stage's padding box, where the zoom layer (inset: 0) starts,
 * so inside its border.
 */
export function stagePoint(stage: HTMLElement, e: { clientX: number; clientY: number }): Point {
  const r = stage.getBoundingClientRect();
  return { x: e.clientX - r.left - stage.clientLeft, y: e.clientY - r.top - stage.clientTop };
}

/** Keep the zoom within [MIN_ZOOM, MAX_ZOOM] and the zoomed layer covering the whole stage (no empty margin). */
export function clampView(v: View, boxW: number, boxH: number): View {
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, Number.isFinite(v.zoom) ? v.zoom : 1));
  const clamp = (pan: number, box: number) => Math.min(0, Math.max(box * (1 - zoom), Number.isFinite(pan) ? pan : 0));
  return { zoom, panX: clamp(v.panX, boxW), panY: clamp(v.panY, boxH) };
}

/** Zoom by `factor` keeping the stage point `at` (the pointer, or a pinch's centre) over the same picture point. */
export function zoomAt(v: View, factor: number, at: Point, boxW: number, boxH: number): View {
  const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom * factor));
  const under = stageToLayer(at, v);
  return clampView({ zoom, panX: at.x - under.x * zoom, panY: at.y - under.y * zoom }, boxW, boxH);
}

/** Move the zoomed picture by a pointer's drag (stage px). */
export const panBy = (v: View, dx: number, dy: number, boxW: number, boxH: number): View =>
  clampView({ zoom: v.zoom, panX: v.panX + dx, panY: v.panY + dy }, boxW, boxH);

/** The CSS transform of the zoom layer for a view. */
export const viewTransform = (v: View): string => `translate(${v.panX}px, ${v.panY}px) scale(${v.zoom})`;

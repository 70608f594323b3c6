import type { PoseResponse } from '../api/types';
import { drawSkeleton, fitContain, projectKeypoints, riderOf } from '../pose/skeleton';

export interface OverlayFrame {
  pose: PoseResponse | null;
  /** The pose frame on screen (-1: none, or not analysed yet). */
  index: number;
  /** The media time on screen. */
  t: number;
  showSkeleton: boolean;
  /** The picture's zoom: the canvas is scaled with it by CSS, so it draws that much sharper. */
  zoom: number;
  jointScoreMin?: number;
}

/**
 * Draw the rider's skeleton of one pose frame on the player's overlay canvas, sized to the video element. The
 * canvas' data attributes say what it shows, for tests and tools: frameIndex, mediaTime, and joints (how many
 * joints the frame drew solid, faded, or not at all; absent when no skeleton is drawn).
 */
export function paintOverlay(canvas: HTMLCanvasElement, video: HTMLVideoElement, f: OverlayFrame) {
  const w = video.clientWidth;
  const h = video.clientHeight;
  // Sharp when zoomed (the layer is scaled by CSS), within a bounded backing store.
  const dpr = Math.min(4, (window.devicePixelRatio || 1) * f.zoom);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  canvas.dataset.frameIndex = String(f.index);
  canvas.dataset.mediaTime = f.t.toFixed(6);
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const p = f.pose;
  const person = p && f.index >= 0 ? riderOf(p.frames[f.index], p.riderTrackId) : null;
  if (f.showSkeleton && person && p) {
    // Keypoints are pixels of the frame as displayed (rotation applied), the same size the rendition plays at.
    const fit = fitContain(p.width || video.videoWidth, p.height || video.videoHeight, w, h);
    const counts = drawSkeleton(ctx, projectKeypoints(person.keypoints, fit, f.jointScoreMin), Math.max(2, Math.min(5, fit.width / 160)));
    canvas.dataset.joints = `seen:${counts.seen},unsure:${counts.unsure},hidden:${counts.hidden}`;
  } else {
    delete canvas.dataset.joints;
  }
}

import { useEffect, useRef, useState, type RefObject } from 'react';
import { fitContain } from '../pose/skeleton';
import { frameToLayer, stagePoint, stageToFrame, type Point, type View } from '../player/geometry';
import { hitTest, newDrawingId, POINTS_PER_KIND, type Drawing } from './model';
import { paintDrawings } from './paint';
import type { DrawingController } from './useDrawings';

interface Props {
  ctl: DrawingController;
  /** The drawings of the frame on screen. */
  shown: Drawing[];
  /** The media time new drawings are stamped with: the time of the frame on screen. */
  frameT: number;
  /** The frame's size as displayed (the coordinates drawings are kept in). */
  frameW: number;
  frameH: number;
  view: View;
  /** The player's stage: pointer positions are read against it, then mapped through the view and the fit. */
  stageRef: RefObject<HTMLDivElement | null>;
  /** Drawing is on a paused frame: the player pauses before the first point lands. */
  onBeforeDraw: () => void;
}

/** Screen pixels within which a tap selects a drawing. */
const HIT_PX = 14;

/**
 * The canvas over the picture (inside the player's zoom layer, so it scales and pans with the video) that paints the
 * frame's drawings and, with a tool in hand, takes taps: a line's two ends, an angle's end, vertex and other end, or a
 * tap on a drawing to select it.
 */
export function DrawingLayer({ ctl, shown, frameT, frameW, frameH, view, stageRef, onBeforeDraw }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [draft, setDraft] = useState<Point[]>([]);
  const [hover, setHover] = useState<Point | null>(null);
  const [box, setBox] = useState({ w: 0, h: 0 });
  const { tool } = ctl;

  // A new tool (or none) drops a half-drawn mark.
  useEffect(() => {
    setDraft([]);
    setHover(null);
  }, [tool, frameT]);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c) return;
    const measure = () => setBox({ w: c.clientWidth, h: c.clientHeight });
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(measure);
    ro.observe(c);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c || box.w === 0) return;
    // Sharp when zoomed (the layer is scaled by CSS), within a bounded backing store.
    const scale = Math.min(4, (window.devicePixelRatio || 1) * view.zoom);
    const w = Math.round(box.w * scale);
    const h = Math.round(box.h * scale);
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    ctx.clearRect(0, 0, box.w, box.h);
    const fit = fitContain(frameW, frameH, box.w, box.h);
    const kind = tool === 'line' || tool === 'angle' ? tool : null;
    const draftPts = kind && draft.length > 0 ? [...draft, ...(hover ? [hover] : [])] : [];
    paintDrawings(ctx, shown, (p) => frameToLayer(p, fit), {
      // Strokes keep about the same on-screen thickness whatever the zoom.
      lineWidth: Math.max(1.5, Math.min(4, box.w / 160)) / Math.sqrt(view.zoom),
      selectedId: ctl.selectedId,
      draft: kind && draftPts.length > 0 ? { kind, points: draftPts, color: ctl.color } : null,
    });
    c.dataset.drawn = String(shown.length);
  }, [box, shown, draft, hover, tool, view.zoom, frameW, frameH, ctl.selectedId, ctl.color]);

  /** The frame pixel under a pointer. */
  const toFrame = (e: React.PointerEvent): Point | null => {
    const stage = stageRef.current;
    if (!stage || box.w === 0) return null;
    return stageToFrame(stagePoint(stage, e), view, fitContain(frameW, frameH, box.w, box.h));
  };

  const onPointerDown = (e: React.PointerEvent) => {
    if (!tool || e.button > 0) return;
    e.stopPropagation();
    e.preventDefault();
    const p = toFrame(e);
    if (!p) return;
    if (tool === 'select') {
      const fit = fitContain(frameW, frameH, box.w, box.h);
      ctl.select(hitTest(shown, p, HIT_PX / (fit.scale * view.zoom))?.id ?? null);
      return;
    }
    onBeforeDraw();
    const pts = [...draft, p];
    if (pts.length >= POINTS_PER_KIND[tool]) {
      ctl.add({ id: newDrawingId(), kind: tool, t: frameT, points: pts, color: ctl.color });
      setDraft([]);
    } else {
      setDraft(pts);
    }
  };

  return (
    <canvas
      ref={canvasRef}
      className={`drawing-layer${tool ? ' is-active' : ''}`}
      data-testid="drawing-canvas"
      data-tool={tool ?? ''}
      aria-hidden="true"
      onPointerDown={onPointerDown}
      onPointerMove={(e) => {
        if (tool === 'line' || tool === 'angle') setHover(toFrame(e));
      }}
      onPointerLeave={() => setHover(null)}
      // The stage's click plays/pauses: not while drawing.
      onClick={(e) => tool && e.stopPropagation()}
    />
  );
}

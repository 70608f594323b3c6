import { useEffect, useRef, useState, type RefObject } from 'react';
import { fitContain } from '../pose/skeleton';
import { frameToLayer, stagePoint, stageToFrame, type Point, type View } from '../player/geometry';
import { cursorStep, frameCentre, moveCursor } from './keyboard';
import { drawingLabel, hitTest, newDrawingId, POINTS_PER_KIND, type Drawing } from './model';
import { paintCursor, paintDrawings } from './paint';
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

const KEY_HELP = 'Arrow keys move the cross (Shift: 5 times as far, Alt: one pixel), Enter places a point, Backspace takes the last point back, Escape cancels.';

/**
 * The canvas over the picture (inside the player's zoom layer, so it scales and pans with the video) that paints the
 * frame's drawings and, with a tool in hand, takes taps: a line's two ends, an angle's end, vertex and other end, or a
 * tap on a drawing to select it. With a tool in hand it also takes focus (Tab, or choosing the tool from the keyboard):
 * arrow keys move a cross over the frame, Enter or Space places a point (or selects the drawing under the cross),
 * Backspace takes the last point back, Escape drops a half-drawn mark, then puts the tool down (keyboard.ts).
 */
export function DrawingLayer({ ctl, shown, frameT, frameW, frameH, view, stageRef, onBeforeDraw }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [draft, setDraft] = useState<Point[]>([]);
  const [hover, setHover] = useState<Point | null>(null);
  const [box, setBox] = useState({ w: 0, h: 0 });
  /** The keyboard cross, frame pixels; shown while the layer has focus from the keyboard. */
  const [cursor, setCursor] = useState<Point | null>(null);
  const [keyboard, setKeyboard] = useState(false);
  /** What the last key did, for screen readers (a polite live region). */
  const [said, setSaid] = useState('');
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
    const reach = keyboard ? cursor : hover;
    const draftPts = kind && draft.length > 0 ? [...draft, ...(reach ? [reach] : [])] : [];
    paintDrawings(ctx, shown, (p) => frameToLayer(p, fit), {
      // Strokes keep about the same on-screen thickness whatever the zoom.
      lineWidth: Math.max(1.5, Math.min(4, box.w / 160)) / Math.sqrt(view.zoom),
      selectedId: ctl.selectedId,
      draft: kind && draftPts.length > 0 ? { kind, points: draftPts, color: ctl.color } : null,
    });
    if (keyboard && cursor && tool) paintCursor(ctx, frameToLayer(cursor, fit), Math.max(8, Math.min(16, box.w / 30)) / Math.sqrt(view.zoom));
    c.dataset.drawn = String(shown.length);
  }, [box, shown, draft, hover, tool, view.zoom, frameW, frameH, ctl.selectedId, ctl.color, keyboard, cursor]);

  /** The frame pixel under a pointer. */
  const toFrame = (e: React.PointerEvent): Point | null => {
    const stage = stageRef.current;
    if (!stage || box.w === 0) return null;
    return stageToFrame(stagePoint(stage, e), view, fitContain(frameW, frameH, box.w, box.h));
  };

  /** A tap or Enter at frame pixel p: selects what is there (select tool), or places the tool's next point. */
  const place = (p: Point) => {
    if (!tool) return;
    if (tool === 'select') {
      const fit = fitContain(frameW, frameH, box.w, box.h);
      // Before the layer was measured (no box), the tolerance is taken as one screen pixel per frame pixel.
      const hit = hitTest(shown, p, HIT_PX / ((fit.scale || 1) * view.zoom));
      ctl.select(hit?.id ?? null);
      setSaid(hit ? `Selected ${hit.kind} ${shown.indexOf(hit) + 1}: ${drawingLabel(hit)}. Delete removes it.` : 'No drawing there.');
      return;
    }
    onBeforeDraw();
    const pts = [...draft, p];
    if (pts.length >= POINTS_PER_KIND[tool]) {
      const made: Drawing = { id: newDrawingId(), kind: tool, t: frameT, points: pts, color: ctl.color };
      ctl.add(made);
      setDraft([]);
      setSaid(`${tool === 'angle' ? 'Angle' : 'Line'} added: ${drawingLabel(made)}.`);
    } else {
      setDraft(pts);
      setSaid(`Point ${pts.length} of ${POINTS_PER_KIND[tool]} placed at ${Math.round(p.x)}, ${Math.round(p.y)}.`);
    }
  };

  const onPointerDown = (e: React.PointerEvent) => {
    if (!tool || e.button > 0) return;
    e.stopPropagation();
    e.preventDefault();
    setKeyboard(false);
    const p = toFrame(e);
    if (p) place(p);
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (!tool) return;
    const here = cursor ?? frameCentre(frameW, frameH);
    const moved = moveCursor(here, e.key, cursorStep(frameW, frameH, e), frameW, frameH);
    // Keys the layer takes stop here; the rest (zoom, frame steps, fullscreen) reach the player's own keys.
    if (moved) {
      setCursor(moved);
      setKeyboard(true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      setKeyboard(true);
      setCursor(here);
      place(here);
    } else if (e.key === 'Backspace' && draft.length > 0) {
      setDraft(draft.slice(0, -1));
      setSaid(`Point ${draft.length} taken back.`);
    } else if (e.key === 'Escape' && draft.length > 0) {
      setDraft([]);
      setSaid('Mark cancelled.');
    } else if (e.key === 'Escape') {
      // Putting the tool down makes this layer unfocusable: focus goes back to the picture, not to the page.
      ctl.setTool(null);
      stageRef.current?.focus();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <>
      <canvas
        ref={canvasRef}
        className={`drawing-layer${tool ? ' is-active' : ''}`}
        data-testid="drawing-canvas"
        data-tool={tool ?? ''}
        data-cursor={cursor && tool ? `${cursor.x},${cursor.y}` : undefined}
        data-draft={draft.length}
        // Focusable (and named) only with a tool in hand; otherwise it is paint only, hidden from assistive tech.
        tabIndex={tool ? 0 : undefined}
        role={tool ? 'application' : undefined}
        aria-roledescription={tool ? 'drawing area' : undefined}
        aria-label={tool ? `Draw on the frame, ${tool} tool. ${KEY_HELP}` : undefined}
        aria-hidden={tool ? undefined : 'true'}
        onFocus={(e) => {
          setCursor((c) => c ?? frameCentre(frameW, frameH));
          // The cross shows for keyboard focus; a tap focuses the layer too, and must not put a cross in the middle.
          let fromKeyboard = true;
          try {
            fromKeyboard = e.currentTarget.matches(':focus-visible');
          } catch {
            // a browser without :focus-visible: show it
          }
          setKeyboard(fromKeyboard);
        }}
        onBlur={() => setKeyboard(false)}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={(e) => {
          if (tool === 'line' || tool === 'angle') setHover(toFrame(e));
        }}
        onPointerLeave={() => setHover(null)}
        // The stage's click plays/pauses: not while drawing.
        onClick={(e) => tool && e.stopPropagation()}
      />
      <span className="visually-hidden" aria-live="polite" data-testid="drawing-said">
        {tool ? said : ''}
      </span>
    </>
  );
}

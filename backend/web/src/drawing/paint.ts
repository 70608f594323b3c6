import type { Point } from '../player/geometry';
import { drawingLabel, type Drawing } from './model';

/** Options of a paint: how big strokes and labels are (CSS px at the canvas's own scale), and which one is selected. */
export interface PaintOptions {
  /** Line width in the target's units; labels and handles scale with it. */
  lineWidth?: number;
  selectedId?: string | null;
  /** Points of a drawing in progress (the tool's clicks so far, then the pointer), drawn as a dashed preview. */
  draft?: { kind: Drawing['kind']; points: Point[]; color: string } | null;
}

/**
 * Paint drawings onto a 2D context. `toTarget` maps a frame pixel to the context's coordinates: the player passes the
 * contain fit of the frame in its element; a still export of the frame at its own size passes the identity. Pure
 * apart from the context: no DOM, no state.
 */
export function paintDrawings(ctx: CanvasRenderingContext2D, drawings: readonly Drawing[], toTarget: (p: Point) => Point, opts: PaintOptions = {}): void {
  const lw = opts.lineWidth ?? 3;
  ctx.save();
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const d of drawings) paintOne(ctx, d, toTarget, lw, d.id === opts.selectedId, false);
  if (opts.draft && opts.draft.points.length > 0) {
    paintOne(ctx, { id: '', t: 0, ...opts.draft }, toTarget, lw, false, true);
  }
  ctx.restore();
}

function paintOne(ctx: CanvasRenderingContext2D, d: Drawing, toTarget: (p: Point) => Point, lw: number, selected: boolean, draft: boolean): void {
  const pts = d.points.map(toTarget);
  // A dark halo under the colour: readable on snow and on dark backgrounds alike.
  ctx.setLineDash(draft ? [lw * 2, lw * 2] : []);
  for (const [style, width] of [['rgba(0,0,0,0.6)', lw + 3], [d.color, lw]] as const) {
    ctx.strokeStyle = style;
    ctx.lineWidth = width;
    ctx.beginPath();
    pts.forEach((p, i) => (i === 0 ? ctx.moveTo(p.x, p.y) : ctx.lineTo(p.x, p.y)));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  for (const p of pts) {
    ctx.fillStyle = selected ? '#ffffff' : d.color;
    ctx.strokeStyle = 'rgba(0,0,0,0.7)';
    ctx.lineWidth = Math.max(1, lw / 2);
    ctx.beginPath();
    ctx.arc(p.x, p.y, lw * (selected ? 1.8 : 1.2), 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }
  const complete = d.points.length === (d.kind === 'angle' ? 3 : 2);
  if (d.kind === 'angle' && complete) {
    // The arc between the two arms at the vertex, and the degrees beside it.
    const [a, v, b] = pts;
    const r = Math.max(lw * 6, Math.min(Math.hypot(a.x - v.x, a.y - v.y), Math.hypot(b.x - v.x, b.y - v.y)) * 0.3);
    const a1 = Math.atan2(a.y - v.y, a.x - v.x);
    const a2 = Math.atan2(b.y - v.y, b.x - v.x);
    let sweep = a2 - a1;
    while (sweep > Math.PI) sweep -= 2 * Math.PI;
    while (sweep < -Math.PI) sweep += 2 * Math.PI;
    ctx.strokeStyle = d.color;
    ctx.lineWidth = Math.max(1, lw * 0.7);
    ctx.beginPath();
    ctx.arc(v.x, v.y, r, a1, a1 + sweep, sweep < 0);
    ctx.stroke();
    const mid = a1 + sweep / 2;
    label(ctx, drawingLabel(d), v.x + Math.cos(mid) * (r + lw * 6), v.y + Math.sin(mid) * (r + lw * 6), lw, d.color);
  } else if (d.kind === 'line' && complete) {
    label(ctx, drawingLabel(d), (pts[0].x + pts[1].x) / 2, (pts[0].y + pts[1].y) / 2 - lw * 5, lw, d.color);
  }
}

function label(ctx: CanvasRenderingContext2D, text: string, x: number, y: number, lw: number, color: string): void {
  const size = Math.max(12, lw * 5);
  ctx.font = `600 ${size}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  const w = ctx.measureText(text).width;
  ctx.fillStyle = 'rgba(2,6,23,0.8)';
  ctx.fillRect(x - w / 2 - size * 0.3, y - size * 0.65, w + size * 0.6, size * 1.3);
  ctx.fillStyle = color;
  ctx.fillText(text, x, y);
}

/**
 * The keyboard cross (drawing layer with focus): a ring and four ticks, dark under light, so it reads over snow and
 * over dark clothes alike. `at` is in the context's coordinates; `size` the tick length.
 */
export function paintCursor(ctx: CanvasRenderingContext2D, at: Point, size: number): void {
  ctx.save();
  ctx.lineCap = 'round';
  for (const [color, width] of [['rgba(0,0,0,0.85)', 4], ['#ffffff', 2]] as const) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.arc(at.x, at.y, size * 0.45, 0, Math.PI * 2);
    for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      ctx.moveTo(at.x + dx * size * 0.45, at.y + dy * size * 0.45);
      ctx.lineTo(at.x + dx * size * 1.2, at.y + dy * size * 1.2);
    }
    ctx.stroke();
  }
  ctx.restore();
}

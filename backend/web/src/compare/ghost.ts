import { DEFAULT_JOINT_SCORE_MIN, type Keypoint2D } from '../api/types';
import { jointConfidence, limbStyle, SKELETON_EDGES, type ContainFit } from '../pose/skeleton';

/**
 * The "ghost": the reference rider's skeleton drawn see-through over the rider's video, in one colour so it never
 * reads as the rider's own overlay. Joints follow the same confidence rule as the overlay (skeleton.ts): only
 * joints seen at or above the threshold are solid, guesses are dashed and fainter, hidden joints are not drawn.
 */
export const GHOST_COLOR = '#c4b5fd';
/** The ghost canvas's opacity (CSS, so overlapping limbs and dots do not add up to an opaque spot). */
export const GHOST_ALPHA = 0.6;
/** Guessed joints and limbs, within the ghost: half as opaque again. */
const UNSURE_ALPHA = 0.5;

/** Hip centre and torso length (hip centre to shoulder centre) in pixels, when all four joints were seen. */
export function bodyFrame(kps: ReadonlyArray<Keypoint2D>, minScore = DEFAULT_JOINT_SCORE_MIN): { x: number; y: number; torso: number } | null {
  const [ls, rs, lh, rh] = [5, 6, 11, 12].map((i) => kps[i]);
  if (![ls, rs, lh, rh].every((k) => k && jointConfidence(k, minScore) === 'seen')) return null;
  const hx = (lh.x + rh.x) / 2;
  const hy = (lh.y + rh.y) / 2;
  const torso = Math.hypot((ls.x + rs.x) / 2 - hx, (ls.y + rs.y) / 2 - hy);
  return torso > 0 ? { x: hx, y: hy, torso } : null;
}

export interface GhostPlacement { scale: number; dx: number; dy: number; aligned: boolean }

/**
 * Where the reference's keypoints go on the rider's picture (element pixels = ref pixel × scale + d).
 * `align`: the reference's hip centre on the rider's and its torso scaled to the rider's (bodies overlaid, to
 * compare shape); otherwise, or when either torso is not seen, the reference frame fitted to the rider's picture
 * as filmed (to compare where in the picture each rider is).
 */
export function placeGhost(
  ref: ReadonlyArray<Keypoint2D>, refFit: ContainFit,
  rider: ReadonlyArray<Keypoint2D> | null, riderFit: ContainFit,
  align: boolean, refMinScore = DEFAULT_JOINT_SCORE_MIN, riderMinScore = refMinScore,
): GhostPlacement {
  const asFilmed = { scale: refFit.scale, dx: refFit.offsetX, dy: refFit.offsetY, aligned: false };
  if (!align || !rider) return asFilmed;
  const a = bodyFrame(ref, refMinScore);
  const b = bodyFrame(rider, riderMinScore);
  if (!a || !b) return asFilmed;
  const scale = (b.torso * riderFit.scale) / a.torso;
  return { scale, dx: riderFit.offsetX + b.x * riderFit.scale - a.x * scale, dy: riderFit.offsetY + b.y * riderFit.scale - a.y * scale, aligned: true };
}

/** Draw the ghost (opaque where seen; the canvas is shown at GHOST_ALPHA); returns how many joints were drawn solid (seen) and faded (unsure). */
export function drawGhost(ctx: CanvasRenderingContext2D, kps: ReadonlyArray<Keypoint2D>, at: GhostPlacement, lineWidth: number, minScore = DEFAULT_JOINT_SCORE_MIN): { seen: number; unsure: number } {
  const conf = kps.map((k) => jointConfidence(k, minScore));
  const px = (k: Keypoint2D) => [k.x * at.scale + at.dx, k.y * at.scale + at.dy] as const;
  ctx.save();
  ctx.lineCap = 'round';
  ctx.strokeStyle = GHOST_COLOR;
  ctx.fillStyle = GHOST_COLOR;
  for (const style of ['faded', 'solid'] as const) {
    ctx.globalAlpha = style === 'solid' ? 1 : UNSURE_ALPHA;
    ctx.setLineDash(style === 'solid' ? [] : [lineWidth * 2, lineWidth * 2]);
    ctx.lineWidth = style === 'solid' ? lineWidth : Math.max(1, lineWidth * 0.6);
    for (const [i, j] of SKELETON_EDGES) {
      if (limbStyle(conf[i], conf[j]) !== style) continue;
      const [ax, ay] = px(kps[i]);
      const [bx, by] = px(kps[j]);
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
    }
  }
  ctx.setLineDash([]);
  const counts = { seen: 0, unsure: 0 };
  kps.forEach((k, i) => {
    const c = conf[i];
    if (c === 'hidden') return;
    counts[c] += 1;
    ctx.globalAlpha = c === 'seen' ? 1 : UNSURE_ALPHA;
    const [x, y] = px(k);
    ctx.beginPath();
    ctx.arc(x, y, c === 'seen' ? lineWidth * 0.9 + 1 : lineWidth * 0.6 + 1, 0, Math.PI * 2);
    ctx.fill();
  });
  ctx.restore();
  return counts;
}

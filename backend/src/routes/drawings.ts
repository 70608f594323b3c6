import express, { Router } from 'express';
import type { Collection, Db, ObjectId } from 'mongodb';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { loadVideoFor } from '../auth/access.js';
import { userOf } from '../auth/gate.js';

/*
 * A coach's marks on a video (issue 18, item 5): lines and angles drawn over a paused frame, kept on the server so the
 * rider and their coach see the same ones. One document per video (its _id is the video's id) holding the whole
 * set; PUT replaces it. Points are pixels of the frame as displayed (rotation applied), the same coordinates as the
 * pose keypoints, so an angle measured here is the angle on the picture. The video's DELETE removes the document.
 */

export type DrawingKind = 'line' | 'angle';
export interface DrawingPoint { x: number; y: number }
export interface Drawing {
  id: string;
  kind: DrawingKind;
  /** Media time (s) of the frame it was drawn on; it shows on that frame only. */
  t: number;
  points: DrawingPoint[];
  color: string;
}
export interface DrawingsDoc {
  _id: ObjectId;
  drawings: Drawing[];
  updatedAt: Date;
}

/** Limits: a coach's marks are a handful per frame; these keep one document small whatever a client sends. */
export const MAX_DRAWINGS = 500;
const MAX_BODY = '128kb';
const COORD_LIMIT = 100_000;
const POINTS: Record<DrawingKind, number> = { line: 2, angle: 3 };
const ID = /^[A-Za-z0-9_-]{1,40}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;

export const drawingsCollection = (db: Db): Collection<DrawingsDoc> => db.collection<DrawingsDoc>('drawings');

const invalid = (detail: string) => new HttpError(400, 'invalid_drawings', detail);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body of a PUT as a list of drawings, or 400 `invalid_drawings` naming the first thing wrong. */
export function readDrawings(body: unknown): Drawing[] {
  if (!isObject(body) || !Array.isArray(body.drawings)) throw invalid('send {"drawings": [...]}, the whole set for this video');
  const list = body.drawings as unknown[];
  if (list.length > MAX_DRAWINGS) throw invalid(`at most ${MAX_DRAWINGS} drawings per video (got ${list.length})`);
  const ids = new Set<string>();
  return list.map((raw, i) => {
    const at = `drawings[${i}]`;
    if (!isObject(raw)) throw invalid(`${at} must be an object`);
    const { id, kind, t, points, color } = raw;
    if (typeof id !== 'string' || !ID.test(id)) throw invalid(`${at}.id must be 1-40 characters of A-Z a-z 0-9 _ -`);
    if (ids.has(id)) throw invalid(`${at}.id "${id}" is used twice`);
    ids.add(id);
    if (kind !== 'line' && kind !== 'angle') throw invalid(`${at}.kind must be "line" or "angle"`);
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > 86_400) throw invalid(`${at}.t must be a time in seconds, 0 to 86400`);
    if (!Array.isArray(points) || points.length !== POINTS[kind]) throw invalid(`${at}.points must hold ${POINTS[kind]} points for ${kind === 'angle' ? 'an' : 'a'} ${kind}`);
    const pts = points.map((p: unknown, j) => {
      if (!isObject(p) || ![p.x, p.y].every((c) => typeof c === 'number' && Number.isFinite(c) && Math.abs(c) <= COORD_LIMIT)) {
        throw invalid(`${at}.points[${j}] must be {"x", "y"}, numbers within ±${COORD_LIMIT}`);
      }
      return { x: p.x as number, y: p.y as number };
    });
    const c = color === undefined ? '#facc15' : color;
    if (typeof c !== 'string' || !COLOR.test(c)) throw invalid(`${at}.color must be "#rrggbb"`);
    return { id, kind, t, points: pts, color: c.toLowerCase() };
  });
}

/** GET/PUT /api/videos/:id/drawings (behind the session gate; the owner or an admin writes, a coach reads). */
export function drawingsRouter(deps: AppDeps): Router {
  const router = Router();
  const { videos } = deps.db.collections;
  const drawings = drawingsCollection(deps.db.db);
  const parseJson = express.json({ limit: MAX_BODY, type: () => true });
  const view = (d: DrawingsDoc | null) => ({ drawings: d?.drawings ?? [], updatedAt: d?.updatedAt.toISOString() ?? null });

  router.get('/:id/drawings', async (req, res) => {
    const video = await loadVideoFor(videos, userOf(req), req.params.id);
    res.set('cache-control', 'no-store').json(view(await drawings.findOne({ _id: video._id })));
  });

  // Access first (404/403 before the body is read), then the body.
  router.put('/:id/drawings', async (req, res, next) => {
    const video = await loadVideoFor(videos, userOf(req), req.params.id, { write: true });
    parseJson(req, res, async (err?: unknown) => {
      try {
        if ((err as { type?: string } | undefined)?.type === 'entity.parse.failed') throw new HttpError(400, 'invalid_json', 'the body is not valid JSON');
        if (err) throw err;
        const list = readDrawings(req.body);
        const doc: DrawingsDoc = { _id: video._id, drawings: list, updatedAt: new Date() };
        await drawings.replaceOne({ _id: video._id }, doc, { upsert: true });
        res.json(view(doc));
      } catch (e) {
        next(e);
      }
    });
  });

  return router;
}

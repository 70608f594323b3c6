import { Router, type Request } from 'express';
import type { AppDeps } from '../deps.js';
import type { VideoDoc } from '../db.js';
import { notFound } from '../errors.js';
import { loadVideoFor } from '../auth/access.js';
import { userOf } from '../auth/gate.js';
import { authCollections, type ShareDoc } from '../auth/store.js';
import { looksLikeToken, newToken, tokenHash } from '../auth/tokens.js';
import { toVideo } from '../serialize.js';
import { videosRouter } from './videos.js';

/*
 * Share links: a rider gives one analysis, read-only, to anyone holding the link. The token (32 random bytes) is
 * shown once and stored only as its SHA-256; a revoked or unknown token answers 404 like a missing video.
 * The public side serves exactly what the analysis page needs (the video, its pose frames and metrics, poster and
 * sprite) through the video routes' own handlers, resolved by token instead of by id and session.
 */

const SHARED_MEDIA = /^\/[A-Za-z0-9_-]{43}\/(stream|poster|sprite|pose|metrics)$/;

/** POST/GET /api/videos/:id/shares and DELETE /api/videos/:id/shares/:shareId (behind the session gate). */
export function sharesRouter(deps: AppDeps): Router {
  const router = Router();
  const { videos } = deps.db.collections;
  const { shares } = authCollections(deps.db.db);
  const toShare = (s: ShareDoc) => ({ id: s._id, prefix: s.prefix, url: null, createdAt: s.createdAt.toISOString() });

  router.post('/:id/shares', async (req, res) => {
    const video = await loadVideoFor(videos, userOf(req), req.params.id, { write: true });
    const token = newToken();
    const share: ShareDoc = { _id: tokenHash(token), prefix: token.slice(0, 6), videoId: video._id, ownerId: video.ownerId ?? null, createdAt: new Date(), revokedAt: null };
    await shares.insertOne(share);
    res.status(201).json({ ...toShare(share), token, url: `/shared/${token}` });
  });

  router.get('/:id/shares', async (req, res) => {
    const video = await loadVideoFor(videos, userOf(req), req.params.id);
    const items = await shares.find({ videoId: video._id, revokedAt: null }).sort({ createdAt: -1 }).toArray();
    res.json({ items: items.map(toShare) });
  });

  router.delete('/:id/shares/:shareId', async (req, res) => {
    const video = await loadVideoFor(videos, userOf(req), req.params.id, { write: true });
    const shareId = String(req.params.shareId);
    const result = await shares.updateOne({ _id: shareId, videoId: video._id, revokedAt: null }, { $set: { revokedAt: new Date() } });
    if (result.matchedCount === 0) throw notFound('share');
    res.status(204).end();
  });

  return router;
}

/** The public, read-only side: GET /api/shared/:token and its media. Nothing else answers here. */
export function sharedRouter(deps: AppDeps): Router {
  const router = Router();
  const { videos, jobs } = deps.db.collections;
  const { shares } = authCollections(deps.db.db);

  async function sharedVideo(rawToken: unknown): Promise<VideoDoc> {
    if (!looksLikeToken(rawToken)) throw notFound('shared analysis');
    const share = await shares.findOne({ _id: tokenHash(rawToken), revokedAt: null });
    const video = share ? await videos.findOne({ _id: share.videoId }) : null;
    if (!video) throw notFound('shared analysis');
    return video;
  }

  router.get('/:token', async (req, res) => {
    const video = await sharedVideo(req.params.token);
    const job = await jobs.findOne({ _id: video.jobId });
    const base = `/api/shared/${req.params.token}`;
    // The Video without its owner, and with media URLs under the share (the video routes need a session).
    const { owner: _owner, ...view } = toVideo(video, job);
    res.json({
      video: { ...view, posterUrl: view.posterUrl && `${base}/poster`, spriteUrl: view.spriteUrl && `${base}/sprite` },
    });
  });

  // Only reads of the five media routes reach the video routes' handlers; everything else there stays out of reach.
  const media = videosRouter(deps, (req: Request) => sharedVideo(req.params.id));
  router.use((req, res, next) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && SHARED_MEDIA.test(req.path)) return media(req, res, next);
    next(notFound('shared analysis'));
  });
  return router;
}

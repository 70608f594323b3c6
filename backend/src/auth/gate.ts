import type { RequestHandler } from 'express';
import { ObjectId } from 'mongodb';
import { BatchedLookup } from '../coalesce.js';
import type { AuthConfig } from '../config.js';
import { HttpError } from '../errors.js';
import { sessionTokenOf } from './sessions.js';
import type { AuthCollections, SessionDoc, UserDoc } from './store.js';
import { sameSecret, tokenHash } from './tokens.js';
import { LOCAL_USER, toAuthUser, type AuthUser } from './users.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the session gate on every /api route behind it. */
      user?: AuthUser;
      /** The session the request came with (absent while sign-in is off). */
      authSession?: SessionDoc;
    }
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const unauthenticated = () => new HttpError(401, 'unauthenticated', 'sign in first');
export const forbidden = (detail = 'only an admin may do this') => new HttpError(403, 'forbidden', detail);

/**
 * Everything after this needs a live session: it sets req.user (401 `unauthenticated` without one) and, on a
 * state-changing request, requires the session's CSRF token in X-CSRF-Token (403 `csrf_failed`). A SameSite=Lax
 * cookie already stays off cross-site POSTs; the token also covers same-site pages and old browsers.
 * While sign-in is off (loopback only, see config.ts) every request acts as the local admin and the Origin check
 * in requestGuards.ts is the CSRF defence.
 */
export function sessionGate(c: AuthCollections, config: AuthConfig): RequestHandler {
  // Hundreds of polling tabs share one `$in` read of sessions and one of users per batch, never an older answer
  // than the request (see coalesce.ts): a session ended a moment ago is never let through.
  const sessions = new BatchedLookup<SessionDoc>(async (ids) => {
    // expiresAt is checked here too: MongoDB's TTL monitor removes expired sessions only about once a minute.
    const found = await c.sessions.find({ _id: { $in: ids }, expiresAt: { $gt: new Date() } }).toArray();
    return new Map(found.map((s) => [s._id, s]));
  });
  const users = new BatchedLookup<UserDoc>(async (ids) => {
    const found = await c.users.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }).toArray();
    return new Map(found.map((u) => [u._id.toHexString(), u]));
  });
  return async (req, _res, next) => {
    if (config.disabled) {
      req.user = LOCAL_USER;
      return next();
    }
    const token = sessionTokenOf(req);
    const session = token ? await sessions.get(tokenHash(token)) : null;
    const user = session ? await users.get(session.userId.toHexString()) : null;
    if (!session || !user) return next(unauthenticated());
    if (STATE_CHANGING.has(req.method)) {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
        return next(new HttpError(403, 'csrf_failed', 'the X-CSRF-Token header is missing or wrong; reload the page and try again'));
      }
    }
    req.user = toAuthUser(user);
    req.authSession = session;
    next();
  };
}

/** The signed-in user (the gate ran before any route that calls this). */
export function userOf(req: { user?: AuthUser }): AuthUser {
  if (!req.user) throw unauthenticated();
  return req.user;
}

/** Admin-only routes: others get 403 `forbidden`. */
export const requireAdmin: RequestHandler = (req, _res, next) => {
  next(userOf(req).role === 'admin' ? undefined : forbidden());
};

import type { RequestHandler } from 'express';
import type { AuthConfig } from '../config.js';
import { HttpError } from '../errors.js';
import { findSession, sessionTokenOf } from './sessions.js';
import type { AuthCollections, SessionDoc } from './store.js';
import { sameSecret } from './tokens.js';
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
  return async (req, _res, next) => {
    if (config.disabled) {
      req.user = LOCAL_USER;
      return next();
    }
    const token = sessionTokenOf(req);
    const session = token ? await findSession(c, token) : null;
    const user = session ? await c.users.findOne({ _id: session.userId }) : null;
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

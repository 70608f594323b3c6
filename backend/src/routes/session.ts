import express, { Router, type Request, type RequestHandler } from 'express';
import type { AppDeps } from '../deps.js';
import { HttpError, badRequest } from '../errors.js';
import { userOf } from '../auth/gate.js';
import { LoginLimiter, normaliseAddress } from '../auth/loginLimiter.js';
import { hashPassword, requireAcceptablePassword, verifyPassword } from '../auth/passwords.js';
import { clearSessionCookie, sessionTokenOf, setSessionCookie, startSession } from '../auth/sessions.js';
import { authCollections, type AuthCollections, type SessionDoc } from '../auth/store.js';
import { newToken, tokenHash } from '../auth/tokens.js';
import { LOCAL_USER, toAuthUser, toUserJson, type AuthUser } from '../auth/users.js';

const parseJson = express.json({ limit: '16kb', type: () => true });

/** A JSON object body of at most 16 kB (whatever the Content-Type says; none reads as {}); anything else is a 400. */
export const jsonBody: RequestHandler = (req, res, next) => {
  parseJson(req, res, (err?: unknown) => {
    // JSON.parse's message can quote the body (a password): answer in our own words.
    if ((err as { type?: string } | undefined)?.type === 'entity.parse.failed') return next(badRequest('invalid_json', 'the body is not valid JSON'));
    if (err) return next(err);
    if (req.body === undefined) req.body = {}; // no body at all: the fields' own checks answer
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      return next(badRequest('invalid_body', 'send a JSON object'));
    }
    next();
  });
};

/** Answers that carry a CSRF token or a password are never stored by a browser or a proxy. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

const invalidCredentials = () => new HttpError(401, 'invalid_credentials', 'wrong user name or password');

/** While sign-in is off the app still gets a token to send; nothing checks it (see auth/gate.ts). */
const LOCAL_CSRF_TOKEN = newToken();

async function sessionBody(c: AuthCollections, user: AuthUser, session: SessionDoc) {
  return { user: await toUserJson(c.users, user), csrfToken: session.csrfToken, authDisabled: false, expiresAt: session.expiresAt.toISOString() };
}

async function localBody(c: AuthCollections) {
  return { user: await toUserJson(c.users, LOCAL_USER), csrfToken: LOCAL_CSRF_TOKEN, authDisabled: true, expiresAt: null };
}

/** Ends the session the request's cookie names, if any (sign-in and sign-out). */
async function endSessionOf(c: AuthCollections, req: Request): Promise<void> {
  const token = sessionTokenOf(req);
  if (token) await c.sessions.deleteOne({ _id: tokenHash(token) });
}

/**
 * POST /api/session, the one public write: signing in. Throttled per account and per client address before the
 * password is checked; the same 401 for an unknown user and a wrong password, in about the same time.
 */
export function signInRouter(deps: AppDeps): Router {
  const router = Router();
  const c = authCollections(deps.db.db);
  const limiter = new LoginLimiter(c);
  router.post('/api/session', noStore, jsonBody, async (req, res) => {
    if (deps.config.auth.disabled) {
      res.json(await localBody(c));
      return;
    }
    const { username: rawName, password } = req.body as Record<string, unknown>;
    if (typeof rawName !== 'string' || typeof password !== 'string' || !rawName.trim() || !password) {
      throw badRequest('invalid_body', 'send {"username": "...", "password": "..."}');
    }
    // Any name counts against its limit, existing or not: the limiter must not tell which accounts exist.
    const username = rawName.trim().toLowerCase().slice(0, 64);
    const ticket = await limiter.begin(username, normaliseAddress(req.ip));
    const user = password.length <= 1024 ? await c.users.findOne({ username }) : null;
    if (!(await verifyPassword(user?.passwordHash ?? null, password.slice(0, 1024))) || !user) throw invalidCredentials();
    await limiter.forget(ticket);
    // A new random session id on every sign-in, never one the client brought; the one it had ends (no fixation).
    await endSessionOf(c, req);
    const { token, session } = await startSession(c, user._id, deps.config.auth.sessionTtlMs);
    setSessionCookie(req, res, token, session.expiresAt);
    res.json(await sessionBody(c, toAuthUser(user), session));
  });
  return router;
}

/** GET/DELETE /api/session and PUT /api/session/password, behind the session gate. */
export function sessionRouter(deps: AppDeps): Router {
  const router = Router();
  const c = authCollections(deps.db.db);
  router.use('/api/session', noStore);

  router.get('/api/session', async (req, res) => {
    if (!req.authSession) {
      res.json(await localBody(c));
      return;
    }
    res.json(await sessionBody(c, userOf(req), req.authSession));
  });

  router.delete('/api/session', async (req, res) => {
    if (req.authSession) await c.sessions.deleteOne({ _id: req.authSession._id });
    clearSessionCookie(req, res);
    res.status(204).end();
  });

  /** Changing one's password ends every session of the account; this browser continues with a fresh one. */
  router.put('/api/session/password', jsonBody, async (req, res) => {
    const user = userOf(req);
    if (!req.authSession || !user.id) throw new HttpError(409, 'auth_disabled', 'sign-in is turned off; there is no password to change');
    const { currentPassword, newPassword } = req.body as Record<string, unknown>;
    if (typeof currentPassword !== 'string') throw badRequest('invalid_field', '`currentPassword` must be a string');
    const next = requireAcceptablePassword(newPassword, 'newPassword');
    const doc = await c.users.findOne({ _id: user.id });
    if (!doc || !(await verifyPassword(doc.passwordHash, currentPassword.slice(0, 1024)))) {
      throw new HttpError(403, 'invalid_credentials', 'the current password is wrong');
    }
    await c.users.updateOne({ _id: user.id }, { $set: { passwordHash: await hashPassword(next), passwordChangedAt: new Date() } });
    await c.sessions.deleteMany({ userId: user.id });
    const { token, session } = await startSession(c, user.id, deps.config.auth.sessionTtlMs);
    setSessionCookie(req, res, token, session.expiresAt);
    res.status(204).end();
  });

  return router;
}

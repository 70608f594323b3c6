import type { Request, Response } from 'express';
import type { ObjectId } from 'mongodb';
import type { AuthCollections, SessionDoc } from './store.js';
import { looksLikeToken, newToken, tokenHash } from './tokens.js';

export const SESSION_COOKIE = 'sb_session';

/** The session cookie's value from the Cookie header, if it is shaped like a token. */
export function sessionTokenOf(req: Request): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return looksLikeToken(value) ? value : null;
    }
  }
  return null;
}

/** Starts a session: a fresh random token (never one the client offered: no fixation), stored hashed. */
export async function startSession(c: AuthCollections, userId: ObjectId, ttlMs: number): Promise<{ token: string; session: SessionDoc }> {
  const token = newToken();
  const now = new Date();
  const session: SessionDoc = { _id: tokenHash(token), userId, csrfToken: newToken(), createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) };
  await c.sessions.insertOne(session);
  return { token, session };
}

/** Cookie attributes: HttpOnly, SameSite=Lax, Path=/, Secure when the request came over HTTPS (or the proxy says so). */
function cookieOptions(req: Request) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/', secure: req.secure };
}

export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: Date): void {
  res.cookie(SESSION_COOKIE, token, { ...cookieOptions(req), expires: expiresAt });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, cookieOptions(req));
}

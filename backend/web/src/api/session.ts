// The signed-in session (issue 16): who is signed in, the CSRF token every state-changing request carries, and
// the "session lost" signal that sends the app back to sign-in without tearing down what is in progress.
import { apiUrl } from '../config';
import { ApiError, toApiError } from './errors';

export type UserRole = 'rider' | 'coach' | 'admin';
export interface UserRef { id: string; username: string }
export interface User extends UserRef { role: UserRole; riders?: UserRef[] }
export interface Session { user: User; csrfToken: string; authDisabled: boolean; expiresAt?: string | null }

/** A refused sign-in: wrong credentials (401) or too many attempts (429, with the wait in seconds). */
export class SignInError extends ApiError {
  constructor(status: number, code: string, detail: string, readonly retryAfterS: number | null) {
    super(status, code, detail);
    this.name = 'SignInError';
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let current: Session | null = null;
const lostListeners = new Set<() => void>();
const signedInListeners = new Set<(s: Session) => void>();

/** The session the app runs under now, or null (not signed in, or the API said it ended). */
export const currentSession = (): Session | null => current;

/** The CSRF token to send now; read at each request so a renewed session's token is used at once. */
export const csrfToken = (): string | null => current?.csrfToken ?? null;

/** The headers a request with this method needs: X-CSRF-Token for POST/PUT/PATCH/DELETE. */
export function csrfHeaders(method: string | undefined): Record<string, string> {
  const token = csrfToken();
  return token && STATE_CHANGING.has((method ?? 'GET').toUpperCase()) ? { 'X-CSRF-Token': token } : {};
}

function adopt(s: Session): Session {
  current = s;
  for (const fn of [...signedInListeners]) fn(s);
  return s;
}

/**
 * The API answered 401 to a request made under a session: the session expired or was ended elsewhere (password
 * change, admin reset). Listeners (the app shell) show sign-in; work in progress waits for `nextSignIn()`.
 */
export function sessionLost(): void {
  if (!current) return;
  current = null;
  for (const fn of [...lostListeners]) fn();
}

export function onSessionLost(fn: () => void): () => void {
  lostListeners.add(fn);
  return () => lostListeners.delete(fn);
}

export function onSignedIn(fn: (s: Session) => void): () => void {
  signedInListeners.add(fn);
  return () => signedInListeners.delete(fn);
}

/** Resolves with the next session that signs in (an upload paused by a 401 resumes then). */
export function nextSignIn(): Promise<Session> {
  return new Promise((resolve) => {
    const off = onSignedIn((s) => {
      off();
      resolve(s);
    });
  });
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(apiUrl(path), { credentials: 'include', ...init, headers: { Accept: 'application/json', ...csrfHeaders(init.method), ...init.headers } });
  } catch {
    throw toApiError(0, null);
  }
}

/** Who is signed in (GET /api/session); null when nobody is (401). */
export async function loadSession(): Promise<Session | null> {
  const res = await send('/api/session', { method: 'GET' });
  if (res.status === 401) {
    current = null;
    return null;
  }
  if (!res.ok) throw toApiError(res.status, await res.text().catch(() => ''));
  return adopt((await res.json()) as Session);
}

/** "Retry-After: 840" → 840; an HTTP date → seconds from now; anything else → null. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const at = Date.parse(s);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** "in 45 seconds", "in 14 minutes": how long a throttled person waits, in words. */
export function waitInWords(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** POST /api/session; a refusal is a SignInError a person can read (401: wrong credentials; 429: wait N). */
export async function signIn(username: string, password: string): Promise<Session> {
  const res = await send('/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: username.trim().toLowerCase(), password }),
  });
  if (res.ok) return adopt((await res.json()) as Session);
  const err = toApiError(res.status, await res.text().catch(() => ''));
  if (res.status === 401) throw new SignInError(401, err.code, 'Wrong username or password.', null);
  if (res.status === 429) {
    const wait = retryAfterSeconds(res.headers.get('Retry-After'));
    const when = wait === null ? 'later' : `in ${waitInWords(wait)}`;
    throw new SignInError(429, err.code, `Too many failed sign-ins. Try again ${when}.`, wait);
  }
  throw new SignInError(err.status, err.code, err.detail, null);
}

/** DELETE /api/session: signs out here (the cookie is cleared by the API). */
export async function signOut(): Promise<void> {
  const res = await send('/api/session', { method: 'DELETE' });
  // 401: already signed out (expired); either way nobody is signed in now.
  if (!res.ok && res.status !== 401) throw toApiError(res.status, await res.text().catch(() => ''));
  current = null;
}

/**
 * PUT /api/session/password. Every other session of the user ends; this one gets a fresh id, so the CSRF token
 * is read again from GET /api/session.
 */
export async function changePassword(currentPassword: string, newPassword: string): Promise<Session | null> {
  const res = await send('/api/session/password', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ currentPassword, newPassword }),
  });
  if (!res.ok) {
    const err = toApiError(res.status, await res.text().catch(() => ''));
    if (res.status === 401 && err.code === 'unauthenticated') sessionLost();
    throw err;
  }
  return loadSession();
}

/** For tests: forget the session and every listener. */
export function resetSessionForTests(s: Session | null = null): void {
  current = s;
  lostListeners.clear();
  signedInListeners.clear();
}

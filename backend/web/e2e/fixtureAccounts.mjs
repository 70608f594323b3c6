// TEST DOUBLE of the API's accounts (issue 16 contract, docs/contracts.md), for the browser tests only: users,
// sessions (sb_session cookie), CSRF tokens, sign-in rate limiting, ownership checks and share links, in memory.
// Plain-text passwords are fine here: nothing real is stored and the double never leaves the test process.
import { createHash, randomBytes } from 'node:crypto';

/** The accounts the browser tests sign in as. ana owns the recorded fixture videos; cora coaches ana. */
export const FIXTURE_USERS = [
  { id: 'u-admin', username: 'admin', role: 'admin', password: 'admin-pass-1', riders: [] },
  { id: 'u-ana', username: 'ana', role: 'rider', password: 'ana-pass-1', riders: [] },
  { id: 'u-ben', username: 'ben', role: 'rider', password: 'ben-pass-1', riders: [] },
  { id: 'u-cora', username: 'cora', role: 'coach', password: 'cora-pass-1', riders: ['u-ana'] },
];

const LOCAL_USER = { id: 'local', username: 'local', role: 'admin', riders: [] };
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const WINDOW_MS = 15 * 60 * 1000;
const PER_USERNAME = 5;
const PER_ADDRESS = 20;
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const token = () => randomBytes(32).toString('base64url');
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

export function createAccounts() {
  const users = FIXTURE_USERS.map((u) => ({ ...u }));
  const sessions = new Map(); // sha256(token) → {userId, csrfToken, expiresAt}
  const failures = []; // {username, address, at}
  const shares = new Map(); // sha256(token) → {id, videoId, ownerId, createdAt, revokedAt}
  let shareSeq = 0;
  let authDisabled = false;

  const byId = (id) => users.find((u) => u.id === id);
  const publicUser = (u) => ({
    id: u.id,
    username: u.username,
    role: u.role,
    riders: u.role === 'coach' ? u.riders.map((id) => ({ id, username: byId(id)?.username })) : [],
  });
  const cookieOf = (req) => /(?:^|;\s*)sb_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? null;
  const sessionOf = (req) => {
    const t = cookieOf(req);
    const s = t ? sessions.get(sha256(t)) : null;
    if (!s || s.expiresAt < Date.now() || !byId(s.userId)) return null;
    return s;
  };
  const cookie = (t, req) =>
    `sb_session=${t}; HttpOnly; SameSite=Lax; Path=/${req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : ''}`;
  const open = (user, req) => {
    const t = token();
    const s = { userId: user.id, csrfToken: token(), expiresAt: Date.now() + SESSION_TTL_MS };
    sessions.set(sha256(t), s);
    return { cookie: cookie(t, req), body: sessionBody(user, s) };
  };
  const sessionBody = (user, s) => ({ user: publicUser(user), csrfToken: s.csrfToken, authDisabled: false, expiresAt: new Date(s.expiresAt).toISOString() });

  /** Seconds until a throttled username/address may try again, or 0. */
  function throttled(username, address) {
    const now = Date.now();
    while (failures.length && failures[0].at < now - WINDOW_MS) failures.shift();
    const mine = failures.filter((f) => f.username === username);
    const theirs = failures.filter((f) => f.address === address);
    const wait = (list, limit) => (list.length >= limit ? Math.ceil((list[list.length - limit].at + WINDOW_MS - now) / 1000) : 0);
    return Math.max(wait(mine, PER_USERNAME), wait(theirs, PER_ADDRESS));
  }

  /** POST/GET/DELETE /api/session and PUT /api/session/password. `body` is the parsed JSON (or null). */
  function sessionRoute(req, res, p, body, { json, fail }) {
    if (p === '/api/session' && req.method === 'POST') {
      const { username, password } = body ?? {};
      if (typeof username !== 'string' || typeof password !== 'string') return fail(res, 400, 'invalid_body', 'send {"username", "password"}');
      const name = username.trim().toLowerCase();
      const address = req.headers['x-forwarded-for'] || req.socket.remoteAddress;
      const wait = throttled(name, address);
      if (wait > 0) {
        res.setHeader('retry-after', String(wait));
        return fail(res, 429, 'too_many_attempts', `too many failed sign-ins; try again in ${wait} s`);
      }
      const user = users.find((u) => u.username === name);
      if (!user || user.password !== password) {
        failures.push({ username: name, address, at: Date.now() });
        return fail(res, 401, 'invalid_credentials', 'wrong username or password');
      }
      // A new session id on every sign-in: an id planted before sign-in is never promoted.
      const old = cookieOf(req);
      if (old) sessions.delete(sha256(old));
      const { cookie: c, body: b } = open(user, req);
      res.setHeader('set-cookie', c);
      return json(res, 200, b);
    }
    if (p === '/api/session' && req.method === 'GET') {
      if (authDisabled) return json(res, 200, { user: LOCAL_USER, csrfToken: 'local', authDisabled: true, expiresAt: null });
      const s = sessionOf(req);
      if (!s) return fail(res, 401, 'unauthenticated', 'sign in first');
      return json(res, 200, sessionBody(byId(s.userId), s));
    }
    return null;
  }

  /**
   * The gate in front of every other /api route: the signed-in user, or null after answering 401/403 itself.
   * Public: /api/shared/... (share links). While auth is off everyone is the local admin and CSRF is not checked.
   */
  function gate(req, res, p, { fail }) {
    if (authDisabled) return LOCAL_USER;
    const s = sessionOf(req);
    if (!s) {
      fail(res, 401, 'unauthenticated', 'sign in first');
      return null;
    }
    if (STATE_CHANGING.has(req.method) && req.headers['x-csrf-token'] !== s.csrfToken) {
      fail(res, 403, 'csrf_failed', 'the X-CSRF-Token header is missing or wrong; reload the page and try again');
      return null;
    }
    return { ...publicUser(byId(s.userId)), session: s, riderIds: byId(s.userId).riders };
  }

  /** Routes that need a session (after the gate): sign-out, password change, the admin's account list. */
  function accountRoute(req, res, p, user, body, { json, fail }) {
    if (p === '/api/session' && req.method === 'DELETE') {
      for (const [k, v] of sessions) if (v === user.session) sessions.delete(k);
      res.setHeader('set-cookie', 'sb_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0');
      res.writeHead(204);
      return res.end();
    }
    if (p === '/api/session/password' && req.method === 'PUT') {
      const u = byId(user.id);
      const { currentPassword, newPassword } = body ?? {};
      if (typeof currentPassword !== 'string' || typeof newPassword !== 'string') return fail(res, 400, 'invalid_body', 'send {"currentPassword", "newPassword"}');
      if (currentPassword !== u.password) return fail(res, 403, 'invalid_credentials', 'the current password is wrong');
      if (newPassword.length < 8) return fail(res, 400, 'weak_password', 'use at least 8 characters');
      u.password = newPassword;
      // Sign out everywhere: every session of the user ends; this one continues under a fresh id.
      for (const [k, v] of sessions) if (v.userId === u.id) sessions.delete(k);
      const { cookie: c } = open(u, req);
      res.setHeader('set-cookie', c);
      res.writeHead(204);
      return res.end();
    }
    if (p === '/api/users' && req.method === 'GET') {
      if (user.role !== 'admin') return fail(res, 403, 'forbidden', 'only an admin may do this');
      return json(res, 200, { items: users.map(publicUser) });
    }
    return null;
  }

  /** May this user read the video (owner, their coach, admin)? */
  const mayRead = (user, v) => user.role === 'admin' || v.ownerId === user.id || (user.role === 'coach' && user.riderIds?.includes(v.ownerId));
  /** Why this user may not change the video: null (may), 404 (may not even see it) or 403 read_only (coach). */
  const changeRefusal = (user, v) => {
    if (user.role === 'admin' || v.ownerId === user.id) return null;
    return mayRead(user, v) ? [403, 'read_only', "a coach may look at a rider's videos, not change them"] : [404, 'not_found', `No video ${v.id}.`];
  };
  const ownerOf = (id) => {
    const u = id === 'local' ? LOCAL_USER : byId(id);
    return u ? { id: u.id, username: u.username } : null;
  };

  function createShare(video, ownerId) {
    const t = token();
    const share = { id: `s${++shareSeq}`, prefix: t.slice(0, 6), videoId: video.id, ownerId, createdAt: new Date().toISOString(), revokedAt: null };
    shares.set(sha256(t), share);
    return { id: share.id, prefix: t.slice(0, 6), url: `/shared/${t}`, createdAt: share.createdAt, token: t };
  }
  const sharesOf = (videoId) => [...shares.values()].filter((s) => s.videoId === videoId && !s.revokedAt).reverse();
  const revoke = (videoId, shareId) => {
    const s = [...shares.values()].find((x) => x.id === shareId && x.videoId === videoId && !x.revokedAt);
    if (s) s.revokedAt = new Date().toISOString();
    return !!s;
  };
  /** The video id a live share token opens, or null (unknown or revoked). */
  const sharedVideoId = (t) => {
    const s = shares.get(sha256(t));
    return s && !s.revokedAt ? s.videoId : null;
  };

  return {
    users,
    sessionRoute,
    gate,
    accountRoute,
    mayRead,
    changeRefusal,
    ownerOf,
    createShare,
    sharesOf,
    revoke,
    sharedVideoId,
    /** Test controls. */
    expireSessions: () => sessions.clear(),
    /** Whether the request comes with a live session (or sign-in is off). */
    signedIn: (req) => authDisabled || sessionOf(req) !== null,
    setAuthDisabled: (on) => (authDisabled = !!on),
    resetAttempts: () => failures.splice(0),
    sessionCount: () => sessions.size,
  };
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deleteVideo, getVideo, listVideos } from './client';
import {
  changePassword, csrfHeaders, currentSession, loadSession, nextSignIn, onSessionLost, resetSessionForTests, retryAfterSeconds,
  signIn, signOut, SignInError, type Session,
} from './session';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const session = (csrfToken: string, username = 'ana'): Session => ({
  user: { id: `u-${username}`, username, role: 'rider', riders: [] }, csrfToken, authDisabled: false, expiresAt: '2030-01-01T00:00:00Z',
});
/** The headers of the n-th fetch call, as a plain object. */
const headersOf = (fetchMock: ReturnType<typeof vi.fn>, n: number) => (fetchMock.mock.calls[n][1] as RequestInit).headers as Record<string, string>;

beforeEach(() => resetSessionForTests());
afterEach(() => vi.unstubAllGlobals());

describe('sign-in', () => {
  it('posts the lower-cased username with the cookie allowed, and adopts the session and its CSRF token', async () => {
    const fetchMock = vi.fn(async () => json(200, session('tok-1')));
    vi.stubGlobal('fetch', fetchMock);
    await signIn('  Ana ', 'pw secret');
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/session');
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('include');
    expect(JSON.parse(init.body as string)).toEqual({ username: 'ana', password: 'pw secret' });
    // POST /api/session is the one write that needs no token (there is none before signing in).
    expect(headersOf(fetchMock, 0)).not.toHaveProperty('X-CSRF-Token');
    expect(currentSession()?.csrfToken).toBe('tok-1');
  });

  it('answers a 401 with one line that does not say whether the user exists', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'invalid_credentials', detail: 'wrong username or password' })));
    await expect(signIn('ana', 'nope')).rejects.toMatchObject({ status: 401, detail: 'Wrong username or password.' });
    expect(currentSession()).toBeNull();
  });

  it('answers a 429 with the wait from Retry-After', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(429, { error: 'too_many_attempts', detail: 'slow down' }, { 'Retry-After': '840' })));
    const err = await signIn('ana', 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignInError);
    expect(err).toMatchObject({ status: 429, retryAfterS: 840, detail: 'Too many failed sign-ins. Try again in 14 minutes.' });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterSeconds('45')).toBe(45);
    expect(retryAfterSeconds('Wed, 21 Oct 2026 07:28:30 GMT', Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'))).toBe(30);
    expect(retryAfterSeconds('soon')).toBeNull();
    expect(retryAfterSeconds(null)).toBeNull();
  });

  it('GET /api/session: 401 means nobody is signed in, not an error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'unauthenticated', detail: 'sign in first' })));
    await expect(loadSession()).resolves.toBeNull();
  });
});

describe('CSRF token on writes', () => {
  it('sends X-CSRF-Token on DELETE/POST/PUT/PATCH and never on GET', async () => {
    resetSessionForTests(session('tok-7'));
    const fetchMock = vi.fn(async (_url: string, init?: RequestInit) => (init?.method === 'DELETE' ? json(204, null) : json(200, { items: [], page: 1, limit: 50, total: 0 })));
    vi.stubGlobal('fetch', fetchMock);
    await listVideos();
    await deleteVideo('v1');
    expect(headersOf(fetchMock, 0)).not.toHaveProperty('X-CSRF-Token');
    expect(headersOf(fetchMock, 1)['X-CSRF-Token']).toBe('tok-7');
    expect((fetchMock.mock.calls[1][1] as RequestInit).credentials).toBe('include');
    for (const m of ['POST', 'PUT', 'PATCH', 'delete']) expect(csrfHeaders(m)).toEqual({ 'X-CSRF-Token': 'tok-7' });
    expect(csrfHeaders('GET')).toEqual({});
  });

  it('a 403 csrf_failed re-reads the session token and retries once with it', async () => {
    resetSessionForTests(session('old'));
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(json(403, { error: 'csrf_failed', detail: 'wrong token' }))
      .mockResolvedValueOnce(json(200, session('new')))
      .mockResolvedValueOnce(json(204, null));
    vi.stubGlobal('fetch', fetchMock);
    await deleteVideo('v1');
    expect(headersOf(fetchMock, 0)['X-CSRF-Token']).toBe('old');
    expect(fetchMock.mock.calls[1][0]).toBe('/api/session');
    expect(headersOf(fetchMock, 2)['X-CSRF-Token']).toBe('new');
  });

  it('a 403 read_only is final (no retry)', async () => {
    resetSessionForTests(session('tok'));
    const fetchMock = vi.fn(async () => json(403, { error: 'read_only', detail: "a coach may not change a rider's videos" }));
    vi.stubGlobal('fetch', fetchMock);
    await expect(deleteVideo('v1')).rejects.toMatchObject({ code: 'read_only' });
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});

describe('session lost', () => {
  it('a 401 from any route tells the app once, and work waits for the next sign-in', async () => {
    resetSessionForTests(session('tok'));
    const lost = vi.fn();
    onSessionLost(lost);
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'unauthenticated', detail: 'sign in first' })));
    await expect(getVideo('v1')).rejects.toMatchObject({ status: 401 });
    await expect(getVideo('v2')).rejects.toMatchObject({ status: 401 });
    expect(lost).toHaveBeenCalledTimes(1);
    expect(currentSession()).toBeNull();
    const waiting = nextSignIn();
    vi.stubGlobal('fetch', vi.fn(async () => json(200, session('fresh'))));
    await signIn('ana', 'pw');
    await expect(waiting).resolves.toMatchObject({ csrfToken: 'fresh', user: { username: 'ana' } });
  });

  it('a 401 with no body (as a HEAD gets it) is a lost session too', async () => {
    resetSessionForTests(session('tok'));
    const lost = vi.fn();
    onSessionLost(lost);
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 401 })));
    await expect(getVideo('v1')).rejects.toMatchObject({ status: 401 });
    expect(lost).toHaveBeenCalledTimes(1);
  });

  it('a 404 is not a lost session', async () => {
    resetSessionForTests(session('tok'));
    const lost = vi.fn();
    onSessionLost(lost);
    vi.stubGlobal('fetch', vi.fn(async () => json(404, { error: 'not_found', detail: 'No video v1.' })));
    await expect(getVideo('v1')).rejects.toMatchObject({ status: 404 });
    expect(lost).not.toHaveBeenCalled();
  });
});

describe('sign-out and password change', () => {
  it('sign-out sends DELETE /api/session with the token and forgets the session', async () => {
    resetSessionForTests(session('tok'));
    const fetchMock = vi.fn(async () => json(204, null));
    vi.stubGlobal('fetch', fetchMock);
    await signOut();
    expect((fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1].method).toBe('DELETE');
    expect(headersOf(fetchMock, 0)['X-CSRF-Token']).toBe('tok');
    expect(currentSession()).toBeNull();
  });

  it('a password change reads the renewed session (its new CSRF token)', async () => {
    resetSessionForTests(session('before'));
    const fetchMock = vi.fn().mockResolvedValueOnce(json(204, null)).mockResolvedValueOnce(json(200, session('after')));
    vi.stubGlobal('fetch', fetchMock);
    await changePassword('old-pass-1', 'new-pass-2');
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect([url, init.method]).toEqual(['/api/session/password', 'PUT']);
    expect(JSON.parse(init.body as string)).toEqual({ currentPassword: 'old-pass-1', newPassword: 'new-pass-2' });
    expect(headersOf(fetchMock, 0)['X-CSRF-Token']).toBe('before');
    expect(currentSession()?.csrfToken).toBe('after');
  });

  it('a wrong current password is an error, not a lost session', async () => {
    resetSessionForTests(session('tok'));
    const lost = vi.fn();
    onSessionLost(lost);
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'invalid_credentials', detail: 'the current password is wrong' })));
    await expect(changePassword('x', 'new-pass-2')).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(lost).not.toHaveBeenCalled();
    expect(currentSession()?.csrfToken).toBe('tok');
  });
});

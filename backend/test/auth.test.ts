import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config.js';
import { formatLogLine } from '../src/log.js';
import { startApi } from '../src/server.js';
import { tokenHash } from '../src/auth/tokens.js';
import { runToExit } from './support/apiProcess.js';
import { minimalMp4 } from './support/fixtures.js';
import { FAST_ENV, TEST_ADMIN, clientFor, signIn, startHarness, type Harness } from './support/harness.js';
import { startTestMongo, type TestMongo } from './support/secantus.js';

/*
 * Accounts and sessions against the real API and a real MongoDB-wire server: sign-in, cookies, CSRF, expiry,
 * password changes, throttling, account management, and the loopback-only switch that turns sign-in off.
 */

/** The sb_session cookie a response sets: its value and its attributes, lower-cased. */
function sessionCookie(res: request.Response): { value: string; attrs: string[]; raw: string } {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const raw = all.find((c) => c.startsWith('sb_session='));
  assert.ok(raw, `no sb_session cookie in ${JSON.stringify(all)}`);
  const [pair, ...attrs] = raw.split(';').map((s) => s.trim());
  return { value: pair!.slice('sb_session='.length), attrs: attrs.map((a) => a.toLowerCase()), raw };
}

const headersFor = (cookieValue: string, csrfToken = '') => ({ Cookie: `sb_session=${cookieValue}`, 'X-CSRF-Token': csrfToken });

/** A client address of its own per test, so the per-address limit of one test does not spill into another. */
let nextAddress = 10;
const freshAddress = () => `10.0.0.${nextAddress++}`;

function assertError(res: request.Response, status: number, code: string) {
  assert.equal(res.status, status, `${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error, code, JSON.stringify(res.body));
  assert.equal(typeof res.body.detail, 'string');
}

describe('sessions', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('answers 401 unauthenticated on every /api route without a session, but not on /health', async () => {
    const anon = request(h.url);
    for (const res of [
      await anon.get('/api/videos'),
      await anon.get(`/api/videos/${'a'.repeat(24)}`),
      await anon.get(`/api/jobs/${'a'.repeat(24)}`),
      await anon.get(`/api/jobs/${'a'.repeat(24)}/events`),
      await anon.get('/api/users'),
      await anon.get('/api/session'),
      await anon.delete('/api/session'),
      await anon.get('/api/no-such-route'),
      await anon.post('/api/videos').field('role', 'rider').attach('video', minimalMp4(), 'a.mp4'),
      await anon.post('/api/uploads').set({ 'Tus-Resumable': '1.0.0', 'Upload-Length': '10' }),
    ]) {
      assertError(res, 401, 'unauthenticated');
      assert.equal(res.body.detail, 'sign in first');
    }
    assert.equal((await anon.get('/health')).status, 200);
    // A cookie that names no session is no session.
    assertError(await anon.get('/api/videos').set('Cookie', `sb_session=${'x'.repeat(43)}`), 401, 'unauthenticated');
  });

  it('signs in with an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS) and says who is signed in', async () => {
    const res = await request(h.url).post('/api/session').set('X-Forwarded-For', freshAddress()).send(TEST_ADMIN);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user.username, 'admin');
    assert.equal(res.body.user.role, 'admin');
    assert.deepEqual(res.body.user.riders, []);
    assert.match(res.body.user.id, /^[0-9a-f]{24}$/);
    assert.equal(res.body.authDisabled, false);
    assert.match(res.body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(res.headers['cache-control'], 'no-store', 'a CSRF token is never cached');
    const ttl = Date.parse(res.body.expiresAt) - Date.now();
    assert.ok(ttl > 11.9 * 3_600_000 && ttl <= 12 * 3_600_000, `default expiry is 12 h, got ${ttl} ms`);
    assert.ok(!('password' in res.body.user) && !('passwordHash' in res.body.user));

    const cookie = sessionCookie(res);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.ok(cookie.attrs.includes('httponly'), cookie.raw);
    assert.ok(cookie.attrs.includes('samesite=lax'), cookie.raw);
    assert.ok(cookie.attrs.includes('path=/'), cookie.raw);
    assert.ok(!cookie.attrs.includes('secure'), `plain HTTP: no Secure flag (${cookie.raw})`);
    assert.ok(cookie.attrs.some((a) => a.startsWith('expires=')), cookie.raw);

    const secure = await request(h.url).post('/api/session').set({ 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': freshAddress() }).send(TEST_ADMIN);
    assert.equal(secure.status, 200);
    assert.ok(sessionCookie(secure).attrs.includes('secure'), 'behind the HTTPS web server the cookie is Secure');

    const me = await request(h.url).get('/api/session').set(headersFor(cookie.value));
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.user, res.body.user);
    assert.equal(me.body.csrfToken, res.body.csrfToken);
    assert.equal(me.body.expiresAt, res.body.expiresAt);
    // The database holds the token's hash, never the token.
    const stored = await h.api.db.db.collection('sessions').findOne({ _id: tokenHash(cookie.value) as never });
    assert.ok(stored);
    assert.equal(await h.api.db.db.collection('sessions').countDocuments({ _id: cookie.value as never }), 0);
  });

  it('answers the same 401 for an unknown user and a wrong password, and 400 for a bad body', async () => {
    const address = freshAddress();
    const wrong = await request(h.url).post('/api/session').set('X-Forwarded-For', address).send({ username: 'admin', password: 'not-the-password' });
    const unknown = await request(h.url).post('/api/session').set('X-Forwarded-For', address).send({ username: 'nobody', password: 'not-the-password' });
    assertError(wrong, 401, 'invalid_credentials');
    assertError(unknown, 401, 'invalid_credentials');
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal(wrong.headers['set-cookie'], undefined);
    assertError(await request(h.url).post('/api/session').send({ username: 'admin' }), 400, 'invalid_body');
    assertError(await request(h.url).post('/api/session').send({ username: 5, password: 'x' }), 400, 'invalid_body');
    assertError(await request(h.url).post('/api/session').send([]), 400, 'invalid_body');
    const malformed = await request(h.url).post('/api/session').set('Content-Type', 'application/json').send('{"username":');
    assertError(malformed, 400, 'invalid_json');
    // JSON.parse quotes what it could not read; the answer must not (it may be a password).
    const quoted = await request(h.url).post('/api/session').set('Content-Type', 'application/json').send('hunter2-secret');
    assertError(quoted, 400, 'invalid_json');
    assert.ok(!quoted.text.includes('hunter2'), quoted.text);
    // Case and surrounding spaces in the name do not matter.
    assert.equal((await request(h.url).post('/api/session').set('X-Forwarded-For', address).send({ username: ' Admin ', password: TEST_ADMIN.password })).status, 200);
  });

  it('gives a new session id on every sign-in; the cookie the browser had (or was planted) never becomes the session', async () => {
    const first = await signIn(h.url, TEST_ADMIN.username, TEST_ADMIN.password);
    // Signing in again from a browser that holds a live session: a new id, and the old one ends.
    const again = await request(h.url).post('/api/session').set('Cookie', first.cookie).send(TEST_ADMIN);
    assert.equal(again.status, 200);
    const second = sessionCookie(again).value;
    assert.notEqual(`sb_session=${second}`, first.cookie);
    assertError(await request(h.url).get('/api/session').set('Cookie', first.cookie), 401, 'unauthenticated');
    assert.equal((await request(h.url).get('/api/session').set(headersFor(second))).status, 200);

    // An attacker plants a cookie value of their choosing before the victim signs in: it is ignored.
    const planted = 'A'.repeat(43);
    const victim = await request(h.url).post('/api/session').set('Cookie', `sb_session=${planted}`).send(TEST_ADMIN);
    assert.equal(victim.status, 200);
    assert.notEqual(sessionCookie(victim).value, planted);
    assertError(await request(h.url).get('/api/videos').set('Cookie', `sb_session=${planted}`), 401, 'unauthenticated');
  });

  it('refuses a state-changing request without the session CSRF token (403 csrf_failed), tus included', async () => {
    const s = await signIn(h.url, TEST_ADMIN.username, TEST_ADMIN.password);
    const withoutToken = { Cookie: s.cookie };
    const wrongToken = { Cookie: s.cookie, 'X-CSRF-Token': 'B'.repeat(43) };
    const other = await signIn(h.url, TEST_ADMIN.username, TEST_ADMIN.password); // another session's token
    const upload = await h.upload(minimalMp4(3));
    assert.equal(upload.status, 202);
    const videoId = upload.body.videoId;
    for (const headers of [withoutToken, wrongToken, { Cookie: s.cookie, 'X-CSRF-Token': other.csrfToken }]) {
      assertError(await request(h.url).delete(`/api/videos/${videoId}`).set(headers), 403, 'csrf_failed');
      assertError(await request(h.url).post('/api/videos').set(headers).field('role', 'rider').attach('video', minimalMp4(4), 'a.mp4'), 403, 'csrf_failed');
      assertError(await request(h.url).post('/api/users').set(headers).send({ username: 'eve', role: 'admin' }), 403, 'csrf_failed');
      assertError(await request(h.url).post(`/api/videos/${videoId}/shares`).set(headers), 403, 'csrf_failed');
      assertError(await request(h.url).put('/api/session/password').set(headers).send({ currentPassword: TEST_ADMIN.password, newPassword: 'x'.repeat(12) }), 403, 'csrf_failed');
      assertError(await request(h.url).delete('/api/session').set(headers), 403, 'csrf_failed');
      const tus = await request(h.url).post('/api/uploads').set({ ...headers, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', 'Upload-Metadata': `role ${Buffer.from('rider').toString('base64')}` });
      assertError(tus, 403, 'csrf_failed');
    }
    // Reads need no token; nothing above changed anything.
    assert.equal((await request(h.url).get(`/api/videos/${videoId}`).set(withoutToken)).status, 200);
    assert.equal((await h.http.get('/api/users')).body.items.length, 1);
    assert.equal((await request(h.url).get('/api/session').set(withoutToken)).status, 200);
    // With the token the same requests pass.
    const tus = await request(h.url).post('/api/uploads').set({ ...s.headers, 'Tus-Resumable': '1.0.0', 'Upload-Length': '10', 'Upload-Metadata': `role ${Buffer.from('rider').toString('base64')}` });
    assert.equal(tus.status, 201, tus.text);
    assert.equal((await request(h.url).delete(`/api/videos/${videoId}`).set(s.headers)).status, 204);
  });

  it('signs out: 204, the cookie is cleared and the session is dead', async () => {
    const s = await signIn(h.url, TEST_ADMIN.username, TEST_ADMIN.password);
    const res = await request(h.url).delete('/api/session').set(s.headers);
    assert.equal(res.status, 204);
    const cleared = sessionCookie(res);
    assert.equal(cleared.value, '');
    assert.ok(cleared.attrs.some((a) => a.startsWith('expires=') && Date.parse(a.slice(8)) < Date.now()), cleared.raw);
    assertError(await request(h.url).get('/api/session').set(s.headers), 401, 'unauthenticated');
  });

  it('ends a session at its expiry', async () => {
    const s = await signIn(h.url, TEST_ADMIN.username, TEST_ADMIN.password);
    assert.equal((await request(h.url).get('/api/videos').set(s.headers)).status, 200);
    // Time passes: the session's expiry is now behind us (MongoDB's TTL monitor may not have removed it yet).
    const token = s.cookie.slice('sb_session='.length);
    await h.api.db.db.collection('sessions').updateOne({ _id: tokenHash(token) as never }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    assertError(await request(h.url).get('/api/videos').set(s.headers), 401, 'unauthenticated');
  });

  it('expires sessions after SESSION_TTL_HOURS', async () => {
    const api = await h.startAnotherApi({ SESSION_TTL_HOURS: '1' });
    const res = await request(`http://127.0.0.1:${api.port}`).post('/api/session').send(TEST_ADMIN);
    assert.equal(res.status, 200);
    const ttl = Date.parse(res.body.expiresAt) - Date.now();
    assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `${ttl}`);
    await api.close();
  });

  it('changing the password ends every other session; this browser goes on with a new cookie', async () => {
    const { session: a, password } = await h.addUser('pat', 'rider');
    const b = await signIn(h.url, 'pat', password);
    assertError(
      await request(h.url).put('/api/session/password').set(a.headers).send({ currentPassword: 'wrong-password', newPassword: 'a-new-password' }),
      403,
      'invalid_credentials',
    );
    assertError(await request(h.url).put('/api/session/password').set(a.headers).send({ currentPassword: password, newPassword: 'short' }), 400, 'weak_password');
    const res = await request(h.url).put('/api/session/password').set(a.headers).send({ currentPassword: password, newPassword: 'a-new-password' });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const fresh = sessionCookie(res).value;
    assert.notEqual(`sb_session=${fresh}`, a.cookie);
    assertError(await request(h.url).get('/api/session').set(b.headers), 401, 'unauthenticated');
    assertError(await request(h.url).get('/api/session').set(a.headers), 401, 'unauthenticated');
    const now = await request(h.url).get('/api/session').set(headersFor(fresh));
    assert.equal(now.status, 200);
    assert.equal(now.body.user.username, 'pat');
    assertError(await request(h.url).post('/api/session').set('X-Forwarded-For', freshAddress()).send({ username: 'pat', password }), 401, 'invalid_credentials');
    await signIn(h.url, 'pat', 'a-new-password');
  });
});

describe('sign-in throttling', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  const attempt = (url: string, username: string, password: string, address: string) =>
    request(url).post('/api/session').set('X-Forwarded-For', address).send({ username, password });

  it('locks an account after 5 failures in 15 minutes (429 + Retry-After), even for the right password, on every API process', async () => {
    const { password } = await h.addUser('sam', 'rider');
    for (let i = 0; i < 5; i++) assertError(await attempt(h.url, 'sam', `guess-${i}-wrong`, freshAddress()), 401, 'invalid_credentials');
    const locked = await attempt(h.url, 'sam', password, freshAddress());
    assertError(locked, 429, 'too_many_attempts');
    const retryAfter = Number(locked.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 800 && retryAfter <= 900, `Retry-After ${locked.headers['retry-after']}`);
    assert.match(locked.body.detail, /try again in 15 minutes/);
    // The count lives in MongoDB: another API process refuses too.
    const other = await h.startAnotherApi();
    assertError(await attempt(`http://127.0.0.1:${other.port}`, 'sam', password, freshAddress()), 429, 'too_many_attempts');
    await other.close();
    // Other accounts are not affected.
    assert.equal((await attempt(h.url, TEST_ADMIN.username, TEST_ADMIN.password, freshAddress())).status, 200);
    // Once the window has passed (the attempts age out), the right password works again.
    await h.api.db.db.collection('login_attempts').updateMany({ key: 'user:sam' }, { $set: { at: new Date(Date.now() - 16 * 60_000) } });
    assert.equal((await attempt(h.url, 'sam', password, freshAddress())).status, 200);
  });

  it('locks a client address after 20 failures, whatever the user names', async () => {
    const address = freshAddress();
    for (let i = 0; i < 20; i++) assertError(await attempt(h.url, `someone${i}`, 'wrong-password', address), 401, 'invalid_credentials');
    const locked = await attempt(h.url, TEST_ADMIN.username, TEST_ADMIN.password, address);
    assertError(locked, 429, 'too_many_attempts');
    assert.ok(Number(locked.headers['retry-after']) > 0);
    // Another address signs in.
    assert.equal((await attempt(h.url, TEST_ADMIN.username, TEST_ADMIN.password, freshAddress())).status, 200);
  });

  it('lets no more than 5 guesses through when they arrive all at once', async () => {
    await h.addUser('kim', 'rider');
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(h.url, 'kim', `parallel-guess-${i}`, freshAddress())));
    const checked = answers.filter((r) => r.status === 401).length;
    const refused = answers.filter((r) => r.status === 429).length;
    assert.equal(checked + refused, 12, answers.map((r) => r.status).join(','));
    assert.ok(checked <= 5, `${checked} guesses were checked`);
    assert.ok(refused >= 7);
  });
});

describe('accounts (admin only)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('lets only admins manage accounts (403 forbidden for riders and coaches)', async () => {
    const rider = await h.addUser('rider1', 'rider');
    const coach = await h.addUser('coach1', 'coach', { riders: ['rider1'] });
    const adminId = h.session.user.id;
    for (const c of [rider.http, coach.http]) {
      assertError(await c.get('/api/users'), 403, 'forbidden');
      assertError(await c.post('/api/users').send({ username: 'mallory', role: 'admin' }), 403, 'forbidden');
      assertError(await c.patch(`/api/users/${adminId}`).send({ role: 'rider' }), 403, 'forbidden');
      assertError(await c.post(`/api/users/${adminId}/password`).send({}), 403, 'forbidden');
      assertError(await c.delete(`/api/users/${adminId}`), 403, 'forbidden');
    }
    assert.equal((await h.api.db.db.collection('users').countDocuments({})), 3);
  });

  it('creates accounts with a generated password shown once, and stores only an argon2id hash', async () => {
    const res = await h.http.post('/api/users').send({ username: 'New.Rider_1', role: 'rider' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.user.username, 'new.rider_1');
    assert.equal(res.body.user.role, 'rider');
    assert.match(res.body.password, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(res.headers['cache-control'], 'no-store', 'a password is never cached');
    const doc = await h.api.db.db.collection('users').findOne({ username: 'new.rider_1' });
    assert.match(String(doc?.passwordHash), /^\$argon2id\$v=19\$/);
    assert.ok(!JSON.stringify(doc).includes(res.body.password));
    await signIn(h.url, 'new.rider_1', res.body.password);

    const list = await h.http.get('/api/users');
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((u: { username: string }) => u.username === 'new.rider_1'));
    assert.ok(!JSON.stringify(list.body).includes('argon2'), 'no hash leaves the API');
    assert.ok(!JSON.stringify(list.body).includes(res.body.password));

    const chosen = await h.http.post('/api/users').send({ username: 'chosen', role: 'rider', password: 'chosen-password' });
    assert.equal(chosen.status, 201);
    assert.equal(chosen.body.password, 'chosen-password');
    assertError(await h.http.post('/api/users').send({ username: 'new.rider_1', role: 'rider' }), 409, 'username_taken');
    assertError(await h.http.post('/api/users').send({ username: 'ab', role: 'rider' }), 400, 'invalid_field');
    assertError(await h.http.post('/api/users').send({ username: 'white space', role: 'rider' }), 400, 'invalid_field');
    assertError(await h.http.post('/api/users').send({ username: 'x'.repeat(33), role: 'rider' }), 400, 'invalid_field');
    assertError(await h.http.post('/api/users').send({ username: 'okname', role: 'root' }), 400, 'invalid_field');
    assertError(await h.http.post('/api/users').send({ username: 'okname', role: 'rider', password: 'short' }), 400, 'weak_password');
    assertError(await h.http.post('/api/users').send({ username: 'okname', role: 'coach', riders: ['nobody-here'] }), 400, 'unknown_rider');
    assertError(await h.http.post('/api/users').send({ username: 'okname', role: 'rider', riders: [] }), 400, 'invalid_field');
  });

  it('assigns riders to a coach and changes roles; a demoted rider leaves coaches lists', async () => {
    await h.addUser('ann', 'rider');
    await h.addUser('ben', 'rider');
    const coach = await h.http.post('/api/users').send({ username: 'carla', role: 'coach', riders: ['ann'] });
    assert.equal(coach.status, 201);
    assert.deepEqual(coach.body.user.riders.map((r: { username: string }) => r.username), ['ann']);
    const patched = await h.http.patch(`/api/users/${coach.body.user.id}`).send({ riders: ['ann', 'ben'] });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.riders.map((r: { username: string }) => r.username), ['ann', 'ben']);
    const me = await (await h.addUser('carla2', 'coach', { riders: ['ben'] })).http.get('/api/session');
    assert.deepEqual(me.body.user.riders.map((r: { username: string }) => r.username), ['ben']);

    const users = (await h.http.get('/api/users')).body.items as { id: string; username: string }[];
    const ben = users.find((u) => u.username === 'ben')!;
    assert.equal((await h.http.patch(`/api/users/${ben.id}`).send({ role: 'coach' })).status, 200);
    const after = (await h.http.get('/api/users')).body.items as { username: string; riders: { username: string }[] }[];
    assert.deepEqual(after.find((u) => u.username === 'carla')!.riders.map((r) => r.username), ['ann']);
    assertError(await h.http.patch(`/api/users/${ben.id}`).send({ password: 'x' }), 400, 'invalid_field');
    assertError(await h.http.patch(`/api/users/${'0'.repeat(24)}`).send({ role: 'rider' }), 404, 'not_found');
  });

  it('never removes or demotes the last admin (409 last_admin)', async () => {
    const adminId = h.session.user.id;
    assertError(await h.http.patch(`/api/users/${adminId}`).send({ role: 'rider' }), 409, 'last_admin');
    assertError(await h.http.delete(`/api/users/${adminId}`), 409, 'last_admin');
    const second = await h.addUser('admin2', 'admin');
    assert.equal((await second.http.patch(`/api/users/${adminId}`).send({ role: 'coach' })).status, 200);
    const secondId = (await second.http.get('/api/session')).body.user.id;
    assertError(await second.http.delete(`/api/users/${secondId}`), 409, 'last_admin');
    // Back as it was for the other tests.
    assert.equal((await second.http.patch(`/api/users/${adminId}`).send({ role: 'admin' })).status, 200);
  });

  it("resets a password (shown once) and ends that user's sessions", async () => {
    const user = await h.addUser('reset-me', 'rider');
    const id = (await user.http.get('/api/session')).body.user.id;
    const res = await h.http.post(`/api/users/${id}/password`).send({});
    assert.equal(res.status, 200);
    assert.match(res.body.password, /^[A-Za-z0-9_-]{24}$/);
    assertError(await user.http.get('/api/session'), 401, 'unauthenticated');
    assertError(await request(h.url).post('/api/session').send({ username: 'reset-me', password: user.password }), 401, 'invalid_credentials');
    await signIn(h.url, 'reset-me', res.body.password);
    const chosen = await h.http.post(`/api/users/${id}/password`).send({ password: 'chosen-by-admin' });
    assert.deepEqual(chosen.body, { password: 'chosen-by-admin' });
    await signIn(h.url, 'reset-me', 'chosen-by-admin');
  });

  it('removes an account: 409 owns_videos while it owns videos, ?videos=transfer gives them to the admin', async () => {
    const user = await h.addUser('leaver', 'rider');
    const id = (await user.http.get('/api/session')).body.user.id;
    const up = await h.upload(minimalMp4(77), { as: user.http });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    assertError(await h.http.delete(`/api/users/${id}`), 409, 'owns_videos');
    assertError(await h.http.delete(`/api/users/${id}?videos=keep`), 400, 'invalid_query');
    assert.equal((await h.http.delete(`/api/users/${id}?videos=transfer`)).status, 204);
    const video = await h.http.get(`/api/videos/${up.body.videoId}`);
    assert.equal(video.status, 200);
    assert.deepEqual(video.body.owner, { id: h.session.user.id, username: 'admin' });
    assertError(await user.http.get('/api/session'), 401, 'unauthenticated');
    assertError(await request(h.url).post('/api/session').send({ username: 'leaver', password: user.password }), 401, 'invalid_credentials');
    const empty = await h.addUser('nothing', 'rider');
    const emptyId = (await empty.http.get('/api/session')).body.user.id;
    assert.equal((await h.http.delete(`/api/users/${emptyId}`)).status, 204);
    assertError(await h.http.delete(`/api/users/${emptyId}`), 404, 'not_found');
  });
});

describe('the first admin, and no password in the log', () => {
  let mongo: TestMongo;
  let uploadDir: string;
  before(async () => {
    mongo = await startTestMongo();
    uploadDir = await mkdtemp(path.join(os.tmpdir(), 'uploads-auth-'));
  });
  after(async () => {
    await mongo?.dispose();
    await rm(uploadDir, { recursive: true, force: true });
  });

  it('creates ADMIN_USERNAME at start-up once, never overwrites its password, and never logs a password', async () => {
    const lines: string[] = [];
    const logger = (msg: string, err?: unknown) => void lines.push(formatLogLine(msg, err));
    const env = {
      ...FAST_ENV,
      MONGODB_URI: mongo.uri,
      MONGODB_DB: `test_${randomUUID().replace(/-/g, '')}`,
      POSE_SERVICE_URL: 'http://127.0.0.1:9',
      UPLOAD_DIR: uploadDir,
      JOB_CONCURRENCY: '0',
      ADMIN_USERNAME: 'Boss',
      ADMIN_PASSWORD: 'first-password',
    };
    const first = await startApi(loadConfig(env), { logger });
    const url = `http://127.0.0.1:${first.port}`;
    try {
      const boss = await signIn(url, 'boss', 'first-password');
      assert.equal(boss.user.role, 'admin');
      assertError(await request(url).post('/api/session').send({ username: 'boss', password: 'guessed-secret-1' }), 401, 'invalid_credentials');
      const made = await clientFor(url, boss).post('/api/users').send({ username: 'logged', role: 'rider', password: 'users-own-secret' });
      assert.equal(made.status, 201);
      const reset = await clientFor(url, boss).post(`/api/users/${made.body.user.id}/password`).send({});
      assert.equal(reset.status, 200);
      await request(url).post('/api/session').set('Content-Type', 'application/json').send('{"username":"boss","password":"broken-json-secret');
      lines.push('--- restart with another ADMIN_PASSWORD ---');
      await first.close();
      const second = await startApi(loadConfig({ ...env, ADMIN_PASSWORD: 'second-password' }), { logger });
      try {
        const url2 = `http://127.0.0.1:${second.port}`;
        await signIn(url2, 'boss', 'first-password');
        assertError(await request(url2).post('/api/session').send({ username: 'boss', password: 'second-password' }), 401, 'invalid_credentials');
        assert.equal(await second.db.db.collection('users').countDocuments({ username: 'boss' }), 1);
      } finally {
        await second.close();
      }
      const log = lines.join('\n');
      assert.equal(lines.filter((l) => l.includes('created the admin account boss')).length, 1, log);
      for (const secret of ['first-password', 'second-password', 'guessed-secret-1', 'users-own-secret', reset.body.password, 'broken-json-secret']) {
        assert.ok(!log.includes(secret), `the log holds a password: ${log}`);
      }
    } finally {
      await first.close();
    }
  });
});

describe('AUTH_DISABLED (loopback only)', () => {
  const base = { MONGODB_URI: 'mongodb://127.0.0.1:27017', POSE_SERVICE_URL: 'http://127.0.0.1:5000' };

  it('is refused unless the stack is published on a loopback address', () => {
    for (const bind of ['0.0.0.0', '192.168.1.20', '::', 'example.org']) {
      assert.throws(
        () => loadConfig({ ...base, AUTH_DISABLED: 'true', PUBLIC_BIND_ADDRESS: bind }),
        (err: Error) => err instanceof ConfigError && err.message.includes('AUTH_DISABLED=true is refused') && err.message.includes(bind),
      );
    }
    for (const bind of ['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', '']) {
      assert.equal(loadConfig({ ...base, AUTH_DISABLED: 'true', PUBLIC_BIND_ADDRESS: bind }).auth.disabled, true, bind);
    }
    assert.equal(loadConfig({ ...base, PUBLIC_BIND_ADDRESS: '0.0.0.0' }).auth.disabled, false, 'sign-in on: any bind');
    assert.throws(() => loadConfig({ ...base, AUTH_DISABLED: 'maybe' }), /AUTH_DISABLED="maybe" is not a boolean/);
    assert.throws(() => loadConfig({ ...base, SESSION_TTL_HOURS: '0' }), /SESSION_TTL_HOURS=0 is out of range/);
    assert.throws(() => loadConfig({ ...base, ADMIN_USERNAME: 'no spaces' }), /ADMIN_USERNAME/);
  });

  it('stops the API at start-up with one line saying why', async () => {
    const { code, output: out } = await runToExit({ ...base, AUTH_DISABLED: 'true', PUBLIC_BIND_ADDRESS: '0.0.0.0' });
    assert.equal(code, 2, out);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 1, out);
    assert.match(lines[0]!, /^backend-api: configuration error: AUTH_DISABLED=true is refused because the stack is published on 0\.0\.0\.0/);
  });

  it('while off, every request acts as the local admin and says so; turned on again, its uploads go to the first admin', async () => {
    const h = await startHarness({ env: { AUTH_DISABLED: 'true' } });
    try {
      const me = await request(h.url).get('/api/session');
      assert.equal(me.status, 200);
      assert.deepEqual(me.body.user, { id: 'local', username: 'local', role: 'admin', riders: [] });
      assert.equal(me.body.authDisabled, true);
      assert.equal(typeof me.body.csrfToken, 'string');
      const up = await request(h.url).post('/api/videos').field('role', 'rider').attach('video', minimalMp4(5), 'a.mp4');
      assert.equal(up.status, 202, JSON.stringify(up.body));
      assert.equal((await request(h.url).get(`/api/videos/${up.body.videoId}`)).body.owner, null);
      // The same database with sign-in on: start-up gives the owner-less video to the first admin.
      const on = await h.startAnotherApi({ AUTH_DISABLED: 'false' });
      const onUrl = `http://127.0.0.1:${on.port}`;
      assertError(await request(onUrl).get('/api/videos'), 401, 'unauthenticated');
      const admin = clientFor(onUrl, await signIn(onUrl, TEST_ADMIN.username, TEST_ADMIN.password));
      const video = await admin.get(`/api/videos/${up.body.videoId}`);
      assert.equal(video.status, 200);
      assert.equal(video.body.owner.username, 'admin');
    } finally {
      await h.close();
    }
  });
});

// Browser tests of accounts (issue 16) in Chromium: sign-in (401, 429 with the wait), sign-out, the session
// ending mid-upload (back to sign-in, the tus upload pauses and resumes after signing in), owners and the coach's
// read-only view, share links (create, copy, the public page, revoke) and the AUTH_DISABLED banner. Against the
// BUILT app (server/serve.mjs) whose /api proxy points at the fixture API test double (e2e/fixtureApi.mjs, accounts
// in e2e/fixtureAccounts.mjs, faithful to the issue 16 contract).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, PASSWORDS, pageFactory, shot, waitForPlayer } from './chromiumPage.mjs';
import { shots, useSuite } from './servers.mjs';

let fixture;
let browser;
let base;
let apiBase;
let newPage;

useSuite(launchChromium, (s) => {
  ({ fixture, base, apiBase, browser } = s);
  newPage = pageFactory(browser, base);
});

const control = (p, body = {}) => fetch(`${apiBase}/__fixture/${p}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());

async function signInThroughForm(page, username, password = PASSWORDS[username]) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const cardIds = (page) => page.$$eval('[data-testid="video-card"]', (els) => els.map((e) => e.dataset.videoId));

describe('sign-in and sign-out', () => {
  test('anonymous visitors get the sign-in page; wrong passwords read 401, then 429 with the wait; the right one opens the library', async () => {
    await control('attempts/reset');
    const { page, context, errors, close } = await newPage(1280, 720, { as: null });
    await page.goto(base);
    await page.getByTestId('signin-page').waitFor();
    assert.equal(await page.locator('[data-testid="video-card"]').count(), 0, 'no library before signing in');
    await shot(page, 'signin-1280');
    // Wrong password: one line that does not tell whether the account exists.
    await signInThroughForm(page, 'ana', 'wrong-password');
    const alert = page.getByTestId('signin-error');
    await alert.waitFor();
    assert.equal(await alert.textContent(), 'Wrong username or password.');
    // Five failures for one username: the API throttles, and the page says how long to wait.
    for (let i = 0; i < 4; i++) {
      await signInThroughForm(page, 'ana', `wrong-${i}`);
      await page.waitForFunction(() => document.querySelector('[data-testid="signin-error"]') && !document.querySelector('button[type=submit]').disabled && document.querySelector('button[type=submit]').textContent === 'Sign in');
    }
    await signInThroughForm(page, 'ana', 'wrong-again');
    await page.waitForFunction(() => /Too many failed sign-ins/.test(document.querySelector('[data-testid="signin-error"]')?.textContent ?? ''));
    assert.match(await alert.textContent(), /^Too many failed sign-ins\. Try again in 15 minutes\./);
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).isDisabled(), true, 'the button waits out the throttle');
    await shot(page, 'signin-throttled-1280');
    await control('attempts/reset');
    await page.reload();
    await signInThroughForm(page, 'ana');
    await page.getByTestId('signed-in-user').waitFor();
    assert.equal(await page.getByTestId('signed-in-user').textContent(), 'ana');
    await page.waitForSelector('[data-testid="video-card"]');
    const cookie = (await context.cookies()).find((c) => c.name === 'sb_session');
    assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Lax', `the session cookie is httpOnly and SameSite=Lax: ${JSON.stringify(cookie)}`);
    assert.equal(await page.evaluate(() => document.cookie.includes('sb_session')), false, 'scripts cannot read the session cookie');
    // Sign out: back to the sign-in page, and a reload stays signed out (the cookie's session ended).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('signin-page').waitFor();
    await page.reload();
    await page.getByTestId('signin-page').waitFor();
    assert.ok(fixture.log.includes('DELETE /api/session'));
    assert.deepEqual(errors, []);
    await close();
  });

  test('the sign-in page fits a phone screen', async () => {
    const { page, close } = await newPage(375, 812, { as: null });
    await page.goto(base);
    await page.getByTestId('signin-page').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0, 'no horizontal scrolling at 375 px');
    await shot(page, 'signin-375');
    await close();
  });

  test('a password change keeps this session and signs out every other one', async () => {
    const other = await newPage(1280, 720, { as: 'admin' });
    await other.page.goto(base);
    await other.page.getByTestId('signed-in-user').waitFor();
    const { page, errors, close } = await newPage(1280, 720, { as: 'admin' });
    await page.goto(base);
    await page.getByRole('button', { name: /admin/ }).click();
    await page.getByLabel('Current password').fill('wrong');
    await page.getByLabel('New password', { exact: true }).fill('admin-pass-2');
    await page.getByLabel('New password again').fill('admin-pass-2');
    await page.getByRole('button', { name: 'Change password' }).click();
    assert.equal(await page.getByRole('alert').textContent(), 'The current password is wrong.');
    await page.getByLabel('Current password').fill('admin-pass-1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByTestId('password-changed').waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
    // This tab carries on (a write needs the renewed CSRF token too); the other one is signed out.
    await page.reload();
    await page.getByTestId('signed-in-user').waitFor();
    await other.page.reload();
    await other.page.getByTestId('signin-page').waitFor();
    assert.deepEqual(errors, []);
    await close();
    await other.close();
  });
});

describe('the session ends mid-upload', () => {
  test('the app goes back to sign-in, the upload pauses, and after signing in it resumes where it stopped', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    const before = fixture.log.length;
    // 12 MiB: two PATCHes of 8 MiB; the session ends during the first, so the second is refused with 401.
    await page.setInputFiles('input[type=file]', { name: 'expiry-test.webm', mimeType: 'video/webm', buffer: Buffer.alloc(12 * 1024 * 1024, 9) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) >= 20, null, { timeout: 20000 });
    // As through the real proxy: the refused PATCH loses its connection; the retry's HEAD reads a 401 with no body.
    await control('sessions/expire', { cutUploads: true });
    await page.getByTestId('session-expired').waitFor({ timeout: 20000 });
    // The upload waits behind the sign-in page (hidden, not gone) and says why.
    await page.waitForFunction(() => document.querySelector('[data-testid="upload-note"]')?.textContent === 'Paused · sign in again to continue', null, { timeout: 20000 });
    const held = (await (await fetch(`${apiBase}/__fixture/uploads`)).json()).find((u) => u.offset > 0 && u.offset < u.length);
    assert.ok(held, 'the server holds the part sent before the session ended');
    assert.ok(fixture.log.slice(before).some((l) => /^PATCH \/api\/uploads\//.test(l)));
    await shot(page, 'session-expired-1280');
    await signInThroughForm(page, 'ana');
    await page.locator('[data-testid="upload-item"].is-done').waitFor({ timeout: 30000 });
    const calls = fixture.log.slice(before);
    assert.equal(calls.filter((l) => l === 'POST /api/uploads').length, 1, `one upload, resumed, never started over: ${calls.join(', ')}`);
    const signedIn = calls.indexOf('POST /api/session');
    assert.ok(signedIn > 0 && calls.slice(signedIn).some((l) => /^HEAD \/api\/uploads\//.test(l)), 'after signing in it asked the server for its offset');
    assert.equal((await (await fetch(`${apiBase}/__fixture/uploads`)).json()).length, 0, 'nothing left half-uploaded');
    await page.waitForFunction(() => document.querySelector('[data-testid="video-card"]')?.textContent?.includes('expiry-test'));
    assert.deepEqual(errors, []);
    await close();
  });
});

describe('signing out during an upload', () => {
  test('stops the upload (nothing carries on behind the sign-in page); the same file resumes after signing in again', async () => {
    const { page, errors, close } = await newPage();
    const file = path.join(shots, 'signout-during-upload.mp4');
    writeFileSync(file, Buffer.alloc(12 * 1024 * 1024, 6));
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    await page.setInputFiles('input[type=file]', file);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) >= 20, null, { timeout: 20000 });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByTestId('signin-page').waitFor();
    const held = async () => (await (await fetch(`${apiBase}/__fixture/uploads`)).json()).filter((u) => u.offset > 0 && u.offset < u.length);
    const signedOutAt = fixture.log.lastIndexOf('DELETE /api/session');
    await page.waitForTimeout(2000);
    const [partial] = await held();
    assert.ok(partial, 'the server keeps the part sent before signing out');
    const later = fixture.log.slice(signedOutAt).filter((l) => l.includes('/api/uploads'));
    assert.deepEqual(later, [], 'no upload request after signing out (the one in flight was cut)');
    await signInThroughForm(page, 'ana');
    await page.waitForSelector('[data-testid="video-card"]');
    await page.setInputFiles('input[type=file]', file);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.waitForFunction(() => /Resumed at \d+%/.test(document.querySelector('[data-testid="upload-note"]')?.textContent ?? ''), null, { timeout: 10000 });
    await page.locator('[data-testid="upload-item"].is-done').waitFor({ timeout: 30000 });
    assert.equal((await held()).length, 0);
    assert.deepEqual(errors, []);
    await close();
  });
});

describe('owners', () => {
  test("a rider sees only their own videos; another rider's id is not found", async () => {
    const { page, close } = await newPage(1280, 720, { as: 'ben' });
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    assert.deepEqual(await cardIds(page), ['v-ben']);
    assert.equal(await page.getByTestId('owner-picker').count(), 0, 'a rider has no owner picker');
    await page.goto(`${base}/#/videos/v-rider`);
    assert.match(await page.getByRole('alert').textContent(), /No video v-rider/);
    await close();
  });

  test("a coach picks a rider, sees whose each video is, and cannot delete or share a rider's video", async () => {
    const { page, errors, close } = await newPage(1280, 720, { as: 'cora' });
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    assert.ok(!(await cardIds(page)).includes('v-ben'), "ben is not cora's rider");
    const picker = page.getByTestId('owner-picker');
    assert.deepEqual(await picker.locator('option').allTextContents(), ['All my riders', 'ana', 'cora (me)']);
    await picker.selectOption('ana');
    await page.waitForFunction(() => !document.querySelector('.state-loading') && document.querySelectorAll('[data-testid="video-card"]').length > 0);
    const owners = await page.$$eval('[data-testid="video-owner"]', (els) => [...new Set(els.map((e) => e.textContent))]);
    assert.deepEqual(owners, ['by ana']);
    assert.equal(await page.getByRole('button', { name: /^Delete / }).count(), 0, 'no delete on a rider’s videos');
    await shot(page, 'coach-library-1280');
    await page.goto(`${base}/#/videos/v-rider`);
    await waitForPlayer(page);
    assert.match(await page.getByTestId('video-owner').textContent(), /Owner: ana · read-only/);
    assert.equal(await page.getByRole('button', { name: 'Share…' }).count(), 0, 'a coach cannot share a rider’s run');
    assert.deepEqual(errors, []);
    await close();
  });
});

describe('share links', () => {
  test('create → copy → the public page shows video, skeleton, 3D and metrics only; revoke → an error page with a way back', async () => {
    const { page, context, errors, close } = await newPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.goto(`${base}/#/videos/v-rider`);
    await waitForPlayer(page);
    await page.getByRole('button', { name: 'Share…' }).click();
    const panel = page.getByTestId('share-panel');
    await panel.getByText('None: this run is private.').waitFor();
    await panel.getByRole('button', { name: 'Create link' }).click();
    const link = await page.getByTestId('share-link').inputValue();
    assert.match(link, new RegExp(`^${base}/shared/[A-Za-z0-9_-]{43}$`), 'an absolute link with a 32-byte token');
    await panel.getByRole('button', { name: 'Copy link' }).click();
    await panel.getByRole('button', { name: 'Copied ✓' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    await panel.getByTestId('share-item').first().waitFor();
    assert.equal(await panel.getByTestId('share-item').count(), 1);
    await shot(page, 'share-panel-1280');

    // Someone without an account opens the link.
    const visitor = await newPage(1280, 720, { as: null });
    const firstShared = fixture.log.length;
    await visitor.page.goto(link);
    await visitor.page.getByTestId('shared-view').waitFor();
    await waitForPlayer(visitor.page);
    await visitor.page.getByText('Loading 3D view').waitFor({ state: 'detached', timeout: 30000 });
    const painted = await visitor.page.evaluate(() => {
      const c = document.querySelector('[data-testid="skeleton-canvas"]');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n += 1;
      return n;
    });
    assert.ok(painted > 200, `the skeleton is drawn over the shared video (${painted} px)`);
    assert.ok(await visitor.page.locator('.view3d canvas').count() >= 1, 'the 3D view');
    assert.match(await visitor.page.getByTestId('summary').textContent(), /540°/);
    assert.ok(await visitor.page.locator('[data-testid="chart"]').count() >= 4, 'the metric charts');
    // Nothing else of the account: no user, no library, no download, no owner, no upload.
    for (const sel of ['[data-testid="user-menu"]', '[data-testid="video-card"]', 'a[download]', '[data-testid="video-owner"]', 'input[type=file]', 'text=Share…', 'text=← Library']) {
      assert.equal(await visitor.page.locator(sel).count(), 0, `the share page has no ${sel}`);
    }
    assert.doesNotMatch(await visitor.page.textContent('body'), /\bana\b/, "the owner's name is nowhere on the page");
    const visitorCalls = fixture.log.slice(firstShared).filter((l) => l.includes('/api/'));
    assert.ok(visitorCalls.every((l) => /\/api\/shared\//.test(l) || l === 'GET /api/session'), `only the public share routes: ${visitorCalls.join(', ')}`);
    assert.ok(visitorCalls.includes(`GET /api/shared/${link.split('/').pop()}/stream`));
    await shot(visitor.page, 'shared-1280');

    // Revoke: the list empties and the link stops working at once.
    await panel.getByRole('button', { name: /^Revoke/ }).click();
    await panel.getByText('None: this run is private.').waitFor();
    await visitor.page.reload();
    const gone = visitor.page.getByTestId('share-gone');
    await gone.waitFor();
    assert.match(await gone.textContent(), /does not work any more/);
    await shot(visitor.page, 'shared-revoked-1280');
    await gone.getByRole('link', { name: 'Go to PoseLab' }).click();
    await visitor.page.getByTestId('signin-page').waitFor();
    assert.deepEqual(visitor.errors, []);
    assert.deepEqual(errors, []);
    await visitor.close();
    await close();
  });

  test('an unknown token shows the same error page', async () => {
    const { page, close } = await newPage(375, 812, { as: null });
    await page.goto(`${base}/shared/${'x'.repeat(43)}`);
    await page.getByTestId('share-gone').waitFor();
    await shot(page, 'shared-unknown-375');
    await close();
  });
});

describe('sign-in turned off', () => {
  test('every page says so in a banner, and nobody is asked to sign in', async () => {
    await control('auth-disabled', { on: true });
    try {
      const { page, close } = await newPage(1280, 720, { as: null });
      await page.goto(base);
      await page.getByTestId('auth-off-banner').waitFor();
      assert.equal(await page.getByTestId('signed-in-user').textContent(), 'local');
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
      await page.waitForSelector('[data-testid="video-card"]');
      await shot(page, 'auth-off-1280');
      await page.goto(`${base}/#/videos/v-rider`);
      await page.getByTestId('auth-off-banner').waitFor();
      await page.goto(`${base}/shared/${'y'.repeat(43)}`);
      await page.getByTestId('share-gone').waitFor();
      await page.getByTestId('auth-off-banner').waitFor();
      await close();
    } finally {
      await control('auth-disabled', { on: false });
    }
  });
});

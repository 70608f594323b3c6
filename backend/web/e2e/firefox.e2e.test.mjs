// Browser tests in Firefox: Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core, against the BUILT
// app (server/serve.mjs) whose /api proxy points at the fixture API test double (e2e/fixtureApi.mjs). The same
// playback and overlay checks as the Chromium suite: Firefox has its own decoders and its own frame clock.
// Pages sign in through the sign-in form (as ana, the fixture videos' owner); issue 16's sign-in, sign-out, session
// expiry during an upload and share pages run here too.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { PASSWORDS } from './chromiumPage.mjs';
import { checkOverlayAtThreeTimes, waitInPage } from './overlayCheck.mjs';
import { root, shots, launchFirefox, useSuite } from './servers.mjs';

let fixture;
let browser;
let base;
let apiBase;

useSuite(launchFirefox, async (s) => {
  ({ fixture, base, apiBase, browser } = s);
  // The default context's pages share one cookie jar: sign in once for the playback tests.
  const page = await browser.newPage();
  await page.goto(base);
  await signInThroughForm(page, 'ana');
  await waitInPage(page, () => document.querySelector('[data-testid="signed-in-user"]')?.textContent === 'ana');
  await page.close();
});

/** Fill and send the sign-in form (the page shows it). */
async function signInThroughForm(page, username, password = PASSWORDS[username]) {
  await page.waitForSelector('input[name="username"]');
  await page.$eval('input[name="username"]', (el) => (el.value = ''));
  await page.type('input[name="username"]', username);
  await page.type('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

/** A page in a fresh browser context: its own cookies, signed in as nobody. */
async function anonymousPage() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors, close: () => context.close() };
}

async function newPage() {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { page, errors };
}

describe('Firefox', () => {
  test('the library shows poster images, no <video> per card', async () => {
    const { page, errors } = await newPage();
    await page.goto(base);
    await waitInPage(page, () => document.querySelectorAll('.thumb-ready img[data-testid="poster"]').length >= 2);
    const posters = await page.evaluate(() => [...document.querySelectorAll('img[data-testid="poster"]')].map((i) => [i.getAttribute('src'), i.naturalWidth]));
    assert.deepEqual(posters.map((p) => p[0]), ['/api/videos/v-rider/poster', '/api/videos/v-ref/poster']);
    assert.ok(posters.every((p) => p[1] > 0), 'the posters decoded');
    assert.equal(await page.evaluate(() => document.querySelectorAll('video').length), 0);
    await page.screenshot({ path: path.join(shots, 'firefox-library-1280.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the clip plays at its display size; the overlay draws the frame on screen, hips and shoulders inside the box', async () => {
    const pose = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-rider.json'), 'utf8'));
    const { page, errors } = await newPage();
    await page.goto(`${base}/#/videos/v-rider`);
    const states = await checkOverlayAtThreeTimes(page, pose, [0.5, 1.285, 2.4], assert);
    assert.deepEqual(states.map((s) => s.frameIndex), [12, 30, 57]);
    // Plays without a MediaError.
    await page.evaluate(() => document.querySelector('video').play());
    await waitInPage(page, () => document.querySelector('video').currentTime > 2.5 || document.querySelector('video').ended);
    assert.equal(await page.evaluate(() => document.querySelector('video').error), null);
    const details = await page.evaluate(() => document.querySelector('[data-testid="video-details"]').textContent);
    assert.match(details, /480×270/);
    assert.match(details, /constant \(CFR\)/);
    await page.screenshot({ path: path.join(shots, 'firefox-analysis-1280.png'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('sign-in: a wrong password reads 401; the right one shows the user; sign-out returns to the form', async () => {
    const { page, errors, close } = await anonymousPage();
    await page.goto(base);
    await signInThroughForm(page, 'ben', 'not-it');
    await waitInPage(page, () => document.querySelector('[data-testid="signin-error"]')?.textContent === 'Wrong username or password.');
    await page.$eval('input[name="password"]', (el) => (el.value = ''));
    await signInThroughForm(page, 'ben');
    await waitInPage(page, () => document.querySelector('[data-testid="signed-in-user"]')?.textContent === 'ben');
    await waitInPage(page, () => [...document.querySelectorAll('[data-testid="video-card"]')].map((e) => e.dataset.videoId).join() === 'v-ben');
    await page.screenshot({ path: path.join(shots, 'firefox-signed-in-1280.png') });
    const signOut = await page.waitForSelector('::-p-text(Sign out)');
    await signOut.click();
    await page.waitForSelector('[data-testid="signin-page"]');
    await page.reload();
    await page.waitForSelector('[data-testid="signin-page"]');
    assert.deepEqual(errors, []);
    await close();
  });

  test('the session ends mid-upload: sign-in shows, the upload pauses, then resumes after signing in', async () => {
    const { page, errors, close } = await anonymousPage();
    await page.goto(base);
    await signInThroughForm(page, 'ana');
    await page.waitForSelector('[data-testid="video-card"]');
    const file = path.join(shots, 'firefox-expiry.webm');
    writeFileSync(file, Buffer.alloc(12 * 1024 * 1024, 4));
    const before = fixture.log.length;
    const input = await page.$('input[type=file]');
    await input.uploadFile(file);
    await waitInPage(page, () => document.querySelector('.dropzone-file')?.textContent.includes('firefox-expiry.webm'));
    await page.click('.upload-panel button[type="submit"]');
    await waitInPage(page, () => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) >= 20, undefined, 20000);
    await fetch(`${apiBase}/__fixture/sessions/expire`, { method: 'POST' });
    await page.waitForSelector('[data-testid="session-expired"]', { timeout: 20000 });
    await waitInPage(page, () => document.querySelector('[data-testid="upload-note"]')?.textContent === 'Paused · sign in again to continue', undefined, 20000);
    await page.$eval('input[name="password"]', (el) => el.focus());
    await page.type('input[name="password"]', PASSWORDS.ana);
    await page.click('button[type="submit"]');
    await waitInPage(page, () => document.querySelector('.upload-item.is-done') !== null, undefined, 30000);
    const calls = fixture.log.slice(before);
    assert.equal(calls.filter((l) => l === 'POST /api/uploads').length, 1, `resumed, never started over: ${calls.join(', ')}`);
    assert.ok(calls.slice(calls.indexOf('POST /api/session')).some((l) => /^HEAD \/api\/uploads\//.test(l)));
    assert.deepEqual(errors, []);
    await close();
  });

  test('a share link opens the analysis for anyone, skeleton on the body; revoked, it shows an error page with a way back', async () => {
    const owner = await anonymousPage();
    await owner.page.goto(base);
    await signInThroughForm(owner.page, 'ana');
    await owner.page.waitForSelector('[data-testid="signed-in-user"]');
    // Create the link as the app does: cookie + the session's CSRF token.
    const created = await owner.page.evaluate(async () => {
      const { csrfToken } = await (await fetch('/api/session')).json();
      const r = await fetch('/api/videos/v-rider/shares', { method: 'POST', headers: { 'X-CSRF-Token': csrfToken } });
      return { status: r.status, body: await r.json(), csrfToken };
    });
    assert.equal(created.status, 201);
    const pose = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-rider.json'), 'utf8'));
    const visitor = await anonymousPage();
    await visitor.page.goto(`${base}${created.body.url}`);
    await visitor.page.waitForSelector('[data-testid="shared-view"]');
    const states = await checkOverlayAtThreeTimes(visitor.page, pose, [0.5, 1.285, 2.4], assert);
    assert.deepEqual(states.map((x) => x.frameIndex), [12, 30, 57]);
    assert.equal(await visitor.page.$('[data-testid="user-menu"]'), null, 'no account on the share page');
    assert.equal(await visitor.page.$('a[download]'), null);
    await visitor.page.screenshot({ path: path.join(shots, 'firefox-shared-1280.png'), fullPage: true });
    const shareId = await owner.page.evaluate(async () => (await (await fetch('/api/videos/v-rider/shares')).json()).items[0].id);
    const revoked = await owner.page.evaluate(async ({ id, token }) => (await fetch(`/api/videos/v-rider/shares/${id}`, { method: 'DELETE', headers: { 'X-CSRF-Token': token } })).status, { id: shareId, token: created.csrfToken });
    assert.equal(revoked, 204);
    await visitor.page.reload();
    await visitor.page.waitForSelector('[data-testid="share-gone"]');
    await visitor.page.click('[data-testid="share-gone"] a');
    await visitor.page.waitForSelector('[data-testid="signin-page"]');
    assert.deepEqual(visitor.errors, []);
    await visitor.close();
    await owner.close();
  });
});

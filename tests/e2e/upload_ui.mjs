// Whole-stack browser check: Debian's Chromium (playwright-core) against the running frontend and API.
//  1. An anonymous request is refused (401); the admin signs in through the sign-in page.
//  2. The admin creates two riders (POST /api/users); each signs in in their own browser context and uploads a
//     real video through the UI (resumable tus upload, CSRF token included).
//  3. Neither rider sees the other's video: each library lists only their own, the other's id answers 404 from the
//     API and an error in the analysis view; the admin sees both and filters by owner.
//     A coach assigned to the first rider sees that rider's video (owner shown) read-only, and not the other's.
//  4. The first rider's upload is analysed by the real pose service: the analysis view draws the skeleton.
//  5. Rider A shares the analysis: an anonymous browser opens the link and sees the video with the skeleton and
//     nothing of the account; once revoked the link shows an error page.
//  6. Rider B's session ends mid-upload (the admin resets B's password, which ends B's sessions): the app goes back
//     to sign-in, the tus upload pauses, and after B signs in with the new password it resumes, never started over.
//  7. The riders are removed again (their videos go to the admin: DELETE /api/users/:id?videos=transfer).
// Env: FRONTEND_URL, VIDEO (path), SHOTS_DIR, ADMIN_USERNAME and ADMIN_PASSWORD (the first admin, from
// backend/.env; tests/test_stack_e2e.py passes them). Needs ffmpeg (step 6 makes a 28 MB clip). Exit code 0 = pass.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminCredentials, apiFromPage, signInThroughForm } from './stackAccounts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../backend/web/package.json'));
const { chromium } = require('playwright-core');

const base = process.env.FRONTEND_URL;
const video = process.env.VIDEO;
if (!base || !video) throw new Error('set FRONTEND_URL and VIDEO (the running stack, a clip to upload)');
const admin = adminCredentials();
try {
  execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
} catch {
  throw new Error('ffmpeg is needed to make the large clip of the session-expiry check: apt-get install -y ffmpeg (scripts/setup.sh --test installs it)');
}
const shots = process.env.SHOTS_DIR || path.join(here, '../../test-results');
mkdirSync(shots, { recursive: true });

// Anonymous: every /api route but the public ones answers 401 in the usual error shape.
const anonymous = await fetch(`${base}/api/videos`);
assert.equal(anonymous.status, 401, 'an anonymous request is refused');
assert.equal((await anonymous.json()).error, 'unauthenticated');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'],
});
const errors = [];
async function signedInPage(username, password) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`${username}: ${e}`));
  await page.goto(base);
  await signInThroughForm(page, username, password);
  return page;
}
const cardIds = (page) => page.$$eval('[data-testid="video-card"]', (els) => els.map((e) => e.dataset.videoId));

/** Upload `video` through the UI; returns the new video's id (the first card once the library refreshed). */
async function uploadThroughUi(page) {
  const before = new Set(await cardIds(page));
  await page.setInputFiles('input[type=file]', video);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.locator('[data-testid="upload-item"].is-done').waitFor({ timeout: 60000 });
  await page.waitForFunction((known) => [...document.querySelectorAll('[data-testid="video-card"]')].some((e) => !known.includes(e.dataset.videoId)), [...before], { timeout: 30000 });
  const ids = (await cardIds(page)).filter((id) => !before.has(id));
  assert.equal(ids.length, 1, `one new card after the upload: ${ids}`);
  return ids[0];
}

const created = [];
try {
  const adminPage = await signedInPage(admin.username, admin.password);
  await adminPage.screenshot({ path: path.join(shots, 'stack-admin-signed-in.png') });

  // Two riders, with generated passwords (shown once, in the answer).
  const stamp = Date.now().toString(36);
  const riders = [];
  for (const name of [`e2e-a-${stamp}`, `e2e-b-${stamp}`]) {
    const r = await apiFromPage(adminPage, 'POST', '/api/users', { username: name, role: 'rider' });
    assert.equal(r.status, 201, `create ${name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.user.role, 'rider');
    assert.ok(typeof r.body.password === 'string' && r.body.password.length >= 8, 'a generated password');
    created.push(r.body.user);
    riders.push({ ...r.body.user, password: r.body.password });
  }

  // Each rider signs in and uploads.
  const pageA = await signedInPage(riders[0].username, riders[0].password);
  const pageB = await signedInPage(riders[1].username, riders[1].password);
  const videoA = await uploadThroughUi(pageA);
  const videoB = await uploadThroughUi(pageB);
  assert.notEqual(videoA, videoB);

  // Neither sees the other's: the libraries, the API, the analysis view.
  for (const [page, mine, theirs] of [[pageA, videoA, videoB], [pageB, videoB, videoA]]) {
    await page.reload();
    await page.waitForSelector('[data-testid="video-card"]');
    assert.deepEqual(await cardIds(page), [mine], 'a rider lists only their own video');
    const listed = await apiFromPage(page, 'GET', '/api/videos?limit=100');
    assert.deepEqual(listed.body.items.map((v) => v.id), [mine]);
    for (const route of ['', '/pose', '/metrics', '/stream', '/shares']) {
      const r = await apiFromPage(page, 'GET', `/api/videos/${theirs}${route}`);
      assert.equal(r.status, 404, `the other rider's ${route || 'video'} answers 404, not ${r.status}`);
    }
    assert.equal((await apiFromPage(page, 'DELETE', `/api/videos/${theirs}`)).status, 404, "deleting the other rider's video: 404");
    await page.goto(`${base}/#/videos/${theirs}`);
    await page.getByRole('alert').waitFor();
  }
  await pageB.screenshot({ path: path.join(shots, 'stack-rider-b-other-video.png') });

  // The admin sees both, and filters by owner.
  const all = await apiFromPage(adminPage, 'GET', '/api/videos?limit=100');
  assert.ok([videoA, videoB].every((id) => all.body.items.some((v) => v.id === id)), 'the admin sees both');
  const onlyA = await apiFromPage(adminPage, 'GET', `/api/videos?limit=100&owner=${riders[0].username}`);
  assert.deepEqual(onlyA.body.items.map((v) => v.id), [videoA]);
  assert.equal(onlyA.body.items[0].owner.username, riders[0].username);
  await adminPage.reload();
  await adminPage.getByTestId('owner-picker').selectOption(riders[0].username);
  await adminPage.waitForFunction((id) => {
    const ids = [...document.querySelectorAll('[data-testid="video-card"]')].map((e) => e.dataset.videoId);
    return ids.length === 1 && ids[0] === id;
  }, videoA, { timeout: 15000 });
  await adminPage.screenshot({ path: path.join(shots, 'stack-admin-owner-filter.png') });

  // A coach of rider A: sees A's video (read-only, owner shown), never B's.
  const coachName = `e2e-c-${stamp}`;
  const coachMade = await apiFromPage(adminPage, 'POST', '/api/users', { username: coachName, role: 'coach', riders: [riders[0].username] });
  assert.equal(coachMade.status, 201, `create ${coachName}: ${JSON.stringify(coachMade.body)}`);
  created.push(coachMade.body.user);
  const coachPage = await signedInPage(coachName, coachMade.body.password);
  await coachPage.waitForSelector('[data-testid="video-card"]');
  assert.deepEqual(await cardIds(coachPage), [videoA], "the coach lists their rider's video only");
  assert.deepEqual(await coachPage.getByTestId('owner-picker').locator('option').allTextContents(), ['All my riders', riders[0].username, `${coachName} (me)`]);
  assert.equal(await coachPage.getByTestId('video-owner').textContent(), `by ${riders[0].username}`);
  assert.equal(await coachPage.getByRole('button', { name: /^Delete / }).count(), 0, 'read-only: no delete');
  assert.equal((await apiFromPage(coachPage, 'DELETE', `/api/videos/${videoA}`)).body.error, 'read_only');
  assert.equal((await apiFromPage(coachPage, 'GET', `/api/videos/${videoB}`)).status, 404);
  await coachPage.screenshot({ path: path.join(shots, 'stack-coach-library.png') });
  await coachPage.context().close();

  // The real analysis of rider A's upload: the library follows the job (SSE) until done; the skeleton is drawn.
  await pageA.goto(base);
  const card = pageA.locator(`[data-video-id="${videoA}"]`);
  await card.getByRole('link', { name: 'Analyse' }).waitFor({ timeout: 240000 });
  await pageA.screenshot({ path: path.join(shots, 'stack-library.png') });
  await card.getByRole('link', { name: 'Analyse' }).click();
  await pageA.waitForFunction(() => {
    const v = document.querySelector('video');
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    return v && v.readyState >= 2 && c && Number(c.dataset.frameIndex) >= 0;
  }, null, { timeout: 30000 });
  const painted = await pageA.evaluate(() => {
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
    return n;
  });
  // three.js is a lazy chunk: let the 3D view finish loading before the screenshot.
  await pageA.getByText('Loading 3D view').waitFor({ state: 'detached', timeout: 30000 });
  await pageA.screenshot({ path: path.join(shots, 'stack-analysis.png'), fullPage: true });
  if (painted < 200) throw new Error(`the skeleton canvas has only ${painted} painted pixels`);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(`two riders (${riders.map((r) => r.username).join(', ')}) each see only their own upload; skeleton drawn: ${painted} painted pixels`);

  // A share link: anyone with it sees this one analysis and nothing of the account, until it is revoked.
  await pageA.getByRole('button', { name: 'Share…' }).click();
  await pageA.getByRole('button', { name: 'Create link' }).click();
  const link = await pageA.getByTestId('share-link').inputValue();
  assert.match(link, /\/shared\/[A-Za-z0-9_-]{43}$/);
  const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const visitor = await visitorContext.newPage();
  visitor.on('pageerror', (e) => errors.push(`visitor: ${e}`));
  await visitor.goto(link);
  await visitor.getByTestId('shared-view').waitFor({ timeout: 30000 });
  await visitor.waitForFunction(() => {
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    return document.querySelector('video')?.readyState >= 2 && c && Number(c.dataset.frameIndex) >= 0;
  }, null, { timeout: 30000 });
  const sharedPainted = await visitor.evaluate(() => {
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
    return n;
  });
  assert.ok(sharedPainted > 200, `the shared page draws the skeleton (${sharedPainted} px)`);
  assert.equal(await visitor.locator('[data-testid="user-menu"], [data-testid="video-card"], a[download]').count(), 0, 'nothing of the account');
  assert.ok(!(await visitor.textContent('body')).includes(riders[0].username), "the owner's name is not on the page");
  await visitor.getByText('Loading 3D view').waitFor({ state: 'detached', timeout: 30000 });
  await visitor.screenshot({ path: path.join(shots, 'stack-shared.png'), fullPage: true });
  await pageA.getByRole('button', { name: /^Revoke/ }).click();
  await pageA.getByText('None: this run is private.').waitFor();
  await visitor.reload();
  await visitor.getByTestId('share-gone').waitFor({ timeout: 15000 });
  await visitorContext.close();
  console.log(`share link: skeleton drawn for an anonymous visitor (${sharedPainted} px); revoked → error page`);

  // Rider B's session ends mid-upload; the upload resumes after B signs in again.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'expiry-'));
  try {
    // A real clip big enough for three 8 MiB PATCHes, sent slowly (Chromium's upload throttling) so the session
    // can end between them.
    const big = path.join(tmp, 'long-upload.mp4');
    // (Noise at near-lossless quality: about 28 MB for 3 s.)
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-t', '3', '-vf', 'noise=alls=80:allf=t',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '10', '-pix_fmt', 'yuv420p', big]);
    const cdp = await pageB.context().newCDPSession(pageB);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 3 * 1024 * 1024 });
    const tusCalls = [];
    pageB.on('request', (r) => r.url().includes('/api/uploads') && tusCalls.push(`${r.method()} ${new URL(r.url()).pathname}`));
    pageB.on('request', (r) => r.url().endsWith('/api/session') && r.method() === 'POST' && tusCalls.push('SIGN-IN'));
    await pageB.goto(base);
    await pageB.waitForSelector('[data-testid="video-card"]');
    await pageB.setInputFiles('input[type=file]', big);
    await pageB.getByRole('button', { name: 'Upload', exact: true }).click();
    await pageB.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) >= 5, null, { timeout: 60000 });
    const reset = await apiFromPage(adminPage, 'POST', `/api/users/${riders[1].id}/password`, {});
    assert.equal(reset.status, 200, `reset B's password: ${JSON.stringify(reset.body)}`);
    await pageB.getByTestId('session-expired').waitFor({ timeout: 60000 });
    await pageB.waitForFunction(() => document.querySelector('[data-testid="upload-note"]')?.textContent === 'Paused · sign in again to continue', null, { timeout: 30000 })
      .catch(async (e) => {
        const item = await pageB.evaluate(() => document.querySelector('[data-testid="upload-item"]')?.textContent);
        throw new Error(`the upload did not pause for sign-in (upload: ${item}; tus: ${tusCalls.join(', ')}): ${e.message}`);
      });
    await pageB.screenshot({ path: path.join(shots, 'stack-session-ended-mid-upload.png') });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await pageB.fill('input[name="password"]', reset.body.password);
    await pageB.click('button[type="submit"]');
    await pageB.locator('[data-testid="upload-item"].is-done').waitFor({ timeout: 120000 });
    assert.equal(tusCalls.filter((c) => c === 'POST /api/uploads').length, 1, `one upload, resumed: ${tusCalls.join(', ')}`);
    const after = tusCalls.slice(tusCalls.indexOf('SIGN-IN'));
    assert.ok(after.some((c) => c.startsWith('HEAD /api/uploads/')), `after signing in it asked the server for its offset: ${tusCalls.join(', ')}`);
    console.log(`session ended mid-upload: ${tusCalls.join(' → ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);

  // Clean up: the riders go, their videos to the admin.
  for (const user of created.splice(0)) {
    const r = await apiFromPage(adminPage, 'DELETE', `/api/users/${user.id}?videos=transfer`);
    assert.equal(r.status, 204, `remove ${user.username}: ${JSON.stringify(r.body)}`);
  }
} finally {
  await browser.close();
}

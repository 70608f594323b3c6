// Whole-stack phone-footage check (issue 13), in Chromium (playwright-core) and Firefox ESR (puppeteer-core over
// WebDriver BiDi): a portrait phone-style clip (frames stored landscape + a 90° display matrix, made here by
// ffmpeg from snowstack/data/person.jpg) is uploaded through the running frontend (resumable tus upload), analysed
// by the real pose service, and then in both browsers:
//  - the library card shows the poster (portrait), and the library page holds no <video>;
//  - the analysis view plays the H.264 rendition at the display size (portrait) with no MediaError;
//  - at three seek times the overlay drew the pose frame on screen, and the drawn hip and shoulder points lie
//    inside the person's box, found independently by the pose service's image endpoint on the upright frame.
// Both browsers sign in as the first admin (issue 16).
// Env: FRONTEND_URL, POSE_URL (the pose service, for the independent box), SHOTS_DIR, ADMIN_USERNAME and
// ADMIN_PASSWORD (the first admin, from backend/.env; tests/test_stack_e2e.py passes them). Exit code 0 = pass.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminCredentials, apiFromPage, signInThroughForm } from './stackAccounts.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.join(here, '../../backend/web');
const require = createRequire(path.join(webDir, 'package.json'));
const { chromium } = require('playwright-core');
const puppeteer = require('puppeteer-core');
const { overlayAt, playerReady, seekTo, waitInPage, expectedFrameAt, TORSO } = await import(path.join(webDir, 'e2e/overlayCheck.mjs'));

const base = process.env.FRONTEND_URL;
const poseUrl = process.env.POSE_URL;
if (!base || !poseUrl) throw new Error('set FRONTEND_URL and POSE_URL (the running stack)');
const admin = adminCredentials();
const shots = process.env.SHOTS_DIR || path.join(here, '../../test-results');
mkdirSync(shots, { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'phone-footage-'));
const ff = (...args) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);

// Upright portrait 240×320 from the photo, with a slow zoom so consecutive frames differ.
const W = 240;
const H = 320;
const upright = path.join(tmp, 'upright.mp4');
ff('-loop', '1', '-framerate', '10', '-i', path.join(here, '../../snowstack/data/person.jpg'), '-t', '2',
  '-vf', `crop=${W}:${H}:40:0,zoompan=z='1+0.002*on':d=1:s=${W}x${H}:fps=10`, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', upright);
// As a phone stores it: the sensor's landscape frames, plus a display matrix that turns them upright on playback.
// (FFmpeg 5.1 writes rotate=90 as a matrix that turns the picture 90° counterclockwise, so store it turned clockwise.)
const stored = path.join(tmp, 'stored.mp4');
ff('-i', upright, '-vf', 'transpose=clock', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', stored);
const portrait = path.join(tmp, 'portrait-phone.mp4');
ff('-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', portrait);

// The fixture is right: decoded with its display matrix applied, it is the upright clip (not turned the other way).
const gray = (file, filter = []) => execFileSync('ffmpeg', ['-v', 'error', '-i', file, ...filter, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
const diff = (a, b) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
const shown = gray(portrait);
assert.equal(shown.length, W * H, 'the portrait clip displays as 240×320');
assert.ok(diff(shown, gray(upright)) < diff(shown, gray(upright, ['-vf', 'hflip,vflip'])) / 3, 'the portrait clip displays upright');

// The person's box on the upright frame, from the pose service's image endpoint (no video pipeline involved).
const frameJpg = path.join(tmp, 'frame.jpg');
ff('-i', upright, '-frames:v', '1', frameJpg);
const form = new FormData();
form.append('image', new Blob([readFileSync(frameJpg)], { type: 'image/jpeg' }), 'frame.jpg');
const imageAnswer = await (await fetch(`${poseUrl}/v1/pose/image`, { method: 'POST', body: form })).json();
assert.ok(imageAnswer.persons?.length > 0, `the pose service finds the person on the upright frame: ${JSON.stringify(imageAnswer).slice(0, 300)}`);
// The endpoint's box spans the detected joints; the body reaches a little beyond its joint centres (here the
// photo cuts the astronaut at the hips, which sit on the box's lower edge), so the person's box is that box
// grown by 10% of its size on each side, within the frame.
const [x1, y1, x2, y2] = imageAnswer.persons[0].bbox;
const [mx, my] = [(x2 - x1) * 0.1, (y2 - y1) * 0.1];
const box = [Math.max(0, x1 - mx), Math.max(0, y1 - my), Math.min(W, x2 + mx), Math.min(H, y2 + my)];
console.log(`person box on the upright frame: ${[x1, y1, x2, y2].map((v) => v.toFixed(0)).join(',')} → ${box.map((v) => v.toFixed(0)).join(',')}`);

/** Checks one browser's view of the analysed clip; `page` is a playwright or puppeteer page. */
async function checkViews(page, name, videoId, pose) {
  await page.goto(base);
  await waitInPage(page, (id) => {
    const img = document.querySelector(`[data-video-id="${id}"] img[data-testid="poster"]`);
    return img && img.complete && img.naturalWidth > 0 ? [img.naturalWidth, img.naturalHeight] : null;
  }, videoId, 30000).then(([w, h]) => assert.ok(h > w, `${name}: the poster is portrait (${w}×${h})`));
  assert.equal(await page.evaluate(() => document.querySelectorAll('video').length), 0, `${name}: no <video> in the library`);
  await page.screenshot({ path: path.join(shots, `stack-phone-library-${name}.png`) });

  await page.goto(`${base}/#/videos/${videoId}`);
  await waitInPage(page, playerReady, 0, 30000);
  const details = await page.evaluate(() => document.querySelector('[data-testid="video-details"]')?.textContent ?? '');
  assert.match(details, new RegExp(`${W}×${H}`), `${name}: details show the display size`);
  const duration = await page.evaluate(() => document.querySelector('video').duration);
  for (const t of [0.25, duration / 2, duration - 0.25]) {
    await page.evaluate(seekTo, { t });
    const state = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="skeleton-canvas"]');
      return { frameIndex: Number(c.dataset.frameIndex), mediaTime: Number(c.dataset.mediaTime) };
    });
    const want = expectedFrameAt(pose.frames, state.mediaTime);
    assert.equal(state.frameIndex, want, `${name}: at ${t.toFixed(2)} s the overlay drew the frame on screen`);
    const frame = pose.frames[want];
    const rider = frame.persons.find((p) => p.track_id === pose.riderTrackId) ?? frame.persons[0];
    assert.ok(rider, `${name}: the rider was found at ${t.toFixed(2)} s`);
    const torso = TORSO.map((i) => rider.keypoints[i]);
    const view = await page.evaluate(overlayAt, { points: torso, box, W: pose.width, H: pose.height });
    assert.equal(view.mediaError, null, `${name}: no MediaError`);
    assert.deepEqual([view.videoWidth, view.videoHeight], [W, H], `${name}: the rendition plays at the display size`);
    // Confidence styling (issue 18): a joint the model was sure of is drawn solid on the body; an unsure one
    // (the astronaut's hips sit on the photo's lower edge) is faded or hidden, never solid.
    const sure = view.points.filter((_, i) => torso[i].score >= JOINT_SCORE_MIN);
    assert.ok(sure.length >= 2, `${name}: at least the shoulders are seen at ${t.toFixed(2)} s`);
    view.points.forEach((p, i) => {
      const where = `(${p.x.toFixed(0)}, ${p.y.toFixed(0)}) at ${t.toFixed(2)} s, score ${torso[i].score.toFixed(2)}`;
      if (torso[i].score < JOINT_SCORE_MIN) {
        assert.ok(p.alpha < 200, `${name}: an unsure hip/shoulder point is not drawn solid ${where} (alpha ${p.alpha})`);
        return;
      }
      assert.ok(p.alpha > 200, `${name}: a hip/shoulder point is drawn solid ${where} (alpha ${p.alpha})`);
      assert.ok(p.inside, `${name}: a hip/shoulder point lies inside the person's box ${where}`);
    });
  }
  await page.screenshot({ path: path.join(shots, `stack-phone-analysis-${name}.png`), fullPage: true });
}

const chromiumBrowser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'],
});
let videoId;
let pose;
// The threshold the metrics were computed with (summary.joint_score_min): the overlay styles joints by it.
let JOINT_SCORE_MIN;
try {
  const page = await chromiumBrowser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  await signInThroughForm(page, admin.username, admin.password);
  await page.setInputFiles('input[type=file]', portrait);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.locator('[data-testid="upload-item"].is-done').waitFor({ timeout: 60000 });
  const card = page.locator('[data-testid="video-card"]').first();
  await card.getByRole('link', { name: 'Analyse' }).waitFor({ timeout: 240000 });
  videoId = await card.getAttribute('data-video-id');
  const video = (await apiFromPage(page, 'GET', `/api/videos/${videoId}`)).body;
  assert.deepEqual([video.width, video.height], [W, H], 'the API reports the display size');
  assert.equal(video.renditionReady, true);
  pose = (await apiFromPage(page, 'GET', `/api/videos/${videoId}/pose`)).body;
  JOINT_SCORE_MIN = (await apiFromPage(page, 'GET', `/api/videos/${videoId}/metrics`)).body.summary.joint_score_min;
  assert.equal(typeof JOINT_SCORE_MIN, 'number', 'the metrics name their joint threshold');
  assert.deepEqual([pose.width, pose.height], [W, H], 'pose keypoints are in display coordinates');
  await checkViews(page, 'chromium', videoId, pose);
  if (errors.length) throw new Error(`chromium page errors: ${errors.join('; ')}`);
} finally {
  await chromiumBrowser.close();
}

const firefox = await puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
  headless: true,
  extraPrefsFirefox: { 'media.autoplay.default': 0, 'app.update.enabled': false, 'network.captive-portal-service.enabled': false },
});
try {
  const page = await firefox.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  await signInThroughForm(page, admin.username, admin.password);
  await checkViews(page, 'firefox', videoId, pose);
  if (errors.length) throw new Error(`firefox page errors: ${errors.join('; ')}`);
} finally {
  await firefox.close();
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`phone footage: portrait clip ${videoId} analysed; poster, rendition and overlay checked in Chromium and Firefox; screenshots in ${shots}`);

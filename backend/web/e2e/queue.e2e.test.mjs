// Browser tests of issue 14 in Chromium (playwright-core), against the BUILT app and the fixture API test double
// (e2e/fixtureApi.mjs + e2e/fixtureQueue.mjs): real progress words on the card (stage, parts, frames, never
// backwards), the waiting states, the skeleton of finished segments before the job is done, and retry.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, pageFactory, shot } from './chromiumPage.mjs';
import { overlayAt } from './overlayCheck.mjs';
import { root, useSuite } from './servers.mjs';

const pose = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-rider.json'), 'utf8'));

let fixture;
let browser;
let apiBase;
let base;
let newPage;

useSuite(launchChromium, (s) => {
  ({ fixture, base, apiBase, browser } = s);
  newPage = pageFactory(browser, base);
});

const control = (p, body) => fetch(`${apiBase}${p}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
const addVideo = (body) => control('/__fixture/videos', body);
const push = (jobId, job) => control(`/__fixture/jobs/${jobId}`, job);
const iso = (msAgo) => new Date(Date.now() - msAgo).toISOString();

async function waitForListener(page, jobId) {
  for (let i = 0; i < 200 && fixture.listeners(jobId) === 0; i++) await page.waitForTimeout(25);
  assert.equal(fixture.listeners(jobId), 1, `the page follows ${jobId} over SSE`);
}

const headline = (page, id) => page.locator(`[data-video-id="${id}"] [data-testid="job-progress-headline"]`);
async function waitForText(locator, re) {
  await locator.waitFor();
  const page = locator.page();
  for (let i = 0; i < 200; i++) {
    if (re.test((await locator.textContent().catch(() => '')) ?? '')) return;
    await page.waitForTimeout(25);
  }
  assert.match(await locator.textContent(), re);
}

/** The overlay at the given time: which pose frame it drew, whether "analysing…" shows, and the keypoints' paint. */
async function overlayAtTime(page, t, frame) {
  await page.evaluate((t) => new Promise((resolve) => {
    const v = document.querySelector('video');
    v.pause();
    v.addEventListener('seeked', () => requestAnimationFrame(() => requestAnimationFrame(() => resolve())), { once: true });
    v.currentTime = t;
  }), t);
  const points = [5, 6, 11, 12].map((i) => pose.frames[frame].persons[0].keypoints[i]);
  const state = await page.evaluate(overlayAt, { points, box: pose.frames[frame].persons[0].bbox, W: pose.width, H: pose.height });
  const analysing = await page.locator('[data-testid="analysing-overlay"]').isVisible();
  return { ...state, analysing, painted: state.points.every((p) => p.alpha > 200), blank: state.points.every((p) => p.alpha === 0) };
}

describe('issue 14: progress, queue, partial results, retry', () => {
  test('a card shows place in line, then stage, parts and frames; what it shows never goes back', async () => {
    const { page, errors, close } = await newPage();
    const { jobId } = await addVideo({ id: 'v-q1', title: 'Queue card', status: 'queued', job: { queuePosition: 2, etaS: 40 } });
    await page.goto(base);
    await waitForText(headline(page, 'v-q1'), /^2nd in line · about 40 s$/);
    await waitForListener(page, jobId);
    // Every frame count the card shows, in order.
    await page.evaluate(() => {
      window.__frames = [];
      const card = document.querySelector('[data-video-id="v-q1"]');
      new MutationObserver(() => {
        const el = card.querySelector('[data-testid="job-progress"]');
        if (el && el.dataset.framesDone !== '') window.__frames.push(Number(el.dataset.framesDone));
      }).observe(card, { subtree: true, attributes: true, childList: true, characterData: true });
    });
    const detail = page.locator('[data-video-id="v-q1"] [data-testid="job-progress-detail"]');
    await push(jobId, { state: 'running', stage: 'ingest', queuePosition: null, etaS: 12 });
    await waitForText(headline(page, 'v-q1'), /^Preparing video$/);
    await push(jobId, { stage: 'analysis', framesTotal: 72, segments: { total: 3, done: 0, running: 2 }, finished: [], etaS: 9 });
    await waitForText(headline(page, 'v-q1'), /^Analysing 2 of 3 parts$/);
    await waitForText(detail, /^0 of 72 frames · about 10 s left$/);
    await push(jobId, { segments: { total: 3, done: 1, running: 2 }, finished: [0], etaS: 6 });
    await waitForText(headline(page, 'v-q1'), /^Analysing 3 of 3 parts$/);
    await waitForText(detail, /^24 of 72 frames/);
    await push(jobId, { finished: [0, 2] });
    await waitForText(detail, /^48 of 72 frames/);
    // A late event (older than the one shown) reports fewer frames: the card keeps 48.
    await push(jobId, { finished: [0], updatedAt: iso(60_000) });
    await page.waitForTimeout(300);
    assert.match(await detail.textContent(), /^48 of 72 frames/);
    assert.equal(await page.locator('[data-video-id="v-q1"] progress').getAttribute('value'), '67');
    await push(jobId, { stage: 'finish', finished: [0, 1, 2], segments: { total: 3, done: 3, running: 0 } });
    await waitForText(headline(page, 'v-q1'), /^Joining results$/);
    await waitForText(detail, /^72 of 72 frames/);
    await shot(page, 'queue-card-finishing');
    await push(jobId, { state: 'done', progress: 1 });
    await page.waitForSelector('[data-video-id="v-q1"] [data-state="done"]');
    await page.locator('[data-video-id="v-q1"] [data-testid="job-progress"]').waitFor({ state: 'detached' });
    const frames = await page.evaluate(() => window.__frames);
    assert.ok(new Set(frames).size >= 4, `several steps shown: ${frames}`);
    assert.ok(frames.every((f, i) => i === 0 || f >= frames[i - 1]), `frames shown never went back: ${frames}`);
    assert.deepEqual(errors, []);
    await close();
  });

  test('with no live worker the card and the analysis view say the video waits and will start by itself', async () => {
    const { page, errors, close } = await newPage();
    const { jobId } = await addVideo({ id: 'v-q2', title: 'Waiting card', status: 'queued', job: { waiting: 'workers', queuePosition: 1 } });
    await page.goto(base);
    await waitForText(headline(page, 'v-q2'), /^Waiting for analysis workers — your video will start automatically$/);
    await waitForListener(page, jobId);
    await push(jobId, { waiting: 'database' });
    await waitForText(headline(page, 'v-q2'), /^Waiting for the database — your video will start automatically$/);
    await shot(page, 'queue-waiting');
    await push(jobId, { waiting: null, queuePosition: 1, etaS: 3 });
    await waitForText(headline(page, 'v-q2'), /^Next in line · a few seconds$/);
    await push(jobId, { waiting: 'workers' });
    await page.goto(`${base}/#/videos/v-q2`);
    await waitForText(page.getByTestId('job-progress-headline'), /^Waiting for analysis workers/);
    assert.equal(await page.locator('video').count(), 0, 'no player before the rendition exists');
    assert.deepEqual(errors, []);
    await close();
  });

  test('the analysis view draws the skeleton of finished segments before the job is done, "analysing…" elsewhere', async () => {
    const { page, errors, close } = await newPage();
    const { jobId } = await addVideo({ id: 'v-part', title: 'Partial run', status: 'queued', job: { queuePosition: 1 } });
    await page.goto(`${base}/#/videos/v-part`);
    await waitForText(page.getByTestId('job-progress-headline'), /^Next in line$/);
    await waitForListener(page, jobId);
    await push(jobId, { state: 'running', stage: 'ingest' });
    await waitForText(page.getByTestId('job-progress-headline'), /^Preparing video$/);
    assert.equal(await page.locator('video').count(), 0, 'the original is not played while the rendition is made');
    // The ingest is done (rendition, poster) and the LAST of three parts finishes first.
    await push(jobId, { stage: 'analysis', framesTotal: 72, segments: { total: 3, done: 0, running: 3 }, finished: [2] });
    await waitForText(page.getByTestId('job-progress-headline'), /^Analysing 3 of 3 parts$/);
    await page.waitForFunction(() => document.querySelector('video')?.readyState >= 2, null, { timeout: 15000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="skeleton-canvas"]') !== null);
    // Part 3 (frames 48..71) is drawn; part 1 is not analysed yet.
    let s = await overlayAtTime(page, 2.5, 60);
    assert.equal(s.frameIndex, 12, 'frame 60 is the 13th of the frames held (48..71)');
    assert.ok(s.painted, `hips and shoulders painted at 2.5 s: ${JSON.stringify(s.points)}`);
    assert.equal(s.analysing, false);
    s = await overlayAtTime(page, 0.5, 12);
    assert.equal(s.frameIndex, -1, 'no pose frame at 0.5 s yet');
    assert.ok(s.blank, 'nothing drawn where the analysis has not reached');
    assert.equal(s.analysing, true, '"analysing…" shows over the video');
    await shot(page, 'partial-analysis');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(300);
    await shot(page, 'partial-analysis-375');
    await page.setViewportSize({ width: 1280, height: 720 });
    assert.equal(await page.locator('[data-testid="chart"]').count(), 0, 'no charts before done');
    // The first part finishes: only the missing windows are asked for, and 0.5 s gets its skeleton.
    const before = fixture.queue.poseRequests.filter((r) => r.videoId === 'v-part').length;
    await push(jobId, { segments: { total: 3, done: 2, running: 1 }, finished: [0, 2] });
    await page.waitForFunction(() => !document.querySelector('[data-testid="analysing-overlay"]'), null, { timeout: 10000 }).catch(() => undefined);
    for (let i = 0; i < 100 && fixture.queue.poseRequests.filter((r) => r.videoId === 'v-part').length === before; i++) await page.waitForTimeout(25);
    s = await overlayAtTime(page, 0.5, 12);
    assert.equal(s.frameIndex, 12, 'frame 12 of the frames held (0..23, 48..71)');
    assert.ok(s.painted, 'part 1 drawn once it finished');
    assert.equal(s.analysing, false);
    s = await overlayAtTime(page, 1.5, 36);
    assert.ok(s.blank && s.analysing, 'part 2 still analysing');
    const requests = fixture.queue.poseRequests.filter((r) => r.videoId === 'v-part');
    assert.ok(requests[0].from === 0 && (requests[0].to === null || requests[0].to === 3) && requests[0].frames === 24, `the first window is the whole clip: ${JSON.stringify(requests[0])}`);
    assert.ok(requests.slice(1).every((r) => !(r.from === 0 && r.to === 3)), `later windows are the gaps only: ${JSON.stringify(requests)}`);
    assert.equal(requests.slice(1).reduce((n, r) => n + r.frames, 0) <= 24 + 2 * requests.length, true, 'frames already held are not fetched again');
    // Done: the full analysis with its charts.
    await push(jobId, { state: 'done', progress: 1, finished: [0, 1, 2], segments: { total: 3, done: 3, running: 0 } });
    await page.locator('[data-testid="chart"]').first().waitFor({ timeout: 15000 });
    await page.locator('[data-testid="summary"]').waitFor();
    assert.deepEqual(errors, []);
    await close();
  });

  test('"Try again" on a failed card and in the failed analysis view starts a new job and follows it', async () => {
    const { page, errors, close } = await newPage();
    const failedJob = { error: 'This file is damaged or is not a video we can read.', errorDetail: 'ffmpeg: moov atom not found', stage: null, progress: 0.1 };
    await addVideo({ id: 'v-fail1', title: 'Failed card', status: 'failed', job: failedJob });
    await addVideo({ id: 'v-fail2', title: 'Failed view', status: 'failed', job: failedJob });
    await addVideo({ id: 'v-fail3', title: 'Failed, coach looks', status: 'failed', job: failedJob });
    // ana's coach sees her failed run read-only: no "Try again" (the API would refuse it).
    const coach = await newPage(1280, 720, { as: 'cora' });
    await coach.page.goto(base);
    await coach.page.locator('[data-video-id="v-fail3"] [data-testid="job-error"]').waitFor();
    assert.equal(await coach.page.locator('[data-video-id="v-fail3"] [data-testid="retry-button"]').count(), 0);
    await coach.page.goto(`${base}/#/videos/v-fail3`);
    await coach.page.getByTestId('analysis-view').getByText('This file is damaged').waitFor();
    assert.equal(await coach.page.getByTestId('retry-button').count(), 0);
    await coach.close();
    await page.goto(base);
    const card = page.locator('[data-video-id="v-fail1"]');
    await card.getByRole('button', { name: 'Try again: Failed card' }).click();
    await card.locator('[data-state="queued"]').waitFor();
    await waitForText(headline(page, 'v-fail1'), /in line/);
    assert.ok(fixture.log.includes('POST /api/videos/v-fail1/retry'));
    const newJob = 'j-v-fail1-retry1'; // the double names a retry's job after the failed one
    await waitForListener(page, newJob);
    await push(newJob, { state: 'running', stage: 'ingest' });
    await waitForText(headline(page, 'v-fail1'), /^Preparing video$/);
    assert.equal(await card.locator('[data-testid="job-error"]').count(), 0, 'the old error is gone');

    await page.goto(`${base}/#/videos/v-fail2`);
    const view = page.getByTestId('analysis-view');
    await view.getByText('This file is damaged').waitFor();
    await shot(page, 'failed-view-retry');
    await view.getByRole('button', { name: 'Try again' }).click();
    await waitForText(page.getByTestId('job-progress-headline'), /in line/);
    await waitForListener(page, 'j-v-fail2-retry2');
    await push('j-v-fail2-retry2', { state: 'running', stage: 'ingest' });
    await waitForText(page.getByTestId('job-progress-headline'), /^Preparing video$/);
    assert.deepEqual(errors, []);
    await close();
  });
});

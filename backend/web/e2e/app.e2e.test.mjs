// Browser tests: Debian's Chromium (driven by playwright-core) against the BUILT app served by
// server/serve.mjs, whose /api proxy points at the fixture API test double (e2e/fixtureApi.mjs). Every page is
// signed in as the rider who owns the recorded videos; e2e/accounts.e2e.test.mjs tests the accounts themselves.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, pageFactory, seekAndWait, shot, waitForPlayer } from './chromiumPage.mjs';
import { checkOverlayAtThreeTimes } from './overlayCheck.mjs';
import { root, shots, useSuite } from './servers.mjs';

let fixture;
let browser;
let base;
let apiBase;
let newPage;

useSuite(launchChromium, (s) => {
  ({ fixture, base, apiBase, browser } = s);
  newPage = pageFactory(browser, base); // signed in as ana (the fixture videos' owner) unless told otherwise
});

describe('library and upload', () => {
  test('library lists every fixture video with its role, duration and status chip', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    const cards = await page.$$eval('[data-testid="video-card"]', (els) => els.map((e) => ({
      id: e.dataset.videoId, state: e.querySelector('[data-state]')?.dataset.state, text: e.textContent,
    })));
    assert.deepEqual(cards.map((c) => c.id), ['v-live', 'v-rider', 'v-ref', 'v-failed']);
    assert.deepEqual(cards.map((c) => c.state), ['queued', 'done', 'done', 'failed']);
    assert.match(cards[1].text, /Rider/);
    assert.match(cards[1].text, /0:03\.0/);
    assert.match(cards[2].text, /Reference/);
    // Posters: one small JPEG per analysed video, and not a single <video> element on the library page.
    await page.waitForFunction(() => document.querySelectorAll('.thumb-ready img[data-testid="poster"]').length >= 2, null, { timeout: 15000 });
    const previews = await page.$$eval('[data-testid="video-card"]', (els) => els.map((e) => ({
      poster: e.querySelector('img[data-testid="poster"]')?.getAttribute('src') ?? null,
      width: e.querySelector('img[data-testid="poster"]')?.naturalWidth ?? 0,
    })));
    assert.deepEqual(previews.map((p) => p.poster), [null, '/api/videos/v-rider/poster', '/api/videos/v-ref/poster', null]);
    assert.ok(previews[1].width > 0 && previews[2].width > 0, 'the posters decoded');
    assert.equal(await page.evaluate(() => document.querySelectorAll('video').length), 0, 'no <video> per card');
    assert.ok(!fixture.log.some((l) => /\/stream$/.test(l)), 'the library never touched a video stream');
    await shot(page, 'library-1280');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(300);
    await shot(page, 'library-375');
    assert.deepEqual(errors, []);
    await close();
  });

  test('upload shows real progress, then the API rejection of a wrong type inline', async () => {
    const { page, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    // Record every progress value the bar shows.
    await page.evaluate(() => {
      window.__progress = [];
      new MutationObserver(() => {
        for (const bar of document.querySelectorAll('[role="progressbar"]')) window.__progress.push(Number(bar.getAttribute('aria-valuenow')));
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-valuenow'], childList: true });
    });
    const big = Buffer.alloc(12 * 1024 * 1024, 7);
    await page.setInputFiles('input[type=file]', { name: 'kicker-2.webm', mimeType: 'video/webm', buffer: big });
    await page.getByLabel('A reference').check();
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const row = page.getByTestId('upload-item').first();
    await row.getByText('Uploaded · waiting for analysis').waitFor({ timeout: 20000 });
    // Leaving the page mid-upload would have warned; now the bytes are in, it does not.
    assert.equal(await page.evaluate(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; }), false);
    const seen = await page.evaluate(() => window.__progress);
    assert.ok(seen.some((v) => v > 0 && v < 100), `expected an intermediate progress value, saw ${[...new Set(seen)].join(',')}`);
    assert.equal(seen.at(-1), 100);
    // The library refreshed with the new upload at the top.
    await page.waitForFunction(() => document.querySelector('[data-testid="video-card"]')?.dataset.videoId === 'v-up-1');
    // The one upload row follows its job (the same SSE as the card) to Ready.
    for (let i = 0; i < 100 && fixture.listeners('j-up-1') < 2; i++) await page.waitForTimeout(50);
    const push = (job) => fetch(`${apiBase}/__fixture/jobs/j-up-1`, { method: 'POST', body: JSON.stringify(job) });
    await push({ state: 'running', progress: 0.5 });
    await row.getByText('Analysing · 50%').waitFor();
    await push({ state: 'done', progress: 1 });
    await row.getByText('Ready', { exact: true }).waitFor();
    await page.waitForSelector('[data-video-id="v-up-1"] [data-state="done"]');
    assert.equal(await row.getByRole('link', { name: 'Open the analysis' }).getAttribute('href'), '#/videos/v-up-1');

    // Second upload in a row: a type the API answers 415 to; its detail is shown inline.
    await page.setInputFiles('input[type=file]', { name: 'clip.avi', mimeType: 'video/webm', buffer: Buffer.alloc(2048, 1) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    const alert = page.locator('[data-testid="upload-item"].is-error [role="alert"]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /not an MP4, MOV, WebM or MKV video/);
    // The browser uploaded over the resumable protocol (tus), not one multipart POST.
    assert.ok(fixture.log.includes('POST /api/uploads'));
    assert.ok(fixture.log.some((l) => /^PATCH \/api\/uploads\/u\d+$/.test(l)));
    assert.ok(!fixture.log.includes('POST /api/videos'));
    // A file that is obviously not a video is stopped before it is sent.
    await page.setInputFiles('input[type=file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    assert.match(await page.locator('form [role="alert"]').textContent(), /not a video we can analyse/);
    await shot(page, 'upload-1280');
    await close();
  });

  test('status chip follows SSE job events queued → running → done', async () => {
    const { page, close } = await newPage();
    await page.goto(base);
    const chip = page.locator('[data-video-id="v-live"] [data-state]');
    await chip.waitFor();
    assert.equal(await chip.getAttribute('data-state'), 'queued');
    for (let i = 0; i < 100 && fixture.listeners('j-live') === 0; i++) await page.waitForTimeout(50);
    assert.equal(fixture.listeners('j-live'), 1, 'the library opened an event stream for the queued job');
    const push = (job) => fetch(`${apiBase}/__fixture/jobs/j-live`, { method: 'POST', body: JSON.stringify(job) });
    await push({ state: 'running', progress: 0.4 });
    await page.waitForSelector('[data-video-id="v-live"] [data-state="running"]');
    assert.match(await chip.textContent(), /40%/);
    await push({ state: 'done', progress: 1 });
    await page.waitForSelector('[data-video-id="v-live"] [data-state="done"]');
    // After done the card refetched the video: its duration is shown now.
    await page.waitForFunction(() => /0:03\.0/.test(document.querySelector('[data-video-id="v-live"]').textContent));
    await close();
  });

  test('a failed analysis reads in plain words, the technical detail folded away', async () => {
    const { page, close } = await newPage();
    const res = await page.goto(base);
    assert.match(res.headers()['content-security-policy'], /script-src 'self'/, 'the app is served with its CSP');
    const card = page.locator('[data-video-id="v-failed"] [data-testid="job-error"]');
    await card.waitFor();
    assert.match(await card.textContent(), /^The analysis service could not be reached/);
    const details = card.locator('details');
    assert.equal(await details.evaluate((d) => d.open), false);
    assert.equal(await card.getByText('getaddrinfo ENOTFOUND').isVisible(), false, 'the technical cause is folded away');
    await page.goto(`${base}/#/videos/v-failed`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.locator('.state-body').textContent(), /^The analysis service could not be reached, even after several tries/);
    assert.doesNotMatch(await alert.locator('.state-body').textContent(), /ENOTFOUND|pose-service/);
    await alert.getByText('Technical details').click();
    assert.match(await alert.locator('[data-testid="error-details"] code').textContent(), /getaddrinfo ENOTFOUND pose-service/);
    await close();
  });

  test('delete: focus on Cancel, Escape cancels, Undo brings it back, and the DELETE goes only when the toast ends', async () => {
    const { page, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-video-id="v-failed"]');
    const deletes = () => fixture.log.filter((l) => l === 'DELETE /api/videos/v-failed').length;
    await page.getByRole('button', { name: 'Delete Night session (dark)' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.keyboard.press('Escape');
    await page.getByRole('group', { name: /Confirm delete/ }).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Delete Night session (dark)' }).click();
    await page.getByRole('group', { name: /Confirm delete/ }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForSelector('[data-video-id="v-failed"]', { state: 'detached' });
    await page.getByTestId('undo-toast').getByRole('button', { name: 'Undo' }).click();
    await page.waitForSelector('[data-video-id="v-failed"]');
    assert.equal(deletes(), 0, 'undone before anything was sent');
    await page.getByRole('button', { name: 'Delete Night session (dark)' }).click();
    await page.getByRole('group', { name: /Confirm delete/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('undo-toast').waitFor({ state: 'detached', timeout: 15000 });
    assert.equal(deletes(), 1, 'sent once the undo time ran out');
    await page.reload();
    await page.waitForSelector('[data-testid="video-card"]');
    assert.equal(await page.locator('[data-video-id="v-failed"]').count(), 0, 'gone on the server too');
    await close();
  });

  test('a first visit to an empty library explains the app and how to film', async () => {
    // Ben owns one video: he deletes it (and lets the undo time run out), then his library is empty.
    const { page, errors, close } = await newPage(390, 844, { as: 'ben' });
    await page.goto(base);
    await page.waitForSelector('[data-video-id="v-ben"]');
    await page.getByRole('button', { name: /^Delete / }).click();
    await page.getByRole('group', { name: /Confirm delete/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('undo-toast').waitFor({ state: 'detached', timeout: 15000 });
    await page.reload();
    const intro = page.getByTestId('first-run');
    await intro.waitFor();
    assert.match(await intro.textContent(), /skeleton.*whole body in frame.*Landscape or portrait.*steady/s);
    await shot(page, 'library-first-run-390');
    // An unknown video and an unknown page both lead back to the library.
    await page.goto(`${base}/#/videos/v-nope`);
    await page.getByRole('alert').waitFor();
    await page.getByRole('link', { name: /Back to the library/ }).click();
    await intro.waitFor();
    await page.goto(`${base}/#/no/such/page`);
    await page.getByRole('link', { name: /Back to the library/ }).click();
    await intro.waitFor();
    assert.deepEqual(errors, []);
    await close();
  });

  test('a file dropped outside the drop zone is caught: the app stays and takes it as the clip', async () => {
    const { page, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    const url = page.url();
    const prevented = await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(4096)], 'outside.mp4', { type: 'video/mp4' }));
      const target = document.querySelector('[data-testid="video-card"]');
      target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
      const drop = new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt });
      target.dispatchEvent(drop);
      return drop.defaultPrevented;
    });
    assert.equal(prevented, true, 'the browser default (open the file, leave the app) was prevented');
    await page.getByTestId('dropzone').getByText('outside.mp4').waitFor();
    assert.equal(page.url(), url);
    await close();
  });

  test('rename, search and sort go through the API; cards show date and time', async () => {
    const { page, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-video-id="v-rider"]');
    assert.match(await page.locator('[data-video-id="v-rider"] [data-testid="video-when"]').textContent(), /\d{1,2}:\d{2}/);
    await page.getByRole('button', { name: 'Rename Backside 540, kicker 2' }).click();
    await page.getByRole('textbox', { name: /New title/ }).fill('  BS 540 clean  ');
    await page.keyboard.press('Enter');
    await page.locator('[data-video-id="v-rider"] .video-card-title', { hasText: 'BS 540 clean' }).waitFor();
    await page.getByRole('searchbox', { name: 'Search titles' }).fill('bs 540');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="video-card"]')].map((e) => e.dataset.videoId).join() === 'v-rider');
    await page.reload();
    await page.locator('[data-video-id="v-rider"] .video-card-title', { hasText: 'BS 540 clean' }).waitFor();
    await page.getByRole('button', { name: 'Rename BS 540 clean' }).click();
    await page.getByRole('textbox', { name: /New title/ }).fill('Backside 540, kicker 2');
    await page.keyboard.press('Enter');
    await page.locator('[data-video-id="v-rider"] .video-card-title', { hasText: 'Backside 540, kicker 2' }).waitFor();
    await close();
  });
});

describe('resumable upload (tus)', () => {
  const uploadsOf = () => fetch(`${apiBase}/__fixture/uploads`).then((r) => r.json());
  const created = () => fixture.log.filter((l) => l === 'POST /api/uploads').length;

  test('the upload code (tus-js-client) is its own chunk, fetched when the first upload starts, not with the page', async () => {
    const { page, close } = await newPage();
    const scripts = []; // every JS response in order: its path and whether it holds the tus client
    page.on('response', async (res) => {
      if (!/\.js$/.test(new URL(res.url()).pathname)) return;
      const entry = { path: new URL(res.url()).pathname, tus: null };
      scripts.push(entry);
      entry.tus = (await res.text()).includes('Tus-Resumable');
    });
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    await page.waitForLoadState('networkidle');
    const atLoad = scripts.length;
    assert.ok(atLoad >= 1 && scripts.every((s) => s.tus === false), `no tus code with the page: ${JSON.stringify(scripts)}`);
    await page.setInputFiles('input[type=file]', { name: 'lazy-tus.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(256 * 1024, 4) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.locator('[data-testid="upload-item"].is-done').first().waitFor({ timeout: 30000 });
    for (let i = 0; i < 50 && scripts.some((s) => s.tus === null); i++) await page.waitForTimeout(20);
    const later = scripts.slice(atLoad);
    assert.equal(later.filter((s) => s.tus).length, 1, `one chunk with the tus client, after the upload started: ${JSON.stringify(later)}`);
    // A second upload reuses it: no new request for it.
    await page.setInputFiles('input[type=file]', { name: 'lazy-tus-2.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(128 * 1024, 6) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="upload-item"].is-done').length >= 2, null, { timeout: 30000 });
    assert.equal(scripts.filter((s) => s.tus).length, 1, JSON.stringify(scripts));
    await close();
  });

  test('a connection dropped at half resumes by itself from where the server stopped', async () => {
    const { page, close } = await newPage();
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    await fetch(`${apiBase}/__fixture/drop`, { method: 'POST', body: JSON.stringify({ atFraction: 0.5 }) });
    const before = fixture.log.length;
    await page.setInputFiles('input[type=file]', { name: 'drop-test.mp4', mimeType: 'video/mp4', buffer: Buffer.alloc(6 * 1024 * 1024, 3) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.locator('[data-testid="upload-item"].is-done').first().waitFor({ timeout: 30000 });
    const calls = fixture.log.slice(before);
    assert.equal(calls.filter((l) => l === 'POST /api/uploads').length, 1, 'one upload, never started over');
    assert.ok(calls.some((l) => /^HEAD \/api\/uploads\//.test(l)), `asked the server for its offset: ${calls.join(', ')}`);
    assert.ok(calls.filter((l) => /^PATCH \/api\/uploads\//.test(l)).length >= 2, 'sent the rest in a new PATCH');
    await page.waitForFunction(() => document.querySelector('[data-testid="video-card"]')?.textContent?.includes('drop-test'));
    await close();
  });

  test('after a page reload, choosing the same file resumes the interrupted upload', async () => {
    const { page, close } = await newPage();
    const file = path.join(shots, 'resume-after-reload.mov');
    writeFileSync(file, Buffer.alloc(12 * 1024 * 1024, 5));
    await page.goto(base);
    await page.waitForSelector('[data-testid="video-card"]');
    const createdBefore = created();
    await page.setInputFiles('input[type=file]', file);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    // Reload part-way, as a phone browser that was closed or lost its tab would.
    await page.waitForFunction(() => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) >= 25, null, { timeout: 20000 });
    await page.reload();
    await page.waitForSelector('[data-testid="video-card"]');
    const partial = (await uploadsOf()).find((u) => u.offset > 0 && u.offset < u.length);
    assert.ok(partial, 'the server holds a partial upload');
    await page.setInputFiles('input[type=file]', file);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.waitForFunction(() => /Resumed at \d+%/.test(document.querySelector('[data-testid="upload-note"]')?.textContent ?? ''), null, { timeout: 10000 });
    await page.locator('[data-testid="upload-item"].is-done').first().waitFor({ timeout: 30000 });
    assert.equal(created() - createdBefore, 1, 'the second attempt resumed the first upload instead of creating another');
    assert.equal((await uploadsOf()).length, 0, 'nothing left half-uploaded');
    await close();
  });
});

describe('analysis view', () => {
  const pose = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-rider.json'), 'utf8'));

  test('draws the skeleton over the video at the keypoints of the playing frame', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${base}/#/videos/v-rider`);
    await waitForPlayer(page);
    await seekAndWait(page, 1.25);
    const frameIdx = Number(await page.getAttribute('[data-testid="skeleton-canvas"]', 'data-frame-index'));
    assert.equal(frameIdx, 30, '1.25 s at 24 fps is frame 30');
    const kp = pose.frames[30].persons[0].keypoints;
    const sample = (on) => page.evaluate(({ kp, W, H }) => {
      const c = document.querySelector('[data-testid="skeleton-canvas"]');
      const v = document.querySelector('video');
      const s = Math.min(v.clientWidth / W, v.clientHeight / H);
      const ox = (v.clientWidth - W * s) / 2;
      const oy = (v.clientHeight - H * s) / 2;
      const ctx = c.getContext('2d');
      const k = c.width / v.clientWidth;
      return [11, 12, 13, 14, 5, 6].map((i) => ctx.getImageData(Math.round((ox + kp[i].x * s) * k), Math.round((oy + kp[i].y * s) * k), 1, 1).data[3]);
    }, { kp, W: pose.width, H: pose.height, on });
    const alphaOn = await sample(true);
    assert.ok(alphaOn.every((a) => a > 200), `overlay pixels at hips, knees, shoulders should be painted, got alpha ${alphaOn}`);
    await shot(page, 'analysis-1280');
    await page.getByLabel('Skeleton').uncheck();
    const alphaOff = await sample(false);
    assert.deepEqual(alphaOff, [0, 0, 0, 0, 0, 0], 'toggle off clears the overlay');
    await page.getByLabel('Skeleton').check();
    // Frame step moves exactly one frame.
    await page.getByRole('button', { name: 'Next frame' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="skeleton-canvas"]').dataset.frameIndex === '31');
    // Playback speed.
    await page.getByLabel('Playback speed').selectOption('0.25');
    assert.equal(await page.evaluate(() => document.querySelector('video').playbackRate), 0.25);
    // Summary cards from the metrics.
    const summary = await page.textContent('[data-testid="summary"]');
    assert.match(summary, /540°/);
    assert.match(summary, /0\.80 s/);
    assert.match(summary, /Regular/);
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(400);
    await shot(page, 'analysis-375');
    assert.deepEqual(errors, []);
    await close();
  });

  test('overlay follows the media time of the frame on screen; hips and shoulders land inside the box at three times', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${base}/#/videos/v-rider`);
    // 1.285 s shows frame 30 (t = 1.25) until 1.2917 s: "nearest" would draw frame 31 there.
    const states = await checkOverlayAtThreeTimes(page, pose, [0.5, 1.285, 2.4], assert);
    assert.deepEqual(states.map((s) => s.frameIndex), [12, 30, 57]);
    assert.equal(states[0].clock, 'video-frame-callback', 'Chromium draws from requestVideoFrameCallback');
    // Stepping moves by the frames' own times.
    await page.getByRole('button', { name: 'Next frame' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="skeleton-canvas"]').dataset.frameIndex === '58');
    await page.getByRole('button', { name: 'Previous frame' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="skeleton-canvas"]').dataset.frameIndex === '57');
    // The details section: codec, display size, fps with CFR/VFR, duration; the original downloads.
    const details = await page.textContent('[data-testid="video-details"]');
    assert.match(details, /VP8/);
    assert.match(details, /480×270/);
    assert.match(details, /24 fps · constant \(CFR\)/);
    assert.match(details, /0:03\.0/);
    assert.equal(await page.getAttribute('a[download]', 'href'), '/api/videos/v-rider/original');
    // Scrub preview: hovering the scrubber at 60% shows the sprite tile for that time (1.8 s → tile of 1.75 s).
    const scrubber = page.getByLabel('Position');
    const sbox = await scrubber.boundingBox();
    await page.mouse.move(sbox.x + sbox.width * 0.6, sbox.y + sbox.height / 2);
    const tile = page.getByTestId('scrub-preview');
    await tile.waitFor();
    assert.equal(await tile.getAttribute('data-tile'), '3');
    assert.match(await tile.getAttribute('style'), /background-position: -240px 0px/);
    assert.equal(await page.evaluate(() => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(`${img.naturalWidth}x${img.naturalHeight}`);
      img.onerror = () => resolve('error');
      img.src = '/api/videos/v-rider/sprite';
    })), '480x45');
    await page.mouse.move(0, 0);
    await tile.waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
    await close();
  });

  test('without requestVideoFrameCallback the overlay follows currentTime and still draws the frame on screen', async () => {
    const { page, errors, close } = await newPage();
    // A browser without the per-frame callback (older Firefox, some WebViews).
    await page.addInitScript(() => {
      delete HTMLVideoElement.prototype.requestVideoFrameCallback;
      delete HTMLVideoElement.prototype.cancelVideoFrameCallback;
    });
    await page.goto(`${base}/#/videos/v-rider`);
    const states = await checkOverlayAtThreeTimes(page, pose, [0.5, 1.285, 2.4], assert);
    assert.equal(states[0].clock, 'animation-frame');
    // While playing, the drawn frame keeps up with the media time.
    await page.evaluate(() => document.querySelector('video').play());
    await page.waitForFunction(() => document.querySelector('video').currentTime > 2.6 || document.querySelector('video').ended);
    const drawn = await page.evaluate(() => Number(document.querySelector('[data-testid="skeleton-canvas"]').dataset.frameIndex));
    assert.ok(drawn >= 60, `the overlay followed playback to frame ${drawn}`);
    assert.deepEqual(errors, []);
    await close();
  });

  test('video first: the summary alone comes with the video, the charts\' series only after the first skeleton', async () => {
    const { page, context, errors, close } = await newPage();
    await context.addInitScript(() => {
      window.__firstSkeletonAt = null;
      new MutationObserver(() => {
        if (window.__firstSkeletonAt === null && document.querySelector('[data-testid="skeleton-canvas"]')?.dataset.joints) window.__firstSkeletonAt = performance.now();
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-joints'] });
    });
    await page.goto(`${base}/#/videos/v-rider`);
    await waitForPlayer(page);
    await page.waitForSelector('[data-testid="chart"]');
    const seen = await page.evaluate(() => ({
      skeletonAt: window.__firstSkeletonAt,
      requests: performance.getEntriesByType('resource').filter((e) => /\/api\/videos\/v-rider\/(metrics|stream)/.test(e.name))
        .map((e) => ({ path: new URL(e.name).pathname + new URL(e.name).search, at: e.startTime })),
    }));
    const summary = seen.requests.filter((r) => r.path === '/api/videos/v-rider/metrics?series=0');
    const whole = seen.requests.filter((r) => r.path === '/api/videos/v-rider/metrics');
    assert.equal(summary.length, 1, JSON.stringify(seen.requests));
    assert.equal(whole.length, 1, `the series are read once: ${JSON.stringify(seen.requests)}`);
    assert.ok(seen.skeletonAt !== null, 'the overlay drew');
    assert.ok(whole[0].at >= seen.skeletonAt, `series asked at ${whole[0].at} ms, before the first skeleton at ${seen.skeletonAt} ms`);
    assert.ok(summary[0].at < seen.skeletonAt, 'the summary comes before the first skeleton');
    // The tiles came from the summary alone; the charts from the series.
    assert.match(await page.textContent('[data-testid="summary"]'), /540°/);
    assert.equal(await page.locator('[data-testid="chart"]').count(), 4);
    assert.equal(await page.getByText('Loading charts…').count(), 0);
    assert.deepEqual(errors, []);
    await close();
  });

  test('clicking a chart seeks the video to that time', async () => {
    const { page, close } = await newPage();
    await page.goto(`${base}/#/videos/v-rider`);
    await waitForPlayer(page);
    const chart = page.locator('[data-testid="chart"]').first();
    const box = await chart.boundingBox();
    const before = await page.evaluate(() => document.querySelector('video').currentTime);
    // The plot spans x = 42 .. width-12 in chart pixels for t = 0 .. last t.
    const tLast = pose.frames.at(-1).t;
    const x = 42 + (box.width - 54) * 0.75;
    await chart.click({ position: { x, y: box.height / 2 } });
    await page.waitForFunction((b) => Math.abs(document.querySelector('video').currentTime - b) > 0.5, before);
    const t = await page.evaluate(() => document.querySelector('video').currentTime);
    assert.ok(Math.abs(t - 0.75 * tLast) < 0.1, `expected ≈${(0.75 * tLast).toFixed(2)} s, got ${t}`);
    // The cursor in every chart follows.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]').getAttribute('aria-valuenow')) > 2);
    await close();
  });

  test('compare view shows rider and reference side by side, synced by progress', async () => {
    const { page, errors, close } = await newPage();
    await page.goto(`${base}/#/compare?rider=v-rider&reference=v-ref`);
    await waitForPlayer(page, 0);
    await waitForPlayer(page, 1);
    await seekAndWait(page, 1.5);
    await page.waitForFunction(() => {
      const [a, b] = document.querySelectorAll('video');
      return Math.abs(a.currentTime / a.duration - b.currentTime / b.duration) < 0.02;
    });
    // Seeking from the comparison chart moves the rider; the reference follows by progress.
    const chart = page.locator('[data-testid="chart"]').first();
    const box = await chart.boundingBox();
    await chart.click({ position: { x: 42 + (box.width - 54) * 0.25, y: box.height / 2 } });
    await page.waitForFunction(() => {
      const [a, b] = document.querySelectorAll('video');
      return Math.abs(a.currentTime - 0.74) < 0.1 && Math.abs(a.currentTime / a.duration - b.currentTime / b.duration) < 0.02;
    });
    await shot(page, 'compare-1280');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(400);
    await shot(page, 'compare-375');
    assert.deepEqual(errors, []);
    await close();
  });

  test('an unknown video shows an error state with a retry', async () => {
    const { page, close } = await newPage();
    await page.goto(`${base}/#/videos/nope`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /No video nope/);
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await close();
  });
});

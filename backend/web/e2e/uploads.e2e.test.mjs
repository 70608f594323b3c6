// Issue 18/7 and 18/8 in Chromium, against the BUILT app and the fixture API test double (e2e/fixtureApi.mjs):
// an upload keeps going while the rider opens another view, the header's indicator follows it on every view to
// Ready, and the library's row still shows it on return; an empty library's sample clip is one click to a real
// upload (the shipped file's bytes, over tus), and unknown pages lead back.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, PASSWORDS, pageFactory, shot } from './chromiumPage.mjs';
import { root, useSuite } from './servers.mjs';

let fixture;
let apiBase;
let base;
let newPage;
useSuite(launchChromium, (s) => {
  ({ fixture, apiBase, base } = s);
  newPage = pageFactory(s.browser, base);
});

const push = (jobId, job) => fetch(`${apiBase}/__fixture/jobs/${jobId}`, { method: 'POST', body: JSON.stringify(job) });
async function waitForListener(page, jobId) {
  for (let i = 0; i < 200 && fixture.listeners(jobId) === 0; i++) await page.waitForTimeout(25);
  assert.ok(fixture.listeners(jobId) > 0, `someone follows ${jobId} over SSE`);
}

describe('uploads across views (issue 18/7)', () => {
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    test(`an upload started in the library finishes while an analysis is open; the header shows it to Ready (${width}px)`, async () => {
      const { page, errors, close } = await newPage(width, height);
      await page.goto(base);
      await page.waitForSelector('[data-testid="video-card"]');
      const uploadsBefore = fixture.log.filter((l) => l === 'POST /api/uploads').length;
      // 12 MB at the double's 6 MB/s: about two seconds of bytes on the wire.
      await page.setInputFiles('input[type=file]', { name: `away-${width}.webm`, mimeType: 'video/webm', buffer: Buffer.alloc(12 * 1024 * 1024, 3) });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      const indicator = page.getByTestId('upload-indicator');
      await page.waitForFunction(() => /^Uploading 1 · \d+%/.test(document.querySelector('[data-testid="upload-indicator"]')?.textContent ?? ''));
      // Away to an analysis while the bytes are still moving.
      await page.goto(`${base}/#/videos/v-rider`);
      await page.getByTestId('analysis-view').waitFor();
      assert.match(await indicator.textContent(), /Uploading 1/, 'the indicator is on the analysis view too');
      assert.equal(await page.evaluate(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; }), true,
        'leaving the page mid-upload still warns on another view');
      // The bytes arrive while the analysis is open; then the job runs and ends, followed by the store.
      await page.waitForFunction(() => /Analysing 1/.test(document.querySelector('[data-testid="upload-indicator"]')?.textContent ?? ''), null, { timeout: 30000 });
      assert.equal(fixture.log.filter((l) => l === 'POST /api/uploads').length, uploadsBefore + 1, 'one upload, not restarted by the view change');
      const mine = await page.evaluate(async (name) => (await (await fetch('/api/videos?limit=100')).json()).items.find((v) => v.originalName === name), `away-${width}.webm`);
      assert.ok(mine, 'the upload is a video in the library');
      const videoId = mine.id;
      const jobId = mine.job.id;
      await waitForListener(page, jobId);
      await push(jobId, { state: 'running', progress: 0.5 });
      await page.waitForFunction(() => /Analysing 1/.test(document.querySelector('[data-testid="upload-indicator"]')?.textContent ?? ''));
      await push(jobId, { state: 'done', progress: 1 });
      await page.waitForFunction(() => document.querySelector('[data-testid="upload-indicator"]')?.textContent.includes('1 upload ready'));
      assert.equal(await indicator.getAttribute('data-active'), '0');
      await shot(page, `upload-indicator-${width}`);
      // Back to the library through the indicator: the row is at Ready and the new card is listed.
      await indicator.getByRole('link').click();
      const row = page.getByTestId('upload-item').first();
      await row.getByText('Ready', { exact: true }).waitFor();
      assert.equal(await row.getByRole('link', { name: 'Open the analysis' }).getAttribute('href'), `#/videos/${videoId}`);
      await page.waitForSelector(`[data-video-id="${videoId}"]`);
      // Dismissed once nothing is moving.
      await page.getByRole('button', { name: 'Dismiss the finished uploads' }).click();
      await indicator.waitFor({ state: 'detached' });
      assert.deepEqual(errors, []);
      await close();
    });
  }

  test('a file dropped on the analysis view is caught and taken to the upload form', async () => {
    const { page, errors, close } = await newPage(1280, 800);
    await page.goto(`${base}/#/videos/v-rider`);
    await page.getByTestId('analysis-view').waitFor();
    const prevented = await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(4096)], 'dropped-run.mp4', { type: 'video/mp4' }));
      const ev = new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt });
      document.querySelector('[data-testid="analysis-view"]').dispatchEvent(ev);
      return ev.defaultPrevented;
    });
    assert.equal(prevented, true, 'the browser did not open the file');
    await page.getByTestId('dropzone').getByText('dropped-run.mp4').waitFor();
    assert.equal(await page.getByTestId('dropzone').locator('xpath=..').getByLabel('Title', { exact: true }).inputValue(), 'dropped-run');
    assert.deepEqual(errors, []);
    await close();
  });
});

describe('first run (issue 18/8)', () => {
  test('an empty library offers the sample clip: one click uploads the shipped file as the rider\'s own video', async () => {
    const { page, context, errors, close } = await newPage(390, 844, { as: 'ben' });
    // Ben owns one video: deleted through the API, his library is empty.
    const signIn = await context.request.post(`${base}/api/session`, { data: { username: 'ben', password: PASSWORDS.ben } });
    const { csrfToken } = await signIn.json();
    assert.equal((await context.request.delete(`${base}/api/videos/v-ben`, { headers: { 'X-CSRF-Token': csrfToken } })).status(), 204);
    await page.goto(base);
    const intro = page.getByTestId('first-run');
    await intro.waitFor();
    await shot(page, 'first-run-sample-390');
    const before = fixture.log.length;
    await intro.getByRole('button', { name: 'Try the sample clip' }).click();
    const row = page.getByTestId('upload-item').first();
    await row.getByText('Sample clip').waitFor();
    await row.getByText('Uploaded · waiting for analysis').waitFor({ timeout: 20000 });
    const calls = fixture.log.slice(before);
    assert.ok(calls.includes('POST /api/uploads'), `the sample went up over tus: ${calls.join(', ')}`);
    // What the double received is the shipped clip, whole, as ben's rider video.
    const shipped = readFileSync(path.join(root, 'public/sample/sample-run.mp4'));
    const list = await (await context.request.get(`${base}/api/videos?limit=100`)).json();
    const video = list.items.find((v) => v.originalName === 'sample-run.mp4');
    assert.ok(video, `a video of ben's from the sample clip: ${list.items.map((v) => v.originalName).join(', ')}`);
    assert.equal(video.size, shipped.length);
    assert.equal(video.role, 'rider');
    assert.equal(video.owner?.username, 'ben');
    // It is his video now: the library lists it (the first-run text gives way to the card).
    await page.waitForSelector(`[data-video-id="${video.id}"]`);
    await intro.waitFor({ state: 'detached' });
    assert.deepEqual(errors, []);
    await close();
  });

  test('an unknown page leads back to the library', async () => {
    const { page, close } = await newPage(390, 844);
    await page.goto(`${base}/#/no/such/page`);
    await page.getByText('Page not found').waitFor();
    await page.getByRole('link', { name: 'Back to the library' }).click();
    await page.waitForSelector('[data-testid="video-card"]');
    await close();
  });
});

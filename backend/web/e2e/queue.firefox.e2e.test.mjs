// Issue 14 in Firefox (Debian's firefox-esr over WebDriver BiDi, puppeteer-core), against the BUILT app and the
// fixture API test double: the card's progress words and the skeleton of finished segments before done. Firefox
// has its own frame clock, so "analysed or not" is checked against the frame it shows.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { overlayAt, seekTo, TORSO, waitInPage } from './overlayCheck.mjs';
import { root, shots, launchFirefox, useSuite } from './servers.mjs';

const pose = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-rider.json'), 'utf8'));
let browser;
let base;
let apiBase;

useSuite(launchFirefox, (s) => {
  ({ base, apiBase, browser } = s);
});

const control = (p, body) => fetch(`${apiBase}${p}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());

/** A page signed in as ana (the fixture double's accounts), the session cookie set by the app's own origin. */
async function signedInPage() {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 720 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  const status = await page.evaluate(async () => (await fetch('/api/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ana', password: 'ana-pass-1' }),
  })).status);
  assert.equal(status, 200, 'signed in');
  return { page, errors };
}

const text = (sel) => document.querySelector(sel)?.textContent ?? '';

describe('Firefox: issue 14', () => {
  test('the card follows the stage and frames; the analysis view draws finished segments before done', async () => {
    const { jobId } = await control('/__fixture/videos', { id: 'v-ffx', title: 'Firefox partial', status: 'queued', job: { queuePosition: 3, etaS: 95 } });
    const { page, errors } = await signedInPage();
    await page.goto(base);
    const head = '[data-video-id="v-ffx"] [data-testid="job-progress-headline"]';
    await waitInPage(page, (s) => (document.querySelector(s)?.textContent ?? '') === '3rd in line · about 2 min', head);
    // Let the card's event stream open, then move the job on.
    await new Promise((r) => setTimeout(r, 500));
    await control(`/__fixture/jobs/${jobId}`, { state: 'running', stage: 'analysis', queuePosition: null, framesTotal: 72, segments: { total: 3, done: 0, running: 2 }, finished: [1], etaS: 20 });
    await waitInPage(page, (s) => (document.querySelector(s)?.textContent ?? '') === 'Analysing 3 of 3 parts', head);
    assert.equal(await page.evaluate(text, '[data-video-id="v-ffx"] [data-testid="job-progress-detail"]'), '24 of 72 frames · about 20 s left');

    await page.goto(`${base}/#/videos/v-ffx`);
    await waitInPage(page, () => document.querySelector('video')?.readyState >= 2 && Boolean(document.querySelector('[data-testid="skeleton-canvas"]')));
    // Part 2 (frames 24..47) finished first: drawn at 1.5 s, "analysing…" at 0.5 s and at 2.5 s.
    const at = async (t, frame) => {
      await page.evaluate(seekTo, { t });
      const person = pose.frames[frame].persons[0];
      const s = await page.evaluate(overlayAt, { points: TORSO.map((i) => person.keypoints[i]), box: person.bbox, W: pose.width, H: pose.height });
      const analysing = await page.evaluate(() => Boolean(document.querySelector('[data-testid="analysing-overlay"]')));
      return { frameIndex: s.frameIndex, analysing, alphas: s.points.map((p) => p.alpha) };
    };
    const mid = await at(1.5, 36);
    assert.equal(mid.frameIndex, 12, 'frame 36 is the 13th of the frames held (24..47)');
    assert.ok(mid.alphas.every((a) => a > 200), `part 2 drawn: ${mid.alphas}`);
    assert.equal(mid.analysing, false);
    for (const [t, f] of [[0.5, 12], [2.5, 60]]) {
      const s = await at(t, f);
      assert.equal(s.frameIndex, -1, `nothing drawn at ${t} s`);
      assert.ok(s.alphas.every((a) => a === 0));
      assert.equal(s.analysing, true, `"analysing…" at ${t} s`);
    }
    await page.screenshot({ path: path.join(shots, 'firefox-partial-analysis.png'), fullPage: true });
    await control(`/__fixture/jobs/${jobId}`, { state: 'done', progress: 1, finished: [0, 1, 2] });
    await waitInPage(page, () => document.querySelectorAll('[data-testid="chart"]').length > 0);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

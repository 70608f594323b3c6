// Browser test (issue 18), Debian's Chromium against the built app and the fixture API test double: a clip filmed
// from the waist up (e2e/fixtures/*-v-waist.json: legs guessed by the pose model, not seen) must never look
// measured: guessed joints faded or hidden in the overlay and the 3D view, "not measured — <reason>" tiles, and
// every tile and chart explained, with values on hover and time labels to the end of the clip.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, pageFactory, seekAndWait, shot, waitForPlayer } from './chromiumPage.mjs';
import { overlayAt } from './overlayCheck.mjs';
import { root, useSuite } from './servers.mjs';

let browser;
let base;
let newPage;

useSuite(launchChromium, (s) => {
  ({ base, browser } = s);
  newPage = pageFactory(browser, base);
});

const waist = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-waist.json'), 'utf8'));

describe('confidence (issue 18)', () => {
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    test(`waist-up clip at ${width}px: guessed legs faded or hidden, never solid; tiles say what was not measured`, async () => {
      const { page, errors, close } = await newPage(width, height);
      await page.goto(`${base}/#/videos/v-waist`);
      await waitForPlayer(page);
      await seekAndWait(page, 0.5);
      const canvas = page.getByTestId('skeleton-canvas');
      assert.equal(await canvas.getAttribute('data-frame-index'), '12');
      // Knees 0.3 (under the 0.5 threshold): faded; ankles 0.1: not drawn; the other 13 joints solid.
      assert.equal(await canvas.getAttribute('data-joints'), 'seen:13,unsure:2,hidden:2');
      const kp = waist.frames[12].persons[0].keypoints;
      const at = await page.evaluate(overlayAt, { points: [5, 6, 11, 12, 13, 14, 15, 16].map((i) => kp[i]), box: [0, 0, waist.width, waist.height], W: waist.width, H: waist.height });
      const alpha = at.points.map((p) => p.alpha);
      assert.ok(alpha.slice(0, 4).every((a) => a > 200), `shoulders and hips solid, got ${alpha}`);
      assert.ok(alpha.slice(4, 6).every((a) => a > 0 && a < 200), `knees drawn see-through (solid dots are opaque, 255), got ${alpha}`);
      assert.ok(alpha.slice(6).every((a) => a < 200), `ankles not drawn solid, got ${alpha}`);
      // The 3D view takes each joint's confidence from the same scores.
      const view3d = page.getByTestId('view3d');
      await view3d.waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="view3d"]')?.dataset.joints);
      assert.equal(await view3d.getAttribute('data-joints'), 'seen:13,unsure:2,hidden:2');
      // Tiles: the knee angle, airtime and stance are not measured, and say why; rotation is.
      assert.equal((await page.getByTestId('stat-min_knee_angle_deg').textContent()).includes('not measured — legs not visible'), true);
      assert.match(await page.getByTestId('stat-stance').textContent(), /not measured — feet not visible/);
      assert.match(await page.getByTestId('stat-airtime_s').textContent(), /not measured — feet not visible/);
      assert.doesNotMatch(await page.getByTestId('summary').textContent(), /Regular|deepest flex/);
      assert.match(await page.getByTestId('stat-max_rotation_deg').textContent(), /540°/);
      assert.equal(await page.getByTestId('rider-seen').textContent(), 'Rider seen in 70 of 72 analysed frames (shoulders and hips visible) · legs in 0 · feet in 0');
      // The knee and hip-height charts have nothing to show and say which part was missing; rotation is drawn.
      const charts = page.locator('figure.chart');
      assert.equal(await charts.nth(0).locator('.chart-empty').textContent(), 'No data: legs not visible.');
      assert.equal(await charts.nth(2).locator('.chart-empty').textContent(), 'No data: feet not visible.');
      assert.match(await charts.nth(3).getByTestId('chart-readout').textContent(), /^Playhead at 0\.50 s: total spin -?\d/);
      await shot(page, `confidence-waist-up-${width}`);
      assert.deepEqual(errors, []);
      await close();
    });
  }

  test('full-body clip: every tile and chart explained, values on hover, time labels to the end, legend for playhead and airborne', async () => {
    const { page, errors, close } = await newPage(1280, 900);
    await page.goto(`${base}/#/videos/v-rider`);
    await waitForPlayer(page);
    await seekAndWait(page, 1.25);
    assert.equal(await page.getByTestId('skeleton-canvas').getAttribute('data-joints'), 'seen:17,unsure:0,hidden:0');
    assert.equal(await page.locator('[data-unavailable]').count(), 0, 'nothing unavailable: metrics from before issue 18');
    assert.equal(await page.locator('.stat .stat-explain').count(), 4);
    const charts = page.locator('figure.chart');
    assert.equal(await charts.count(), 4);
    for (let i = 0; i < 4; i++) {
      const chart = charts.nth(i);
      assert.ok((await chart.locator('.chart-note').textContent()).length > 30, 'a one-line explanation');
      const legend = await chart.locator('.chart-legend').textContent();
      assert.match(legend, /playhead/);
      assert.match(legend, /airborne/);
      const axes = await chart.locator('text.axis-label').allTextContents();
      assert.equal(axes[0], 'time (s)');
      assert.ok(axes[1], 'the value axis is named');
      // The clip ends at 2.958 s: the last time label is at or past it.
      const times = (await chart.locator('text.tick').allTextContents()).filter((s) => /^[\d.]+s$/.test(s)).map(parseFloat);
      assert.ok(Math.max(...times) >= 2.958, `time labels ${times}`);
    }
    assert.match(await charts.nth(2).textContent(), /torso lengths/);
    // Values at the playhead, then under the pointer.
    const knee = charts.nth(0);
    assert.match(await knee.getByTestId('chart-readout').textContent(), /^Playhead at 1\.25 s: left \d+°/);
    await knee.scrollIntoViewIfNeeded();
    const box = await knee.locator('svg').boundingBox();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    assert.match(await knee.getByTestId('chart-readout').textContent(), /^At 1\.\d\d s: left \d+° · right \d+°$/);
    await page.mouse.move(0, 0);
    // Focus (keyboard) reads the values at the playhead through the slider's value text.
    await knee.locator('svg').focus();
    assert.match(await knee.locator('svg').getAttribute('aria-valuetext'), /^1\.25 s: left \d+°, right \d+°$/);
    await shot(page, 'confidence-full-body-1280');
    assert.deepEqual(errors, []);
    await close();
  });
});

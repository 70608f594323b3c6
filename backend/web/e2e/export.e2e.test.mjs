// Browser test (issue 18, item 9), Debian's Chromium against the built app and the fixture API test double
// (e2e/fixtureExports.mjs) at desktop and phone sizes: the Export menu's CSV and JSON downloads open and hold the
// analysed frames; "Still of this frame" saves a PNG of the frame's own size with the rider's skeleton and the
// frame's drawings on it; the MP4 export shows its progress, then downloads. The real MP4 rendering is tested with
// the real pose worker (backend/pose-service/tests/test_worker_export.py, backend/test/exports.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, pageFactory, seekAndWait, shot, waitForPlayer } from './chromiumPage.mjs';
import { root, useSuite } from './servers.mjs';

let browser;
let base;
let newPage;

useSuite(launchChromium, (s) => {
  ({ base, browser } = s);
  newPage = pageFactory(browser, base);
});

const fixture = (name) => JSON.parse(readFileSync(path.join(root, `e2e/fixtures/${name}.json`), 'utf8'));

/** RFC 4180 rows (the double writes no quoted line breaks). */
const csvRows = (text) => text.trim().split(/\r?\n/).map((line) => line.split(','));

async function download(page, click) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), click()]);
  const file = await d.path();
  return { name: d.suggestedFilename(), bytes: readFileSync(file) };
}

/** In the page: the PNG's pixels (RGBA) at the given points, and its size, decoded by the browser. */
function pngPixels({ b64, points }) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => {
      const c = document.createElement('canvas');
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      resolve({ width: c.width, height: c.height, at: points.map((p) => Array.from(ctx.getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data)) });
    };
    img.onerror = () => reject(new Error('the PNG does not decode'));
    img.src = `data:image/png;base64,${b64}`;
  });
}

const near = (rgb, want, tol) => rgb.slice(0, 3).every((v, i) => Math.abs(v - want[i]) <= tol);
const JOINT = [0xfd, 0xe0, 0x47];
const RED = [0xff, 0x00, 0x00];

describe('export (issue 18, item 9)', () => {
  // A clip each (the double keeps an export per video, as the API does): the full-body run, and the waist-up one.
  for (const [width, height, id] of [[1280, 800, 'v-rider'], [390, 844, 'v-waist']]) {
    test(`${id} at ${width}px: CSV and JSON hold the analysed frames; the still has the frame's size, skeleton and drawings; the MP4 shows progress, then downloads`, async () => {
      const { page, errors, close } = await newPage(width, height);
      const pose = fixture(`pose-${id}`);
      const metrics = fixture(`metrics-${id}`);
      // The frame's saved drawings (a red line), answered here: the double has no drawings route of its own.
      const frame = pose.frames[30];
      await page.route(`**/api/videos/${id}/drawings`, (route) => route.fulfill({ json: {
        drawings: [{ id: 'd1', kind: 'line', t: frame.t, points: [{ x: 20, y: 20 }, { x: 200, y: 20 }], color: '#ff0000' }], updatedAt: null,
      } }));
      await page.goto(`${base}/#/videos/${id}`);
      await waitForPlayer(page);
      const menu = page.getByTestId('export-menu');
      await menu.locator('summary').click();
      await shot(page, `export-menu-${id}-${width}`);
      const inView = await page.getByTestId('export-mp4').evaluate((el) => {
        const r = el.getBoundingClientRect();
        return r.left >= 0 && r.right <= window.innerWidth;
      });
      assert.ok(inView, 'the menu fits the viewport');

      // Per-frame CSV: one row per analysed frame, its frame number and time, units in the header.
      const csv = await download(page, () => page.getByTestId('export-csv').click());
      assert.match(csv.name, /-metrics\.csv$/);
      const [header, ...rows] = csvRows(csv.bytes.toString('utf8'));
      assert.deepEqual(header.slice(0, 3), ['frame', 't (s)', 'left_knee_angle (deg)']);
      assert.ok(header.includes('hip_height (torso lengths)'));
      assert.equal(rows.length, 72);
      rows.forEach((r, i) => {
        assert.equal(Number(r[0]), pose.frames[i].index);
        assert.equal(Number(r[1]), metrics.series.t[i]);
      });
      const summary = await download(page, () => page.getByTestId('export-summary-csv').click());
      assert.match(summary.bytes.toString('utf8'), /^metric,value,unit,unavailable reason,meaning\r\n/);
      // JSON: the same frames, every series, the summary and the units.
      const json = await download(page, () => page.getByTestId('export-json').click());
      const doc = JSON.parse(json.bytes.toString('utf8'));
      assert.deepEqual(doc.frames, pose.frames.map((f) => f.index));
      assert.deepEqual(doc.series.t, metrics.series.t);
      assert.deepEqual(doc.summary, metrics.summary);
      assert.equal(doc.units.left_knee_angle, 'deg');

      // Still of frame 30: the picture at the clip's own size, the rider's seen joints painted, the red line drawn.
      await seekAndWait(page, frame.t + 0.005);
      const still = await download(page, () => page.getByTestId('export-still').click());
      assert.match(still.name, /-frame-30\.png$/);
      assert.equal(still.bytes.subarray(1, 4).toString('latin1'), 'PNG');
      assert.deepEqual([still.bytes.readUInt32BE(16), still.bytes.readUInt32BE(20)], [pose.width, pose.height]);
      const rider = frame.persons.find((p) => p.track_id === pose.riderTrackId) ?? frame.persons[0];
      const seen = rider.keypoints.filter((k) => k.score >= 0.5 && k.x > 2 && k.y > 2 && k.x < pose.width - 2 && k.y < pose.height - 2);
      assert.ok(seen.length >= 10);
      const px = await page.evaluate(pngPixels, { b64: still.bytes.toString('base64'), points: [...seen, { x: 110, y: 20 }] });
      assert.deepEqual([px.width, px.height], [pose.width, pose.height]);
      const painted = px.at.slice(0, -1).filter((rgb) => near(rgb, JOINT, 40)).length;
      assert.ok(painted >= seen.length - 1, `seen joints painted in the joint colour: ${painted} of ${seen.length}`);
      assert.ok(near(px.at.at(-1), RED, 60), `the drawing's line is on the still: ${px.at.at(-1)}`);
      assert.match(await page.getByTestId('export-still-status').textContent(), /Saved frame 30 with 1 drawing/);

      // MP4: progress while a worker renders it, then a download link.
      await page.getByTestId('export-mp4').click();
      const progress = page.getByTestId('export-mp4-progress');
      await progress.waitFor();
      await page.waitForFunction(() => /Rendering (2[4-9]|[3-9]\d) of 72 frames/.test(document.querySelector('[data-testid="export-mp4-progress"]')?.textContent ?? ''), null, { timeout: 15000 });
      const value = await progress.locator('progress').getAttribute('value');
      assert.ok(Number(value) > 0 && Number(value) < 100, `progress shown part-way: ${value}`);
      await shot(page, `export-mp4-progress-${id}-${width}`);
      const link = page.getByTestId('export-mp4-download');
      await link.waitFor({ timeout: 15000 });
      const mp4 = await download(page, () => link.click());
      assert.match(mp4.name, /-skeleton\.mp4$/);
      assert.equal(mp4.bytes.subarray(4, 8).toString('latin1'), 'ftyp');
      assert.deepEqual(errors, []);
      await close();
    });
  }
});

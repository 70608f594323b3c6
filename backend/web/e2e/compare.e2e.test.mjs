// Browser test (issue 18, item 4): the comparison a coach uses, in Debian's Chromium against the built app and the
// fixture API test double, at desktop (1440×900) and phone (390×844) sizes. The rider's run (v-rider) is compared
// with the reference clip trimmed by 0.5 s (v-ref-early, fixtureApi.mjs: its take-off comes 12 frames earlier), so
// syncing on take-off is not the same as starting together. Expected frames and numbers are worked out here from
// the fixture files, not read back from the app.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { launchChromium, pageFactory, shot, waitForPlayer } from './chromiumPage.mjs';
import { TRIM_FRAMES, trimmedReference } from './fixtureApi.mjs';
import { root, useSuite } from './servers.mjs';

let browser;
let base;
let apiBase;
let newPage;

useSuite(launchChromium, (s) => {
  ({ base, browser, apiBase } = s);
  trimmedReference(); // cut the trimmed reference clip now, not during the first page's load
  newPage = pageFactory(browser, base);
});

const fixture = (name) => JSON.parse(readFileSync(path.join(root, 'e2e/fixtures', name), 'utf8'));
const riderPose = fixture('pose-v-rider.json');
const riderMetrics = fixture('metrics-v-rider.json');
const refMetrics = fixture('metrics-v-ref.json');
const TRIM_S = TRIM_FRAMES / 24;

/** The frame that shows an event: the first pose frame at or after its time. */
const firstFrameAtOrAfter = (frames, t) => frames.findIndex((f) => f.t >= t - 0.002);
const RIDER = {
  takeoff: firstFrameAtOrAfter(riderPose.frames, riderMetrics.summary.airborne_segments[0].start_s),
  landing: firstFrameAtOrAfter(riderPose.frames, riderMetrics.summary.airborne_segments[0].end_s),
};
// The trimmed reference: the reference's frames from TRIM_FRAMES on, renumbered from 0.
const refFrames = fixture('pose-v-ref.json').frames.slice(TRIM_FRAMES).map((f, i) => ({ ...f, index: i, t: f.t - TRIM_S }));
const REF = {
  takeoff: firstFrameAtOrAfter(refFrames, refMetrics.summary.airborne_segments[0].start_s - TRIM_S),
  landing: firstFrameAtOrAfter(refFrames, refMetrics.summary.airborne_segments[0].end_s - TRIM_S),
};

const frameOf = (page, nth) => page.evaluate((i) => Number(document.querySelectorAll('[data-testid="skeleton-canvas"]')[i].dataset.frameIndex), nth);
const times = (page) => page.evaluate(() => [...document.querySelectorAll('video')].map((v) => v.currentTime));
/** Wait until the rider's and the reference's overlays show these frames (and both videos stopped seeking). */
async function waitForFrames(page, rider, ref) {
  await page.waitForFunction(([a, b]) => {
    const c = document.querySelectorAll('[data-testid="skeleton-canvas"]');
    const v = document.querySelectorAll('video');
    return Number(c[0]?.dataset.frameIndex) === a && Number(c[1]?.dataset.frameIndex) === b && ![...v].some((x) => x.seeking);
  }, [rider, ref], { timeout: 10000 }).catch(async (e) => {
    throw new Error(`expected frames ${rider}/${ref}, overlays show ${await frameOf(page, 0)}/${await frameOf(page, 1)}: ${e.message}`);
  });
}

async function openCompare(page, reference = 'v-ref-early', rider = 'v-rider') {
  await page.goto(`${base}/#/compare?rider=${rider}&reference=${reference}`);
  await waitForPlayer(page, 0);
  await waitForPlayer(page, 1);
}

describe('compare (issue 18, item 4)', () => {
  test('the trimmed reference really starts 12 frames in (fixture sanity)', () => {
    assert.equal(RIDER.takeoff, 24);
    assert.equal(REF.takeoff, RIDER.takeoff - TRIM_FRAMES);
    assert.equal(REF.landing, RIDER.landing - TRIM_FRAMES);
  });

  for (const [width, height, name] of [[1440, 900, 'desktop'], [390, 844, 'phone']]) {
    test(`${name} ${width}×${height}: sync on take-off and landing, offset nudging, playback stays in step`, async () => {
      const { page, errors, close } = await newPage(width, height);
      await openCompare(page);
      const takeoff = page.getByRole('radio', { name: 'Take-off' });
      assert.equal(await takeoff.isChecked(), true, 'both runs have a jump: take-off is the default');
      // Choosing take-off shows both take-off frames: the rider's frame 24, the reference's frame 12.
      await takeoff.click();
      await waitForFrames(page, RIDER.takeoff, REF.takeoff);
      let [rt, ft] = await times(page);
      assert.ok(rt >= riderPose.frames[RIDER.takeoff].t && rt < riderPose.frames[RIDER.takeoff + 1].t, `rider at ${rt}`);
      assert.ok(ft >= refFrames[REF.takeoff].t && ft < refFrames[REF.takeoff + 1].t, `reference at ${ft}`);
      assert.match(await page.getByTestId('sync-status').textContent(), new RegExp(`Synced on take-off: you 1\\.00 s \\(frame ${RIDER.takeoff}\\) ↔ reference 0\\.50 s \\(frame ${REF.takeoff}\\) · no offset`));
      // Every chart of the analysis view, for both runs, their playheads at each run's own take-off.
      const charts = await page.$$eval('[data-testid="chart"]', (els) => els.map((e) => ({ now: Number(e.getAttribute('aria-valuenow')) })));
      assert.equal(charts.length, 8, 'four charts for each run');
      const rows = await page.$$eval('.compare-chart-row', (els) => els.map((e) => e.textContent));
      for (const [i, title] of ['Knee angles', 'Upper-body rotation', 'Hip height', 'Cumulative rotation'].entries()) {
        assert.match(rows[i], new RegExp(`${title} · you.*${title} · reference`, 's'));
      }
      for (let i = 0; i < 8; i += 2) {
        assert.ok(Math.abs(charts[i].now - 1.01) < 0.02, `rider chart playhead ${charts[i].now}`);
        assert.ok(Math.abs(charts[i + 1].now - 0.51) < 0.02, `reference chart playhead ${charts[i + 1].now}`);
      }
      const [mine, theirs] = await page.$eval('.compare-chart-row', (row) => [...row.children].map((e) => e.getBoundingClientRect().toJSON()));
      if (width < 760) assert.ok(theirs.y >= mine.y + mine.height - 1, 'phone: the reference chart under the rider\'s');
      else assert.ok(Math.abs(theirs.y - mine.y) < 2 && theirs.x >= mine.x + mine.width, 'desktop: rider left, reference right');
      assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth <= window.innerWidth), 'no sideways scrolling');
      await shot(page, `compare-takeoff-${width}`);

      // Fine offset: two frames later, then 10 ms back; the rider does not move.
      await page.getByRole('button', { name: 'Reference one frame later' }).click();
      await page.getByRole('button', { name: 'Reference one frame later' }).click();
      await waitForFrames(page, RIDER.takeoff, REF.takeoff + 2);
      assert.equal(await page.getByTestId('offset').textContent(), '+2 frames = +83 ms');
      await page.getByRole('button', { name: 'Reference 10 ms earlier' }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid="offset"]').dataset.offsetMs === '73');
      // Paused, the reference shows the frame on screen 73 ms after its take-off frame began: its frame 13.
      const at73 = refFrames.findLastIndex((f) => f.t <= refFrames[REF.takeoff].t + 0.0733);
      assert.equal(at73, REF.takeoff + 1);
      await waitForFrames(page, RIDER.takeoff, at73);
      [, ft] = await times(page);
      assert.ok(ft > refFrames[at73].t && ft < refFrames[at73 + 1].t, `reference at ${ft}, inside frame ${at73}`);
      await page.getByRole('button', { name: 'Reference one frame earlier' }).click();
      await page.getByRole('button', { name: 'Reference one frame earlier' }).click();
      await page.getByRole('button', { name: 'Reference 10 ms later' }).click();
      await waitForFrames(page, RIDER.takeoff, REF.takeoff);
      assert.equal(await page.getByTestId('offset').textContent(), 'no offset');

      // Landing: both landing frames.
      await page.getByRole('radio', { name: 'Landing' }).click();
      await waitForFrames(page, RIDER.landing, REF.landing);
      assert.match(await page.getByTestId('sync-status').textContent(), new RegExp(`Synced on landing: .*frame ${RIDER.landing}.*frame ${REF.landing}`));

      // Playback from before the take-off keeps the reference 0.5 s behind the rider's clock.
      await page.getByRole('radio', { name: 'Take-off' }).click();
      await waitForFrames(page, RIDER.takeoff, REF.takeoff);
      await page.getByRole('button', { name: 'Play', exact: true }).first().click();
      await page.waitForFunction(() => document.querySelector('video').currentTime > 1.6, null, { timeout: 10000 });
      const drift = await page.evaluate(() => { const [a, b] = document.querySelectorAll('video'); return b.currentTime - (a.currentTime - 0.5); });
      assert.ok(Math.abs(drift) < 0.15, `while playing the reference stays within 0.15 s, drift ${drift}`);
      await page.getByRole('button', { name: 'Pause', exact: true }).first().click();
      // Paused, the reference shows exactly the rider's frame less the trim.
      await page.waitForFunction((trim) => {
        const [a, b] = document.querySelectorAll('video');
        const [ca, cb] = document.querySelectorAll('[data-testid="skeleton-canvas"]');
        return a.paused && b.paused && !b.seeking && Number(cb.dataset.frameIndex) === Number(ca.dataset.frameIndex) - trim;
      }, TRIM_FRAMES, { timeout: 5000 }).catch(async (e) => {
        const state = await page.evaluate(() => [...document.querySelectorAll('video')].map((v, i) => ({ paused: v.paused, t: v.currentTime, frame: document.querySelectorAll('[data-testid="skeleton-canvas"]')[i].dataset.frameIndex })));
        throw new Error(`after pause: ${JSON.stringify(state)}: ${e.message}`);
      });
      assert.deepEqual(errors, []);
      await close();
    });

    test(`${name} ${width}×${height}: ghost mode draws the reference skeleton over the rider, synced and aligned`, async () => {
      const { page, errors, close } = await newPage(width, height);
      await openCompare(page);
      await page.getByRole('radio', { name: 'Take-off' }).click();
      await waitForFrames(page, RIDER.takeoff, REF.takeoff);
      await page.getByRole('radio', { name: 'Ghost overlay' }).click();
      const ghost = page.getByTestId('ghost-canvas');
      await page.waitForFunction(() => document.querySelector('[data-testid="ghost-canvas"]').dataset.ghost === 'aligned');
      assert.equal(await ghost.getAttribute('data-ref-frame-index'), String(REF.takeoff), 'the ghost is the reference at its take-off');
      assert.equal(await ghost.getAttribute('data-joints'), 'seen:17,unsure:0');
      assert.equal(await page.locator('video').nth(1).isVisible(), false, 'one picture: the reference video is hidden');
      // The ghost covers the rider's picture exactly and is drawn in its own see-through colour.
      const probe = (args) => {
        const [v] = document.querySelectorAll('video');
        const c = document.querySelector('[data-testid="ghost-canvas"]');
        const vr = v.getBoundingClientRect();
        const cr = c.getBoundingClientRect();
        const ctx = c.getContext('2d');
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let violet = 0;
        let other = 0;
        let alphaMax = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] === 0) continue;
          alphaMax = Math.max(alphaMax, d[i + 3]);
          // Ghost pixels are #c4b5fd (getImageData un-premultiplies the anti-aliased edges).
          if (Math.abs(d[i] - 196) < 12 && Math.abs(d[i + 1] - 181) < 12 && Math.abs(d[i + 2] - 253) < 12) violet++;
          else other++;
        }
        const scale = Math.min(vr.width / args.W, vr.height / args.H);
        const ox = (vr.width - args.W * scale) / 2;
        const oy = (vr.height - args.H * scale) / 2;
        const at = (x, y) => [...ctx.getImageData(Math.round((ox + x * scale) * devicePixelRatio), Math.round((oy + y * scale) * devicePixelRatio), 1, 1).data];
        return { opacity: getComputedStyle(c).opacity, box: [cr.x - vr.x, cr.y - vr.y, cr.width - vr.width, cr.height - vr.height], violet, other, alphaMax, at: args.points.map(([x, y]) => at(x, y)) };
      };
      // Aligned: the reference's hip centre sits on the rider's hip centre.
      const kp = riderPose.frames[RIDER.takeoff].persons[0].keypoints;
      const hip = [(kp[11].x + kp[12].x) / 2, (kp[11].y + kp[12].y) / 2];
      let p = await page.evaluate(probe, { W: riderPose.width, H: riderPose.height, points: [hip] });
      assert.ok(p.box.every((d) => Math.abs(d) < 1), `ghost canvas on the video box, off by ${p.box}`);
      assert.ok(p.violet > 200 && p.other < p.violet / 2, `violet ghost pixels ${p.violet}, others ${p.other}`);
      assert.equal(p.alphaMax, 255, 'seen joints drawn solid in the ghost\'s own canvas');
      assert.equal(p.opacity, '0.6', 'the ghost canvas is see-through as a whole');
      assert.ok(p.at[0][3] > 100 && p.at[0][2] > 200, `ghost hip line at the rider's hip centre, pixel ${p.at[0]}`);
      // As filmed: the reference's own hip centre, where its camera saw it.
      await page.getByLabel('Hips on your hips, scaled to your size').uncheck();
      await page.waitForFunction(() => document.querySelector('[data-testid="ghost-canvas"]').dataset.ghost === 'as-filmed');
      const rkp = refFrames[REF.takeoff].persons[0].keypoints;
      p = await page.evaluate(probe, { W: riderPose.width, H: riderPose.height, points: [[(rkp[11].x + rkp[12].x) / 2, (rkp[11].y + rkp[12].y) / 2]] });
      assert.ok(p.at[0][3] > 100 && p.at[0][2] > 200, `ghost hip line at the reference's own hip centre, pixel ${p.at[0]}`);
      await shot(page, `compare-ghost-${width}`);
      // Before the reference starts (rider at 0.2 s ↔ reference −0.3 s) there is no ghost, and the legend says why.
      await page.evaluate(() => { const v = document.querySelector('video'); v.currentTime = 0.2; });
      await page.waitForFunction(() => document.querySelector('[data-testid="ghost-canvas"]').dataset.ghost === 'before');
      assert.match(await page.locator('.ghost-legend').textContent(), /not started yet/);
      assert.equal((await page.evaluate(probe, { W: 1, H: 1, points: [] })).violet, 0);
      // Back to side by side: the ghost is gone, both pictures show.
      await page.getByRole('radio', { name: 'Side by side' }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid="ghost-canvas"]').dataset.ghost === 'off');
      assert.equal(await page.locator('video').nth(1).isVisible(), true);
      assert.deepEqual(errors, []);
      await close();
    });
  }

  test('a point the coach sets: line the frames up with the offset, then keep them together', async () => {
    const { page, errors, close } = await newPage(1440, 900);
    await openCompare(page);
    await page.getByRole('radio', { name: 'Start' }).click();
    // Both clips from their starts: the rider's frame 30 goes with the reference's frame 30.
    await page.evaluate(() => { const v = document.querySelector('video'); v.currentTime = 30 / 24 + 1 / 96; });
    await waitForFrames(page, 30, 30);
    for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Reference one frame earlier' }).click();
    await waitForFrames(page, 30, 25);
    await page.getByRole('radio', { name: 'My point' }).click();
    assert.equal(await page.getByTestId('sync-status').textContent(), `Synced on your point: you ${riderPose.frames[30].t.toFixed(2)} s ↔ reference ${refFrames[25].t.toFixed(2)} s · no offset`);
    assert.equal(await page.getByTestId('offset').textContent(), 'no offset');
    await waitForFrames(page, 30, 25);
    // Ten frames on, the reference is ten frames on too.
    await page.evaluate(() => { const v = document.querySelector('video'); v.currentTime = 40 / 24 + 1 / 96; });
    await waitForFrames(page, 40, 35);
    assert.deepEqual(errors, []);
    await close();
  });

  test('the differences panel says, in words and numbers, what the fixture metrics give', async () => {
    const { page, errors, close } = await newPage(1440, 900);
    await openCompare(page);
    const items = Object.fromEntries(await page.$$eval('[data-testid="differences"] li', (els) => els.map((e) => [e.dataset.key, { text: e.querySelector('.diff-text').textContent, diff: e.dataset.diff }])));
    // Worked out from the fixture files: knee flex = 180° − mean knee angle (smoothed) at each run's take-off sample.
    const nearest = (ts, t) => ts.reduce((b, x, i) => (Math.abs(x - t) < Math.abs(ts[b] - t) ? i : b), 0);
    const flexAt = (m, t) => {
      const i = nearest(m.series.t, t);
      return 180 - (m.series.smoothed.left_knee_angle[i] + m.series.smoothed.right_knee_angle[i]) / 2;
    };
    const takeoffFlex = flexAt(riderMetrics, 1.0) - flexAt(refMetrics, 1.0); // the trimmed reference's 0.5 s is the reference's 1.0 s
    assert.equal(Number(items.knee_flex_takeoff.diff), +takeoffFlex.toFixed(2));
    const words = Math.abs(takeoffFlex) < 2 ? /^the same knee flex at take-off/ : new RegExp(`^you flex ${Math.round(Math.abs(takeoffFlex))}° ${takeoffFlex > 0 ? 'more' : 'less'} at take-off`);
    assert.match(items.knee_flex_takeoff.text, words);
    assert.equal(items.rotation.text, 'rotation 180° less than the reference (540° vs 720°)');
    assert.equal(Number(items.rotation.diff), -180);
    assert.equal(items.deepest_flex.text, 'your deepest flex is 7° less than the reference\'s (70° vs 77°)');
    assert.equal(Number(items.deepest_flex.diff), -6.7);
    assert.equal(items.airtime.text, 'the same air time (0.80 s vs 0.80 s)');
    assert.equal(items.stance.text, 'you ride regular, the reference goofy');
    assert.deepEqual(Object.keys(items), ['knee_flex_takeoff', 'knee_flex_landing', 'deepest_flex', 'rotation', 'windup_takeoff', 'tilt_landing', 'airtime', 'stance']);
    assert.deepEqual(errors, []);
    await close();
  });

  test('a run whose legs and feet were not seen: no take-off to sync on, differences say what is unavailable', async () => {
    const { page, errors, close } = await newPage(390, 844);
    await openCompare(page, 'v-ref', 'v-waist');
    assert.equal(await page.getByRole('radio', { name: 'Start' }).isChecked(), true, 'no jump in the waist-up clip: synced on the starts');
    await page.getByRole('radio', { name: 'Take-off' }).click();
    assert.match(await page.getByRole('status').filter({ hasText: 'Cannot sync' }).textContent(), /Cannot sync on take-off: your run: no take-off: feet not visible\. The runs stay lined up on their starts\./);
    const items = Object.fromEntries(await page.$$eval('[data-testid="differences"] li', (els) => els.map((e) => [e.dataset.key, { text: e.querySelector('.diff-text').textContent, diff: e.dataset.diff }])));
    assert.deepEqual(items.knee_flex_takeoff, { text: 'not available: legs not visible in your run', diff: '' });
    assert.deepEqual(items.deepest_flex, { text: 'not available: legs not visible in your run', diff: '' });
    assert.deepEqual(items.airtime, { text: 'not available: feet not visible in your run', diff: '' });
    assert.deepEqual(items.stance, { text: 'not available: feet not visible in your run', diff: '' });
    assert.deepEqual(items.windup_takeoff, { text: 'not available: no take-off: feet not visible in your run', diff: '' });
    assert.equal(items.rotation.text, 'rotation 180° less than the reference (540° vs 720°)');
    await shot(page, 'compare-unavailable-390');
    assert.deepEqual(errors, []);
    await close();
  });

  for (const [width, height] of [[1440, 900], [390, 844]]) {
    test(`${width}×${height}: picking the reference is one step from the analysis page`, async () => {
      const { page, errors, close } = await newPage(width, height);
      // One analysed reference: a single link, straight to the comparison.
      await page.goto(`${base}/#/videos/v-rider`);
      const link = page.getByTestId('compare-link');
      await link.waitFor();
      assert.equal(await link.textContent(), 'Compare with “Coach: clean 720”');
      await link.click();
      await page.waitForFunction(() => window.location.hash === '#/compare?rider=v-rider&reference=v-ref');
      await waitForPlayer(page, 1);
      // The library's Compare (no reference yet) goes straight to the only one, never through a picking page.
      await page.goto(`${base}/#/compare?rider=v-rider`);
      await page.waitForFunction(() => window.location.hash === '#/compare?rider=v-rider&reference=v-ref');
      await waitForPlayer(page, 1);
      assert.equal(await page.getByText('Choose a reference').count(), 0);
      assert.deepEqual(errors, []);
      await close();
    });
  }

  test('several references: a menu on the analysis page opens the chosen one', async () => {
    const r = await fetch(`${apiBase}/__fixture/list`, { method: 'POST', body: JSON.stringify({ id: 'v-ref-early' }) });
    assert.equal(r.status, 200);
    const { page, errors, close } = await newPage(390, 844);
    await page.goto(`${base}/#/videos/v-rider`);
    const menu = page.getByLabel('Compare with');
    await menu.waitFor();
    assert.deepEqual(await menu.locator('option').allTextContents(), ['choose a reference…', 'Coach: clean 720', 'Coach: clean 720, from the approach']);
    await menu.selectOption('v-ref-early');
    await page.waitForFunction(() => window.location.hash === '#/compare?rider=v-rider&reference=v-ref-early');
    await waitForPlayer(page, 1);
    // Without a reference in the address, the comparison now asks which one.
    await page.goto(`${base}/#/compare?rider=v-rider`);
    await page.getByRole('heading', { name: 'Choose a reference' }).waitFor();
    assert.equal(await page.locator('.pick-list a').count(), 2);
    assert.deepEqual(errors, []);
    await close();
  });
});

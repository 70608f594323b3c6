// Browser tests in Firefox: Debian's firefox-esr driven over WebDriver BiDi by puppeteer-core, against the BUILT
// app (server/serve.mjs) whose /api proxy points at the fixture API test double (e2e/fixtureApi.mjs). The same
// playback and overlay checks as the Chromium suite: Firefox has its own decoders and its own frame clock.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { checkOverlayAtThreeTimes, waitInPage } from './overlayCheck.mjs';
import { root, shots, startServers } from './servers.mjs';

export const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

let servers;
let fixture;
let browser;
let base;

before(async () => {
  servers = await startServers();
  ({ fixture, base } = servers);
  browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    // No first-run pages, updates, telemetry or network probes: the machine has no internet.
    extraPrefsFirefox: {
      'media.autoplay.default': 0,
      'app.update.enabled': false,
      'browser.shell.checkDefaultBrowser': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
    },
  });
});

after(async () => {
  await browser?.close();
  await servers?.stop();
});

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
});

// Plays each rendition URL given on the command line in Chromium (playwright-core) and Firefox ESR (puppeteer-core
// over WebDriver BiDi), the browsers the web app's e2e suites drive, and prints one JSON line per browser and URL:
// {"browser", "url", "width", "height", "duration", "error", "seeked"}. The pose-service tests judge the results.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const require = createRequire(path.join(webDir, 'package.json'));
const { chromium } = require('playwright-core');
const puppeteer = require('puppeteer-core');

/** Runs in the page: load the video, read its intrinsic size, seek to the middle, report any MediaError. */
const playInPage = async (src) => {
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  document.body.append(video);
  const settle = (events) => new Promise((resolve) => {
    for (const name of events) video.addEventListener(name, () => resolve(name), { once: true });
    setTimeout(() => resolve('timeout'), 20000);
  });
  const loaded = settle(['loadeddata', 'error']);
  video.src = src;
  const first = await loaded;
  const result = { width: video.videoWidth, height: video.videoHeight, duration: video.duration, error: video.error?.code ?? (first === 'timeout' ? 'timeout' : null), seeked: false };
  if (result.error === null) {
    const seeked = settle(['seeked', 'error']);
    video.currentTime = video.duration / 2;
    result.seeked = (await seeked) === 'seeked' && video.error === null;
  }
  video.remove();
  return result;
};

const urls = process.argv.slice(2);
const results = [];
const chrome = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await chrome.newPage();
  await page.goto(new URL('/', urls[0]).href);
  for (const url of urls) results.push({ browser: 'chromium', url, ...(await page.evaluate(playInPage, url)) });
} finally {
  await chrome.close();
}
const firefox = await puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
  headless: true,
  extraPrefsFirefox: { 'app.update.enabled': false, 'datareporting.policy.dataSubmissionEnabled': false, 'network.captive-portal-service.enabled': false },
});
try {
  const page = await firefox.newPage();
  await page.goto(new URL('/', urls[0]).href);
  for (const url of urls) results.push({ browser: 'firefox', url, ...(await page.evaluate(playInPage, url)) });
} finally {
  await firefox.close();
}
for (const result of results) console.log(JSON.stringify(result));

// Whole-stack browser check: Debian's Chromium (playwright-core) uploads a real video through the running
// frontend, waits for the real pose analysis, opens the analysis view and checks a skeleton is drawn.
// Env: FRONTEND_URL, VIDEO (path), SHOTS_DIR. Exit code 0 = pass.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../backend/web/package.json'));
const { chromium } = require('playwright-core');

const base = process.env.FRONTEND_URL;
const video = process.env.VIDEO;
const shots = process.env.SHOTS_DIR || path.join(here, '../../test-results');
mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(base);
  await page.setInputFiles('input[type=file]', video);
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByText('Uploaded · analysis queued').waitFor({ timeout: 30000 });
  // The library's status chip follows the real job (SSE) until the analysis is done.
  const card = page.locator('[data-testid="video-card"]').first();
  await card.getByRole('link', { name: 'Analyse' }).waitFor({ timeout: 180000 });
  await page.screenshot({ path: path.join(shots, 'stack-library.png') });
  await card.getByRole('link', { name: 'Analyse' }).click();
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    return v && v.readyState >= 2 && c && Number(c.dataset.frameIndex) >= 0;
  }, null, { timeout: 30000 });
  const painted = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
    return n;
  });
  // three.js is a lazy chunk: let the 3D view finish loading before the screenshot.
  await page.getByText('Loading 3D view').waitFor({ state: 'detached', timeout: 30000 });
  await page.screenshot({ path: path.join(shots, 'stack-analysis.png'), fullPage: true });
  if (painted < 200) throw new Error(`the skeleton canvas has only ${painted} painted pixels`);
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  console.log(`skeleton drawn: ${painted} painted pixels; screenshots in ${shots}`);
} finally {
  await browser.close();
}

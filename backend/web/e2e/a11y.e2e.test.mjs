// Issue 18/11: an accessibility check of every page with axe-core (pinned in package.json), in Chromium against the
// BUILT app and the fixture API test double, at a desktop (1280×800) and a phone (390×844) size. A page fails on
// any violation axe rates serious or critical; moderate and minor ones are printed, not failed.
// axe runs through page.evaluate (DevTools), so it needs no script tag and the app's Content-Security-Policy stays
// as strict as it ships.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { launchChromium, PASSWORDS, pageFactory, waitForPlayer } from './chromiumPage.mjs';
import { useSuite } from './servers.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SIZES = [[1280, 800], [390, 844]];

let base;
let apiBase;
let newPage;
useSuite(launchChromium, (s) => {
  ({ base, apiBase } = s);
  newPage = pageFactory(s.browser, base);
});

/** axe's serious and critical violations on the page as it is now, each as one readable line. */
async function audit(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const lines = (impacts) => result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}${v.nodes.length > 4 ? ` (+${v.nodes.length - 4})` : ''}`);
  return { bad: lines(['serious', 'critical']), minor: lines(['moderate', 'minor']) };
}

/** Signs `as` in again in this context (a fresh session) and returns its CSRF token, for API calls the test makes. */
async function csrfOf(context, as) {
  const r = await context.request.post(`${base}/api/session`, { data: { username: as, password: PASSWORDS[as] } });
  return (await r.json()).csrfToken;
}

/** Every page of the app: how to reach it and what shows it is ready. */
const PAGES = [
  { name: 'library', open: async (page) => { await page.goto(base); await page.waitForSelector('[data-testid="video-card"] img[data-testid="poster"]'); } },
  {
    name: 'empty library',
    as: 'ben',
    open: async (page, context) => {
      // Ben's one video goes (a fresh suite per run: it is there the first time).
      await context.request.delete(`${base}/api/videos/v-ben`, { headers: { 'X-CSRF-Token': await csrfOf(context, 'ben') } });
      await page.goto(base);
      await page.getByTestId('first-run').waitFor();
    },
  },
  {
    name: 'upload (a row uploading, one refused)',
    open: async (page) => {
      await page.goto(base);
      await page.waitForSelector('[data-testid="video-card"]');
      await page.setInputFiles('input[type=file]', { name: 'clip.avi', mimeType: 'video/webm', buffer: Buffer.alloc(2048, 1) });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.locator('[data-testid="upload-item"].is-error').waitFor();
      await page.setInputFiles('input[type=file]', { name: 'a11y-run.webm', mimeType: 'video/webm', buffer: Buffer.alloc(8 * 1024 * 1024, 2) });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.getByTestId('upload-indicator').waitFor();
    },
  },
  { name: 'analysis', open: async (page) => { await page.goto(`${base}/#/videos/v-rider`); await waitForPlayer(page); await page.waitForSelector('.view3d-panel canvas'); } },
  {
    // The keyboard path of the drawing tools: a tool chosen with Enter, the layer focused with its cross, one point placed.
    name: 'analysis (drawing from the keyboard)',
    open: async (page) => {
      await page.goto(`${base}/#/videos/v-rider`);
      await waitForPlayer(page);
      await page.getByTestId('drawings-status').filter({ hasText: 'Saved' }).waitFor();
      await page.getByRole('button', { name: 'Angle', exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'application');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
      await page.getByTestId('drawing-said').filter({ hasText: 'Point 1 of 3' }).waitFor();
    },
  },
  { name: 'analysis (waist-up clip)', open: async (page) => { await page.goto(`${base}/#/videos/v-waist`); await waitForPlayer(page); } },
  { name: 'analysis (queued)', open: async (page) => { await page.goto(`${base}/#/videos/v-live`); await page.getByTestId('analysis-view').waitFor(); } },
  { name: 'analysis (failed)', open: async (page) => { await page.goto(`${base}/#/videos/v-failed`); await page.getByTestId('analysis-view').waitFor(); } },
  { name: 'unknown video', open: async (page) => { await page.goto(`${base}/#/videos/v-nope`); await page.getByRole('alert').waitFor(); } },
  {
    name: 'compare',
    open: async (page) => {
      await page.goto(`${base}/#/compare?rider=v-rider&reference=v-ref`);
      await waitForPlayer(page, 0);
      await waitForPlayer(page, 1);
    },
  },
  { name: 'compare (no reference chosen)', open: async (page) => { await page.goto(`${base}/#/compare?rider=v-rider`); await page.waitForLoadState('networkidle'); } },
  {
    name: 'shared view',
    as: null,
    open: async (page, context) => {
      // Ana makes a link in a context of her own; the page opens it signed in as nobody.
      const owner = await context.browser().newContext();
      const token = await csrfOf(owner, 'ana');
      const share = await (await owner.request.post(`${base}/api/videos/v-rider/shares`, { headers: { 'X-CSRF-Token': token } })).json();
      await owner.close();
      await page.goto(`${base}/shared/${share.token}`);
      await waitForPlayer(page);
    },
  },
  { name: 'sign-in', as: null, open: async (page) => { await page.goto(base); await page.getByRole('button', { name: /sign in/i }).waitFor(); } },
  {
    name: 'sign-in with an error',
    as: null,
    open: async (page) => {
      await fetch(`${apiBase}/__fixture/attempts/reset`, { method: 'POST' }); // the earlier size's wrong try
      await page.goto(base);
      await page.getByLabel(/user ?name/i).fill('ana');
      await page.getByLabel(/password/i).fill('wrong-password');
      await page.getByRole('button', { name: /sign in/i }).click();
      await page.getByRole('alert').waitFor();
    },
  },
  {
    name: 'accounts (admin: owners, account panel)',
    as: 'admin',
    open: async (page) => {
      await page.goto(base);
      await page.waitForSelector('[data-testid="video-owner"]');
      await page.getByTestId('user-menu').getByRole('button', { name: /admin/ }).click();
      await page.locator('.user-panel form').waitFor();
    },
  },
  { name: 'coach library', as: 'cora', open: async (page) => { await page.goto(base); await page.waitForSelector('[data-testid="video-card"]'); } },
  { name: 'unknown page', open: async (page) => { await page.goto(`${base}/#/no/such/page`); await page.getByText('Page not found').waitFor(); } },
];

describe('accessibility (axe-core): no serious or critical violation on any page', () => {
  for (const [width, height] of SIZES) {
    for (const p of PAGES) {
      test(`${p.name} at ${width}×${height}`, async () => {
        const { page, context, close } = await newPage(width, height, { as: p.as === undefined ? 'ana' : p.as });
        try {
          await p.open(page, context);
          await page.waitForTimeout(200); // transitions settle (colour contrast is read from computed styles)
          const { bad, minor } = await audit(page);
          if (minor.length) console.log(`# ${p.name} ${width}px, moderate/minor:\n#   ${minor.join('\n#   ')}`);
          assert.deepEqual(bad, [], `${p.name} at ${width}px`);
        } finally {
          await close();
        }
      });
    }
  }
});

// The Chromium side of the browser suites: Debian's Chromium driven by playwright-core, a page factory that signs
// in through the fixture API test double (or stays anonymous) and records page errors and CSP violations.
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { shots } from './servers.mjs';

/** The fixture double's accounts (e2e/fixtureAccounts.mjs): ana owns the recorded videos, cora coaches ana. */
export const PASSWORDS = { admin: 'admin-pass-1', ana: 'ana-pass-1', ben: 'ben-pass-1', cora: 'cora-pass-1' };

export const launchChromium = () => chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader', '--autoplay-policy=no-user-gesture-required'],
});

/**
 * `newPage(width, height, {as})`: a fresh browser context signed in as `as` (POST /api/session through the app
 * server sets the cookie in the context), or anonymous with `as: null`.
 */
export function pageFactory(browser, base) {
  return async function newPage(width = 1280, height = 720, { as = 'ana' } = {}) {
    const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
    if (as) {
      const r = await context.request.post(`${base}/api/session`, { data: { username: as, password: PASSWORDS[as] } });
      assert.equal(r.status(), 200, `sign in as ${as}`);
    }
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Every page must run under serve.mjs's Content-Security-Policy without a single violation.
    const csp = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (load|execute|apply|connect|create|frame)/i.test(m.text())) csp.push(m.text());
    });
    await context.exposeBinding('__cspViolation', (_src, v) => csp.push(v));
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI}`));
    });
    return {
      page,
      context,
      errors,
      csp,
      close: async () => {
        await context.close();
        assert.deepEqual(csp, [], 'no Content-Security-Policy violations');
      },
    };
  };
}

export async function shot(page, name) {
  // Full-page captures show a sticky header wherever the page was scrolled to: start at the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(100);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

/**
 * Wait until the nth video has a decoded frame and its overlay has drawn a pose frame; `timeout` (ms) is for a
 * suite whose clips take longer to load on a busy machine.
 */
export async function waitForPlayer(page, nth = 0, { timeout = 15000 } = {}) {
  await page.waitForFunction((i) => {
    const v = document.querySelectorAll('video')[i];
    const c = document.querySelectorAll('[data-testid="skeleton-canvas"]')[i];
    return v && v.readyState >= 2 && c && Number(c.dataset.frameIndex) >= 0;
  }, nth, { timeout });
}

/** Pause the (first) video, seek to t and wait until the frame there is presented and the overlay has drawn it. */
export async function seekAndWait(page, t) {
  await page.evaluate((t) => new Promise((resolve) => {
    const v = document.querySelector('video');
    v.pause();
    v.addEventListener('seeked', () => requestAnimationFrame(() => requestAnimationFrame(() => resolve())), { once: true });
    v.currentTime = t;
  }), t);
}

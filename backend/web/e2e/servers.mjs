// What the browser suites run against: the BUILT app (server/serve.mjs) with its /api proxy pointed at the
// fixture API test double (e2e/fixtureApi.mjs), each on a free loopback port, and the screenshot folder; and the
// one setup every suite uses (`useSuite`): those servers plus a browser, started before its tests, closed after.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { createAppServer } from '../server/serve.mjs';
import { createFixtureApi } from './fixtureApi.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const shots = path.join(root, 'test-results');
mkdirSync(shots, { recursive: true });

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const close = (server) => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });

/**
 * Starts the fixture API and the app server; `stop()` closes both. `front(apiBase)`, when given, returns a server
 * put between the two (the benchmark's long clip answers there and passes the rest on to the double).
 */
export async function startServers({ front } = {}) {
  const fixture = createFixtureApi();
  const apiBase = `http://127.0.0.1:${await listen(fixture.server)}`;
  const frontServer = front ? front(apiBase) : null;
  const target = frontServer ? `http://127.0.0.1:${await listen(frontServer)}` : apiBase;
  const app = createAppServer({ distDir: path.join(root, 'dist'), apiTarget: target });
  const base = `http://127.0.0.1:${await listen(app)}`;
  return {
    fixture, apiBase, base,
    stop: async () => { await close(app); if (frontServer) await close(frontServer); await close(fixture.server); },
  };
}

/** Debian's firefox-esr over WebDriver BiDi (puppeteer-core); no first-run pages, updates, telemetry or network
 * probes: the machine has no internet. */
export const launchFirefox = () => puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
  headless: true,
  extraPrefsFirefox: {
    'media.autoplay.default': 0,
    'app.update.enabled': false,
    'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
  },
});

/**
 * One suite's setup: before its tests, the servers (`startServers`) and a browser (`launch()`, e.g.
 * launchChromium or launchFirefox), then `ready(suite)` (sign in, page factory); after them, both closed.
 * Returns the suite object, filled in by the time the first test runs: {fixture, apiBase, base, browser, stop}.
 */
export function useSuite(launch, ready = async () => undefined) {
  const suite = {};
  before(async () => {
    Object.assign(suite, await startServers());
    suite.browser = await launch();
    await ready(suite);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.stop?.();
  });
  return suite;
}

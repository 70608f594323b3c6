// Bytes over the wire for the first load of the analysis view (issue 18/10): Debian's Chromium, the built app behind
// server/serve.mjs and the fixture API test double, a fresh context (empty cache). Counts every response's encoded
// bytes (headers + body, as Chromium's network stack reports them) until the player drew its first skeleton, split
// by kind; the video itself (a Range stream) is listed apart, since the goal counts what comes "before the video".
// Requests sent after the player drew its first skeleton (the 3D view's three.js and the export menu are loaded
// then, issue 18/10) are marked 'after' and counted apart; e2e/perf.mjs times this split on the overlay's first draw.
// Run: npm run build && node e2e/weight.mjs [--json]
import { launchChromium, pageFactory, waitForPlayer } from './chromiumPage.mjs';
import { startServers } from './servers.mjs';

const servers = await startServers();
const browser = await launchChromium();
try {
  const newPage = pageFactory(browser, servers.base);
  const { page, context, close } = await newPage(1280, 800);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const seen = new Map();
  const sentAt = new Map();
  cdp.on('Network.requestWillBeSent', (e) => { if (!sentAt.has(e.requestId)) sentAt.set(e.requestId, e.wallTime * 1000); });
  cdp.on('Network.responseReceived', (e) => seen.set(e.requestId, { sentAt: sentAt.get(e.requestId) ?? 0, url: e.response.url, type: e.type, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '', bytes: 0 }));
  cdp.on('Network.loadingFinished', (e) => { const r = seen.get(e.requestId); if (r) r.bytes = e.encodedDataLength; });
  // When the overlay first drew joints (performance.timeOrigin-based wall time), seen as the draw sets them.
  await context.addInitScript(() => {
    window.__firstSkeletonWall = null;
    new MutationObserver(() => {
      if (window.__firstSkeletonWall === null && document.querySelector('[data-testid="skeleton-canvas"]')?.dataset.joints) window.__firstSkeletonWall = performance.timeOrigin + performance.now();
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-joints'] });
  });
  await page.goto(`${servers.base}/#/videos/v-rider`);
  await waitForPlayer(page);
  await page.waitForFunction(() => window.__firstSkeletonWall !== null);
  const shownAt = await page.evaluate(() => window.__firstSkeletonWall);
  await page.waitForLoadState('networkidle');
  const rows = [...seen.values()].map((r) => ({ ...r, path: new URL(r.url).pathname, kind: r.type === 'Media' || /\/stream$/.test(r.url) ? 'video' : /\.js$/.test(r.url) ? 'js' : /\.css$/.test(r.url) ? 'css' : /\/api\//.test(r.url) ? 'api' : r.type.toLowerCase() }));
  for (const r of rows) r.when = r.sentAt > shownAt ? 'after' : 'before';
  const before = rows.filter((r) => r.kind !== 'video' && r.when === 'before');
  const total = before.reduce((a, r) => a + r.bytes, 0);
  const after = rows.filter((r) => r.kind !== 'video' && r.when === 'after').reduce((a, r) => a + r.bytes, 0);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ total, after, rows }, null, 1));
  else {
    for (const r of rows) console.log(`${r.kind.padEnd(9)} ${String(r.bytes).padStart(9)} B  ${(r.encoding || '-').padEnd(5)} ${r.when.padEnd(6)} ${r.path}`);
    console.log(`total before the video: ${total} B (${(total / 1024).toFixed(1)} KiB); after the first skeleton: ${after} B`);
  }
  await close();
} finally {
  await browser.close();
  await servers.stop();
}

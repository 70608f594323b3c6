// npm run test:e2e: build the app if dist/ is missing or stale, then run the browser tests (Chromium, then Firefox) with
// node's test runner.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`e2e: no Chromium at ${chromium}. Install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  process.exit(1);
}
/** The newest modification time under these paths (files or folders), in ms. */
function newest(paths) {
  let latest = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const stat = statSync(p);
    latest = Math.max(latest, stat.mtimeMs);
    if (stat.isDirectory()) latest = Math.max(latest, newest(readdirSync(p).map((name) => path.join(p, name))));
  }
  return latest;
}
// The browser tests run the built app: build it when it is missing or older than its sources.
const built = path.join(root, 'dist/index.html');
const sources = ['src', 'build', 'index.html', 'vite.config.ts', 'package-lock.json'].map((p) => path.join(root, p));
if (!existsSync(built) || newest(sources) > statSync(built).mtimeMs) {
  console.log(`e2e: dist/ ${existsSync(built) ? 'older than its sources' : 'missing'}, building first`);
  const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// Firefox too (Debian's firefox-esr over WebDriver BiDi): playback and overlay must hold in both engines.
const firefox = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
if (!existsSync(firefox)) {
  console.error(`e2e: no Firefox at ${firefox}. Install Debian's package (apt-get install -y firefox-esr) or set FIREFOX_PATH.`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', 'e2e/app.e2e.test.mjs', 'e2e/confidence.e2e.test.mjs', 'e2e/accounts.e2e.test.mjs', 'e2e/queue.e2e.test.mjs', 'e2e/export.e2e.test.mjs', 'e2e/compare.e2e.test.mjs', 'e2e/player.e2e.test.mjs', 'e2e/uploads.e2e.test.mjs', 'e2e/a11y.e2e.test.mjs', 'e2e/firefox.e2e.test.mjs', 'e2e/queue.firefox.e2e.test.mjs'], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

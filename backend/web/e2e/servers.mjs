// What both browser suites run against: the BUILT app (server/serve.mjs) with its /api proxy pointed at the
// fixture API test double (e2e/fixtureApi.mjs), each on a free loopback port, and the screenshot folder.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppServer } from '../server/serve.mjs';
import { createFixtureApi } from './fixtureApi.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const shots = path.join(root, 'test-results');
mkdirSync(shots, { recursive: true });

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const close = (server) => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); });

/** Starts the fixture API and the app server; `stop()` closes both. */
export async function startServers() {
  const fixture = createFixtureApi();
  const apiBase = `http://127.0.0.1:${await listen(fixture.server)}`;
  const app = createAppServer({ distDir: path.join(root, 'dist'), apiTarget: apiBase });
  const base = `http://127.0.0.1:${await listen(app)}`;
  return { fixture, apiBase, base, stop: async () => { await close(app); await close(fixture.server); } };
}

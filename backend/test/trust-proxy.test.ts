import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config.js';
import { authCollections } from '../src/auth/store.js';
import { createTrustProxy, parseTrustProxy, type TrustProxy } from '../src/trustProxy.js';
import { runToExit } from './support/apiProcess.js';
import { TEST_ADMIN, startHarness, type Harness } from './support/harness.js';

/*
 * TRUST_PROXY: only the proxies it names say who the client is (X-Forwarded-For, which the per-address sign-in
 * limit counts) and how it connected (X-Forwarded-Proto, the cookie's Secure flag). Checked on the real API over
 * HTTP against SecantusDB: the address a failed sign-in is counted under is read back from `login_attempts`.
 */

const base = { MONGODB_URI: 'mongodb://db:27017/snow', POSE_SERVICE_URL: 'http://pose-service:5000' };

describe('TRUST_PROXY setting', () => {
  it('reads addresses, CIDRs, named ranges, host names, a hop count or none; loopback by default', () => {
    assert.deepEqual(loadConfig(base).trustProxy, { kind: 'list', ranges: ['loopback'], hostnames: [] });
    assert.deepEqual(loadConfig({ ...base, TRUST_PROXY: ' frontend , 10.1.0.0/16,fd00::/8, 192.0.2.7,10.0.0.0/255.0.0.0 ' }).trustProxy, {
      kind: 'list',
      ranges: ['10.1.0.0/16', 'fd00::/8', '192.0.2.7', '10.0.0.0/255.0.0.0'],
      hostnames: ['frontend'],
    });
    assert.deepEqual(parseTrustProxy('2'), { kind: 'hops', hops: 2 });
    assert.deepEqual(parseTrustProxy('none'), { kind: 'list', ranges: [], hostnames: [] });
  });

  it('refuses a malformed value with one line naming TRUST_PROXY', () => {
    for (const [value, why] of [
      ['10.0.0.300', /invalid IP address: 10\.0\.0\.300/],
      ['10.0.0.0/33', /invalid range on address/],
      ['fd00::/129', /invalid range on address/],
      ['1.2.3', /invalid IP address: 1\.2\.3/],
      ['frontend,,10.0.0.1', /an entry is empty/],
      ['true', /forge/],
      ['*', /forge/],
      ['11', /hop count must be 0 to 10/],
      ['-frontend', /invalid IP address/],
      ['front_end', /invalid IP address/],
      ['none,10.0.0.1', /none stands alone/],
      ['frontend,2', /2 stands alone/],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...base, TRUST_PROXY: value }),
        (err: Error) => err instanceof ConfigError && err.message.startsWith(`TRUST_PROXY=${JSON.stringify(value)} is not valid: `) && why.test(err.message) && !err.message.includes('\n'),
        value,
      );
    }
  });

  it('stops the API at start-up (exit 2) with that line', async () => {
    const { code, output: out } = await runToExit({ ...base, TRUST_PROXY: '172.18.0.0/99' });
    assert.equal(code, 2, out);
    assert.match(out.trim(), /^backend-api: configuration error: TRUST_PROXY="172\.18\.0\.0\/99" is not valid: invalid range on address: 172\.18\.0\.0\/99; give IP addresses, CIDRs, loopback\/linklocal\/uniquelocal or host names$/);
  });
});

describe('TRUST_PROXY on the running API', () => {
  let h: Harness;
  let n = 0;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  /** An API with this TRUST_PROXY on the harness's database. */
  async function apiWith(trustProxy: string | undefined): Promise<string> {
    const api = await h.startAnotherApi(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy });
    return `http://127.0.0.1:${api.port}`;
  }

  /** The address a failed sign-in sent with these headers is counted under. */
  async function countedAs(url: string, headers: Record<string, string>): Promise<string> {
    const username = `nobody-${++n}`;
    const res = await request(url).post('/api/session').set(headers).send({ username, password: 'not-a-password' });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    const attempts = await authCollections(h.api.db.db).loginAttempts.find({}).toArray();
    // Both records of this attempt were written together: the user's, and the address's right after it.
    const mine = attempts.findIndex((a) => a.key === `user:${username}`);
    const addr = attempts.slice(mine).find((a) => a.key.startsWith('addr:') && Math.abs(a.at.getTime() - attempts[mine]!.at.getTime()) < 1000);
    assert.ok(addr, JSON.stringify(attempts.slice(-4)));
    return addr.key.slice('addr:'.length);
  }

  /** Whether a sign-in with these headers gets a Secure cookie. */
  async function secureCookie(url: string, headers: Record<string, string>): Promise<boolean> {
    const res = await request(url).post('/api/session').set(headers).send(TEST_ADMIN);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sb_session='));
    assert.ok(cookie);
    return /;\s*secure/i.test(cookie);
  }

  it('by default trusts a proxy on this machine only, and only for the hop it adds', async () => {
    const url = await apiWith(undefined);
    assert.equal(await countedAs(url, { 'X-Forwarded-For': '203.0.113.7' }), '203.0.113.7');
    // What a client put in front of the chain is not believed: the rightmost untrusted address is the client.
    assert.equal(await countedAs(url, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.8' }), '203.0.113.8');
    assert.equal(await secureCookie(url, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' }), true);
  });

  it('ignores X-Forwarded-For and -Proto from a peer TRUST_PROXY does not name (a forged address, a forged https)', async () => {
    // The old rule (every private address) would have believed a container on the Docker network; now only the
    // named proxy is, and this client (loopback) is not it.
    const url = await apiWith('192.0.2.1,10.0.0.0/8');
    assert.equal(await countedAs(url, { 'X-Forwarded-For': '203.0.113.10' }), '127.0.0.1');
    assert.equal(await secureCookie(url, { 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.11' }), false);
    const none = await apiWith('none');
    assert.equal(await countedAs(none, { 'X-Forwarded-For': '203.0.113.12' }), '127.0.0.1');
  });

  it('trusts a proxy by host name (resolved through DNS), and by hop count', async () => {
    const byName = await apiWith('localhost');
    assert.equal(await countedAs(byName, { 'X-Forwarded-For': '203.0.113.13' }), '203.0.113.13');
    assert.equal(await secureCookie(byName, { 'X-Forwarded-Proto': 'https' }), true);
    const twoHops = await apiWith('2');
    assert.equal(await countedAs(twoHops, { 'X-Forwarded-For': '198.51.100.2, 203.0.113.14, 10.0.0.5' }), '203.0.113.14');
  });
});

describe('TRUST_PROXY host names', () => {
  // A test double for DNS only (the proxy's container "moves" between lookups); the app, its trust setting and
  // the HTTP requests are real.
  const dns = new Map<string, string[]>();
  const lookups: string[] = [];
  const lookup = async (name: string) => {
    lookups.push(name);
    const found = dns.get(name);
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return found;
  };
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  /** A real Express app with this trust setting on 127.0.0.1; `ask()` sends a forged-looking proxy's headers. */
  async function appWith(trust: TrustProxy) {
    const app = express();
    app.set('trust proxy', trust.value);
    app.use(trust.middleware);
    app.get('/', (req, res) => {
      res.json({ ip: req.ip, protocol: req.protocol });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return async () => (await request(url).get('/').set({ 'X-Forwarded-For': '203.0.113.20', 'X-Forwarded-Proto': 'https' })).body;
  }
  const believed = { ip: '203.0.113.20', protocol: 'https' };
  const ignored = { ip: '127.0.0.1', protocol: 'http' };

  it('trusts a name from when it resolves, and looks it up again when an unknown peer comes', async () => {
    dns.clear();
    const logged: string[] = [];
    const ask = await appWith(createTrustProxy(parseTrustProxy('web.test'), { lookup, log: (m) => logged.push(m), retryMs: 0 }));
    // The proxy is not up yet (compose starts the web server after the API): nothing is trusted.
    assert.deepEqual(await ask(), ignored);
    // It comes up at this address: its next request makes the API look again, and is believed.
    dns.set('web.test', ['127.0.0.1']);
    assert.deepEqual(await ask(), believed);
    const before = lookups.length;
    assert.deepEqual(await ask(), believed);
    assert.equal(lookups.length, before, 'a trusted peer is not looked up again on every request');
    assert.deepEqual(logged, ['trust proxy: web.test → nothing (web.test not found)', 'trust proxy: web.test → 127.0.0.1']);
  });

  it('drops an address the name no longer has (the proxy was recreated elsewhere)', async () => {
    dns.set('web.test', ['127.0.0.1']);
    const trust = createTrustProxy(parseTrustProxy('web.test'), { lookup, retryMs: 0, maxAgeMs: 0 });
    await trust.refresh();
    const ask = await appWith(trust);
    assert.deepEqual(await ask(), believed);
    dns.set('web.test', ['10.9.9.9']);
    await trust.refresh();
    assert.deepEqual(await ask(), ignored);
  });

  it('looks a name up at most once per retry interval for peers it does not trust', async () => {
    dns.set('web.test', ['10.9.9.9']);
    const trust = createTrustProxy(parseTrustProxy('web.test,192.0.2.1'), { lookup, retryMs: 60_000 });
    await trust.refresh();
    const ask = await appWith(trust);
    const before = lookups.length;
    for (let i = 0; i < 5; i++) assert.deepEqual(await ask(), ignored);
    assert.equal(lookups.length, before, 'an untrusted client cannot make the API look the name up on every request');
  });
});

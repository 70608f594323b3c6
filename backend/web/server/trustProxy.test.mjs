// @vitest-environment node
// What serve.mjs tells the API about the client (X-Forwarded-For, X-Forwarded-Proto): the socket's own facts,
// unless the peer is a proxy TRUST_PROXY names. Real servers on loopback: an upstream standing in for the API
// (it records what it was told), serve.mjs, and a real TLS-terminating proxy (node:https with a self-signed
// certificate made by openssl) in front, forwarding as nginx does.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer, parseTrustProxy } from './serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
const servers = [];
/** What the upstream (the API's place) was told, request by request. */
const told = [];
let apiTarget;
let dist;

beforeAll(async () => {
  dist = mkdtempSync(path.join(tmpdir(), 'web-dist-'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
  const upstream = http.createServer((req, res) => {
    told.push({ xff: req.headers['x-forwarded-for'], proto: req.headers['x-forwarded-proto'] });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  servers.push(upstream);
  apiTarget = `http://127.0.0.1:${await listen(upstream)}`;
});

afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
});

/** serve.mjs with this TRUST_PROXY, listening on loopback; returns its base URL. */
async function webWith(trustProxy) {
  const app = createAppServer({ distDir: dist, apiTarget, trustProxy });
  servers.push(app);
  return `http://127.0.0.1:${await listen(app)}`;
}

/** A GET /api/x straight to serve.mjs with these headers; returns what the upstream was told. */
function direct(base, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/x`, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(told.at(-1)));
    });
    req.on('error', reject);
  });
}

describe('TRUST_PROXY in serve.mjs', () => {
  it('parses none, a hop count, addresses, CIDRs, netmasks and named ranges', () => {
    expect(parseTrustProxy('')('127.0.0.1', 0)).toBe(false);
    expect(parseTrustProxy('none')('127.0.0.1', 0)).toBe(false);
    const two = parseTrustProxy('2');
    expect([two('203.0.113.1', 0), two('203.0.113.1', 1), two('203.0.113.1', 2)]).toEqual([true, true, false]);
    const list = parseTrustProxy('192.0.2.7, 10.1.0.0/16,172.16.0.0/255.240.0.0,loopback,fd00::/8');
    expect(['192.0.2.7', '10.1.200.3', '172.31.0.1', '::ffff:127.0.0.1', '::1', 'fd12::1'].map((a) => list(a, 0))).toEqual([true, true, true, true, true, true]);
    expect(['192.0.2.8', '10.2.0.1', '172.32.0.1', 'fe80::1', 'garbage', ''].map((a) => list(a, 0))).toEqual([false, false, false, false, false, false]);
  });

  it('refuses a malformed value with one line naming TRUST_PROXY', () => {
    /** @type {[string, RegExp][]} */
    const cases = [
      ['10.0.0.300', /is not an IP address or CIDR/],
      ['proxy.example', /host names are not resolved here/],
      ['10.0.0.0/33', /invalid prefix length or netmask/],
      ['10.0.0.0/255.0.255.0', /invalid prefix length or netmask/],
      ['fd00::/129', /invalid prefix length or netmask/],
      ['10.0.0.1,,10.0.0.2', /an entry is empty/],
      ['true', /forge/],
      ['11', /hop count must be 0 to 10/],
    ];
    for (const [value, why] of cases) {
      expect(() => parseTrustProxy(value)).toThrow(new RegExp(`^TRUST_PROXY=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid: `));
      expect(() => parseTrustProxy(value)).toThrow(why);
    }
  });

  it('stops the server at start-up (exit 2) with that line', async () => {
    const child = spawn(process.execPath, [path.join(here, 'serve.mjs')], { env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', TRUST_PROXY: '10.0.0.0/40' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(out.trim()).toBe('web: configuration error: TRUST_PROXY="10.0.0.0/40" is not valid: "10.0.0.0/40" has an invalid prefix length or netmask');
  });

  it('by default is the edge: a client cannot forge its address or https', async () => {
    const base = await webWith(undefined);
    expect(await direct(base)).toEqual({ xff: '127.0.0.1', proto: 'http' });
    expect(await direct(base, { 'X-Forwarded-For': '203.0.113.66', 'X-Forwarded-Proto': 'https' })).toEqual({ xff: '127.0.0.1', proto: 'http' });
    // A proxy that TRUST_PROXY names, but this peer is not it.
    const other = await webWith('192.0.2.1');
    expect(await direct(other, { 'X-Forwarded-For': '203.0.113.66', 'X-Forwarded-Proto': 'https' })).toEqual({ xff: '127.0.0.1', proto: 'http' });
  });

  it('behind a trusted proxy, passes on its client address (only the hop it added) and its scheme', async () => {
    const base = await webWith('loopback');
    expect(await direct(base, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.5', 'X-Forwarded-Proto': 'https' })).toEqual({ xff: '203.0.113.5', proto: 'https' });
    // Express's reading of a list: the first value; anything but http/https is the socket's own.
    expect(await direct(base, { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'https, http' })).toEqual({ xff: '203.0.113.5', proto: 'https' });
    expect(await direct(base, { 'X-Forwarded-For': '203.0.113.5', 'X-Forwarded-Proto': 'gopher' })).toEqual({ xff: '203.0.113.5', proto: 'http' });
    // No X-Forwarded-For, or a garbled one: the last address known for sure is the proxy's.
    expect(await direct(base, { 'X-Forwarded-Proto': 'https' })).toEqual({ xff: '127.0.0.1', proto: 'https' });
    expect(await direct(base, { 'X-Forwarded-For': 'not-an-address' })).toEqual({ xff: '127.0.0.1', proto: 'http' });
    // Two trusted hops by count: the client is the third address from the right.
    const twoHops = await webWith('2');
    expect(await direct(twoHops, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.7, 10.0.0.9' })).toEqual({ xff: '203.0.113.7', proto: 'http' });
  });

  it('through a real TLS-terminating proxy: the API is told https and the client address', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    const cert = readFileSync(path.join(dir, 'cert.pem'));
    const web = new URL(await webWith('127.0.0.1'));
    // Forwards as nginx's `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; X-Forwarded-Proto $scheme;`
    const tls = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert }, (req, res) => {
      const xff = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
      const up = http.request({ host: web.hostname, port: web.port, path: req.url, method: req.method, headers: { ...req.headers, 'x-forwarded-for': xff, 'x-forwarded-proto': 'https' } }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    servers.push(tls);
    const port = await listen(tls);
    const viaTls = (headers) =>
      new Promise((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: '/api/x', servername: 'localhost', ca: cert, headers, localAddress: '127.0.0.2' }, (res) => {
          res.resume();
          res.on('end', () => resolve(told.at(-1)));
        }).on('error', reject);
      });
    // The browser connects from 127.0.0.2; the proxy (127.0.0.1) is the only hop serve.mjs trusts.
    expect(await viaTls({})).toEqual({ xff: '127.0.0.2', proto: 'https' });
    // The browser's own X-Forwarded-For is kept by the proxy in front but not believed.
    expect(await viaTls({ 'X-Forwarded-For': '203.0.113.99' })).toEqual({ xff: '127.0.0.2', proto: 'https' });
  });
});

// @vitest-environment node
// The runtime server against a real upstream HTTP server on loopback.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppServer } from './serve.mjs';

const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
let upstream;
let app;
let base;
let sseRes;
let upstreamBase;
const seen = [];

/**
 * A request with exactly these headers (fetch cannot set Host or Origin).
 * @param {string} p
 * @param {{ method?: string, headers?: Record<string, string>, body?: string | Buffer }} [options]
 */
function raw(p, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, path: p, method, headers, setHost: !('Host' in headers) }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'web-dist-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(dist, 'assets', 'a.js'), 'console.log(1)');
  upstream = http.createServer((req, res) => {
    if (req.url === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: job\ndata: {"state":"queued"}\n\n');
      sseRes = res;
      return;
    }
    if (req.url === '/api/stream') {
      res.writeHead(206, { 'content-range': `bytes 0-9/100`, 'x-range-seen': req.headers.range ?? '' });
      return res.end('0123456789');
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, xfh: req.headers['x-forwarded-host'], host: req.headers.host });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  const upPort = await listen(upstream);
  upstreamBase = `http://127.0.0.1:${upPort}`;
  app = createAppServer({ distDir: dist, apiTarget: `http://127.0.0.1:${upPort}` });
  base = `http://127.0.0.1:${await listen(app)}`;
});

afterAll(() => {
  sseRes?.end();
  app.closeAllConnections();
  upstream.closeAllConnections();
  app.close();
  upstream.close();
});

describe('serve.mjs', () => {
  it('answers /healthz', async () => {
    const r = await fetch(`${base}/healthz`);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('serves assets with their content type and a long cache', async () => {
    const r = await fetch(`${base}/assets/a.js`);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(r.headers.get('cache-control')).toContain('immutable');
  });

  it('falls back to index.html for app routes but 404s a missing asset', async () => {
    const page = await fetch(`${base}/videos/123`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>app</title>');
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
  });

  it('proxies /api requests with their method and body', async () => {
    const r = await fetch(`${base}/api/videos?page=2`, { method: 'POST', body: 'hello' });
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ method: 'POST', url: '/api/videos?page=2', body: 'hello' });
  });

  it('passes Range requests and partial responses through', async () => {
    const r = await fetch(`${base}/api/stream`, { headers: { Range: 'bytes=0-9' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('x-range-seen')).toBe('bytes=0-9');
    expect(r.headers.get('content-range')).toBe('bytes 0-9/100');
  });

  it('streams server-sent events without buffering', async () => {
    const r = await fetch(`${base}/api/events`);
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const reader = r.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"queued"');
    sseRes.write('event: job\ndata: {"state":"done"}\n\n');
    const second = new TextDecoder().decode((await reader.read()).value);
    expect(second).toContain('"done"');
    await reader.cancel();
  });

  it('sends a CSP and the other security headers on pages, assets and JSON', async () => {
    for (const p of ['/', '/assets/a.js', '/healthz', '/assets/missing.js']) {
      const r = await fetch(`${base}${p}`);
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses a Host it does not answer to with 421 JSON (DNS rebinding), on pages and /api alike', async () => {
    for (const [p, method] of [['/', 'GET'], ['/api/videos', 'GET'], ['/api/videos', 'DELETE']]) {
      const r = await raw(p, { method, headers: { Host: 'rebind.attacker.test' } });
      expect(r.status).toBe(421);
      expect(JSON.parse(r.body).error).toBe('unknown_host');
    }
    for (const host of ['localhost:5173', '[::1]:5173', 'frontend:5173']) expect((await raw('/healthz', { headers: { Host: host } })).status).toBe(200);
  });

  it('refuses a state-changing /api request from a foreign Origin with 403 JSON, and never forwards it', async () => {
    const before = seen.length;
    for (const origin of ['http://evil.example', 'null', `http://localhost:1`]) {
      const r = await raw('/api/videos', { method: 'POST', headers: { Origin: origin, 'Content-Type': 'text/plain' }, body: 'x' });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).error).toBe('foreign_origin');
    }
    const tus = await raw('/api/uploads/abc', { method: 'PATCH', headers: { Origin: 'http://evil.example', 'Tus-Resumable': '1.0.0' } });
    expect(tus.status).toBe(403);
    expect(seen.length).toBe(before);
  });

  it('forwards same-origin writes with the browser host as X-Forwarded-Host', async () => {
    const host = new URL(base).host;
    const r = await raw('/api/uploads/abc', { method: 'PATCH', headers: { Origin: base, 'Tus-Resumable': '1.0.0', 'X-Forwarded-Host': 'evil.example' }, body: 'chunk' });
    expect(r.status).toBe(201);
    expect(seen.at(-1)).toMatchObject({ method: 'PATCH', xfh: host, host: new URL(upstreamBase).host });
  });

  it('answers 502 in the API error shape when the API is down', async () => {
    const down = createAppServer({ distDir: tmpdir(), apiTarget: 'http://127.0.0.1:9' });
    const port = await listen(down);
    const r = await fetch(`http://127.0.0.1:${port}/api/videos`);
    expect(r.status).toBe(502);
    expect(/** @type {{ error: string }} */ (await r.json()).error).toBe('bad_gateway');
    down.close();
  });
});

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
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, body }));
    });
  });
  const upPort = await listen(upstream);
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

  it('answers 502 in the API error shape when the API is down', async () => {
    const down = createAppServer({ distDir: tmpdir(), apiTarget: 'http://127.0.0.1:9' });
    const port = await listen(down);
    const r = await fetch(`http://127.0.0.1:${port}/api/videos`);
    expect(r.status).toBe(502);
    expect((await r.json()).error).toBe('bad_gateway');
    down.close();
  });
});

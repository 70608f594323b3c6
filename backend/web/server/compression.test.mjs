// @vitest-environment node
// Compression (issue 18, item 10): the runtime server against a real upstream HTTP server on loopback, read with a
// raw client that decodes nothing, so the bytes on the wire are what is checked.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressible, createAppServer, pickEncoding } from './serve.mjs';

const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)));
let upstream;
let app;
let base;
// Something like a bundle and like pose JSON: repetitive text that compresses well, far over the 1 KiB floor.
const JS = Array.from({ length: 4000 }, (_, i) => `export const v${i} = () => ${i} * 2;`).join('\n');
const POSE = JSON.stringify({ frames: Array.from({ length: 300 }, (_, i) => ({ index: i, t: i / 30, x: 100 + (i % 7), y: 200 - (i % 5), score: 0.93 })) });

function get(p, headers = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    http.get({ host: u.hostname, port: u.port, path: p, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

const decode = (r) => {
  const enc = r.headers['content-encoding'];
  return (enc === 'br' ? zlib.brotliDecompressSync(r.body) : enc === 'gzip' ? zlib.gunzipSync(r.body) : r.body).toString('utf8');
};

beforeAll(async () => {
  const dist = mkdtempSync(path.join(tmpdir(), 'web-dist-z-'));
  mkdirSync(path.join(dist, 'assets'));
  writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(path.join(dist, 'assets', 'big.js'), JS);
  writeFileSync(path.join(dist, 'assets', 'tiny.js'), 'console.log(1)');
  writeFileSync(path.join(dist, 'assets', 'pic.png'), Buffer.alloc(4096, 7));
  upstream = http.createServer((req, res) => {
    if (req.url === '/api/pose') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(POSE), etag: '"p1"' });
      return res.end(POSE);
    }
    if (req.url === '/api/already') {
      const body = zlib.gzipSync(POSE);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length });
      return res.end(body);
    }
    if (req.url === '/api/stream') {
      res.writeHead(206, { 'content-type': 'video/mp4', 'content-range': 'bytes 0-4095/10000', 'content-length': 4096 });
      return res.end(Buffer.alloc(4096, 1));
    }
    if (req.url === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return res.end(`data: ${'x'.repeat(4000)}\n\n`);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found"}');
  });
  app = createAppServer({ distDir: dist, apiTarget: `http://127.0.0.1:${await listen(upstream)}` });
  base = `http://127.0.0.1:${await listen(app)}`;
});

afterAll(async () => {
  await new Promise((r) => app.close(r));
  await new Promise((r) => upstream.close(r));
});

describe('compression', () => {
  it('picks brotli, then gzip, honouring q=0 and *', () => {
    expect(pickEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(pickEncoding('gzip, deflate')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(pickEncoding('*')).toBe('br');
    expect(pickEncoding('identity')).toBeNull();
    expect(pickEncoding(undefined)).toBeNull();
    expect(pickEncoding('br;q=0, gzip;q=0')).toBeNull();
  });

  it('knows what is worth compressing', () => {
    expect(compressible('text/javascript; charset=utf-8')).toBe(true);
    expect(compressible('application/json; charset=utf-8')).toBe(true);
    expect(compressible('text/css')).toBe(true);
    expect(compressible('text/event-stream')).toBe(false);
    expect(compressible('video/mp4')).toBe(false);
    expect(compressible('image/jpeg')).toBe(false);
  });

  it('serves built JS brotli-compressed, byte-identical once decoded, with Vary and the long cache', async () => {
    const r = await get('/assets/big.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(r.headers['cache-control']).toContain('immutable');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.body.length).toBeLessThan(JS.length / 5);
    expect(decode(r)).toBe(JS);
    const again = await get('/assets/big.js', { 'accept-encoding': 'br' });
    expect(again.body.equals(r.body)).toBe(true);
  });

  it('falls back to gzip, and to plain bytes for a client that accepts neither', async () => {
    const gz = await get('/assets/big.js', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(decode(gz)).toBe(JS);
    const plain = await get('/assets/big.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(JS);
    expect(Number(plain.headers['content-length'])).toBe(JS.length);
  });

  it('leaves tiny files and images alone', async () => {
    expect((await get('/assets/tiny.js', { 'accept-encoding': 'br' })).headers['content-encoding']).toBeUndefined();
    const png = await get('/assets/pic.png', { 'accept-encoding': 'br' });
    expect(png.headers['content-encoding']).toBeUndefined();
    expect(png.body.length).toBe(4096);
  });

  it('compresses API JSON on the way through, keeping the API headers', async () => {
    const r = await get('/api/pose', { 'accept-encoding': 'gzip, br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(r.headers.etag).toBe('"p1"');
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.body.length).toBeLessThan(Buffer.byteLength(POSE) / 4);
    expect(JSON.parse(decode(r))).toEqual(JSON.parse(POSE));
  });

  it('passes through answers the API encoded, Range answers and event streams unchanged', async () => {
    const already = await get('/api/already', { 'accept-encoding': 'br' });
    expect(already.headers['content-encoding']).toBe('gzip');
    expect(decode(already)).toBe(POSE);
    const range = await get('/api/stream', { 'accept-encoding': 'br', range: 'bytes=0-4095' });
    expect(range.status).toBe(206);
    expect(range.headers['content-encoding']).toBeUndefined();
    expect(range.body.length).toBe(4096);
    const sse = await get('/api/events', { 'accept-encoding': 'br' });
    expect(sse.headers['content-encoding']).toBeUndefined();
    expect(sse.body.toString()).toContain('data: xxx');
  });
});

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import express from 'express';
import { compressJson, pickEncoding } from '../src/compress.js';
import { securityHeaders } from '../src/requestGuards.js';

// The JSON compression middleware (issue 18, item 10) in an Express app over real HTTP, read with a client that
// decodes nothing, so the bytes on the wire are what is checked.

const POSE = { frames: Array.from({ length: 400 }, (_, i) => ({ index: i, t: i / 30, keypoints: [{ x: 100 + (i % 7), y: 200 - (i % 5), score: 0.93 }] })) };
let server: http.Server;
let port: number;

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
const decoded = (a: Answer): string => {
  const enc = a.headers['content-encoding'];
  return (enc === 'br' ? zlib.brotliDecompressSync(a.body) : enc === 'gzip' ? zlib.gunzipSync(a.body) : a.body).toString('utf8');
};

before(async () => {
  const app = express();
  app.use(securityHeaders());
  app.use(compressJson());
  app.get('/pose', (_req, res) => { res.json(POSE); });
  app.get('/small', (_req, res) => { res.json({ ok: true }); });
  app.get('/error', (_req, res) => { res.status(404).json({ error: 'not_found', detail: 'x'.repeat(2000) }); });
  app.get('/video', (_req, res) => { res.type('video/mp4').send(Buffer.alloc(4096, 1)); });
  app.get('/events', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`data: ${'x'.repeat(4000)}\n\n`);
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe('JSON compression', () => {
  it('picks brotli, then gzip, honouring q=0 and *', () => {
    assert.equal(pickEncoding('gzip, deflate, br, zstd'), 'br');
    assert.equal(pickEncoding('gzip, deflate'), 'gzip');
    assert.equal(pickEncoding('br;q=0, gzip;q=0.5'), 'gzip');
    assert.equal(pickEncoding('*'), 'br');
    assert.equal(pickEncoding('identity'), null);
    assert.equal(pickEncoding(undefined), null);
  });

  it('sends pose-like JSON brotli-compressed (~10× smaller), identical once decoded, with Vary and a length', async () => {
    const plain = await get('/pose');
    assert.equal(plain.headers['content-encoding'], undefined);
    const br = await get('/pose', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.status, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.match(String(br.headers.vary), /Accept-Encoding/);
    assert.match(String(br.headers['content-type']), /^application\/json/);
    assert.equal(Number(br.headers['content-length']), br.body.length);
    assert.ok(br.body.length * 8 < plain.body.length, `${br.body.length} B vs ${plain.body.length} B plain`);
    assert.deepEqual(JSON.parse(decoded(br)), POSE);
    assert.equal(br.headers['x-content-type-options'], 'nosniff', 'the security headers stay');
  });

  it('falls back to gzip, and answers 304 to a matching ETag', async () => {
    const gz = await get('/pose', { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(JSON.parse(decoded(gz)), POSE);
    const again = await get('/pose', { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it('compresses large error bodies too, but not small JSON, media, event streams or HEAD', async () => {
    const err = await get('/error', { 'accept-encoding': 'br' });
    assert.equal(err.status, 404);
    assert.equal(err.headers['content-encoding'], 'br');
    assert.equal(JSON.parse(decoded(err)).error, 'not_found');
    assert.equal((await get('/small', { 'accept-encoding': 'br' })).headers['content-encoding'], undefined);
    const video = await get('/video', { 'accept-encoding': 'br' });
    assert.equal(video.headers['content-encoding'], undefined);
    assert.equal(video.body.length, 4096);
    const sse = await get('/events', { 'accept-encoding': 'br' });
    assert.equal(sse.headers['content-encoding'], undefined);
    assert.match(sse.body.toString(), /^data: x+/);
    const head = await get('/pose', { 'accept-encoding': 'br' }, 'HEAD');
    assert.equal(head.headers['content-encoding'], undefined);
  });
});

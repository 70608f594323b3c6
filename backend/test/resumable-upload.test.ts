import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { startHarness, type Harness } from './support/harness.js';
import { minimalMp4, pngBytes } from './support/fixtures.js';

/*
 * Resumable uploads over the tus protocol, against the real server: the connection is cut in the middle of a
 * PATCH, the client asks where to resume (HEAD) and sends the rest; the stored file must be the original, byte
 * for byte. Raw HTTP on purpose: the test speaks the protocol the browser's tus-js-client speaks.
 */

const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The harness's signed-in admin (cookie + CSRF token): tus requests need a session like every /api route. */
let signedIn: Record<string, string> = {};

function call(url: string, method: string, headers: Record<string, string | number>, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...signedIn, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts a PATCH announcing the whole rest of the file, sends `sent` bytes of it, then destroys the socket. */
function patchThenDrop(url: string, offset: number, rest: Buffer, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, {
      method: 'PATCH',
      headers: { ...signedIn, ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': offset, 'Content-Length': rest.length },
    });
    req.on('error', () => resolve()); // the cut we cause
    req.on('response', () => resolve());
    req.write(rest.subarray(0, sent), () => {
      // Let the bytes reach the server's file store before the network "drops".
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 400);
    });
  });
}

async function create(h: Harness, length: number, metadata: Record<string, string>): Promise<Reply> {
  const meta = Object.entries(metadata).map(([k, v]) => `${k} ${b64(v)}`).join(',');
  return call(`${h.url}/api/uploads`, 'POST', { ...TUS, 'Upload-Length': length, 'Upload-Metadata': meta });
}

async function offsetOf(uploadUrl: string): Promise<number> {
  // The store finishes writing what arrived before the cut shortly after; the offset then stops moving.
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const head = await call(uploadUrl, 'HEAD', TUS);
    assert.equal(head.status, 200);
    const offset = Number(head.headers['upload-offset']);
    if (offset === last) return offset;
    last = offset;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('resumable uploads (tus)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(); // MAX_UPLOAD_MB=2
    signedIn = h.session.headers;
  });
  after(async () => {
    await h?.close();
  });

  it('resumes after the connection drops at about half; the stored file is the original byte for byte', async () => {
    const bytes = minimalMp4(1_200_000);
    const created = await create(h, bytes.length, { role: 'rider', title: 'Kicker, take 2', filename: 'Café run.mp4' });
    assert.equal(created.status, 201, created.body);
    assert.match(String(created.headers.location), /^\/api\/uploads\/[0-9a-f]+$/);
    const uploadUrl = `${h.url}${created.headers.location}`;

    const half = Math.floor(bytes.length / 2);
    await patchThenDrop(uploadUrl, 0, bytes, half);
    const offset = await offsetOf(uploadUrl);
    assert.ok(offset > 0 && offset <= half, `the server kept ${offset} of the ${half} bytes sent before the cut`);
    assert.equal(await h.api.db.collections.videos.countDocuments({}), 0, 'no video before the last byte');

    const rest = await call(
      uploadUrl,
      'PATCH',
      { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': offset, 'Content-Length': bytes.length - offset },
      bytes.subarray(offset),
    );
    assert.equal(rest.status, 200, rest.body);
    const { videoId, jobId } = JSON.parse(rest.body);
    assert.match(videoId, /^[0-9a-f]{24}$/);
    assert.equal(rest.headers['x-video-id'], videoId);

    // Stored in GridFS byte for byte (read back from the database), and served so.
    const doc = await h.api.db.collections.videos.findOne({ _id: new ObjectId(videoId as string) });
    assert.equal((await h.api.media.digest(doc!.originalFileId!)).sha256, sha(bytes));
    const served = await h.http.get(`/api/videos/${videoId}/original`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(sha(served.body as Buffer), sha(bytes));
    const video = (await h.http.get(`/api/videos/${videoId}`)).body;
    assert.equal(video.sha256, sha(bytes));
    assert.equal(video.size, bytes.length);
    assert.equal(video.role, 'rider');
    assert.equal(video.title, 'Kicker, take 2');
    assert.equal(video.originalName, 'Café run.mp4');
    assert.equal((await h.http.get(`/api/jobs/${jobId}`)).body.state, 'queued', 'its job waits for a pose worker');
    assert.deepEqual(await readdir(path.join(h.uploadDir, '.tus')), [], 'the store keeps nothing once the video is stored');
  });

  it('refuses missing or wrong metadata when the upload is created', async () => {
    const none = await create(h, 1000, { filename: 'a.mp4' });
    assert.equal(none.status, 400);
    assert.equal(JSON.parse(none.body).error, 'missing_field');
    const wrong = await create(h, 1000, { role: 'coach' });
    assert.equal(wrong.status, 400);
    assert.equal(JSON.parse(wrong.body).error, 'invalid_field');
    const big = await create(h, 3 * 1024 * 1024, { role: 'rider' });
    assert.equal(big.status, 413);
  });

  it('runs the same checks as a multipart upload on the last byte, and stores nothing it refuses', async () => {
    const png = pngBytes();
    const created = await create(h, png.length, { role: 'reference', filename: 'x.mp4' });
    assert.equal(created.status, 201);
    const done = await call(
      `${h.url}${created.headers.location}`,
      'PATCH',
      { ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': 0, 'Content-Length': png.length },
      png,
    );
    assert.equal(done.status, 415, done.body);
    assert.equal(JSON.parse(done.body).error, 'unsupported_type');
    assert.deepEqual(await readdir(path.join(h.uploadDir, '.tus')), []);
    assert.equal(await h.api.db.collections.videos.countDocuments({ role: 'reference' }), 0);
  });
});

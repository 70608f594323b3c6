import assert from 'node:assert/strict';
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import { startHarness, type Harness } from './support/harness.js';
import { heifBytes, minimalEbml, minimalMp4, pngBytes } from './support/fixtures.js';

function assertError(res: request.Response, status: number, error: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error, error, JSON.stringify(res.body));
  assert.equal(typeof res.body.detail, 'string');
  assert.ok(res.body.detail.length > 0);
}

describe('bad input is refused with {error, detail}', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(); // MAX_UPLOAD_MB=2
  });
  after(async () => {
    await h?.close();
  });

  async function assertNothingStored() {
    assert.equal(await h.api.db.collections.videos.countDocuments({}), 0);
    assert.deepEqual(await readdir(h.uploadDir), [], 'no file or temp file left behind');
  }

  it('refuses a PNG named .mp4 (spoofed type) with 415', async () => {
    const res = await h.http.post('/api/videos').field('role', 'rider').attach('video', pngBytes(), { filename: 'clip.mp4', contentType: 'video/mp4' });
    assertError(res, 415, 'unsupported_type');
    await assertNothingStored();
  });

  it('refuses an HEIF image and a Matroska (non-webm) EBML file', async () => {
    assertError(await h.upload(heifBytes(), { name: 'x.mp4' }), 415, 'unsupported_type');
    assertError(await h.upload(minimalEbml('matroska'), { name: 'x.webm' }), 415, 'unsupported_type');
    assertError(await h.upload(Buffer.from('just some text, not a video at all'), { name: 'x.mov' }), 415, 'unsupported_type');
    await assertNothingStored();
  });

  it('refuses an empty file', async () => {
    assertError(await h.upload(Buffer.alloc(0)), 400, 'empty_file');
    await assertNothingStored();
  });

  it('refuses missing or invalid fields', async () => {
    assertError(await h.http.post('/api/videos').field('role', 'rider'), 400, 'missing_field');
    assertError(await h.http.post('/api/videos').attach('video', minimalMp4(), 'a.mp4'), 400, 'missing_field');
    assertError(await h.upload(minimalMp4(), { role: 'coach' }), 400, 'invalid_field');
    assertError(await h.upload(minimalMp4(), { title: 'x'.repeat(201) }), 400, 'invalid_field');
    assertError(
      await h.http.post('/api/videos').field('role', 'rider').attach('other', minimalMp4(), 'a.mp4'),
      400,
      'unexpected_file',
    );
    assertError(
      await h.http.post('/api/videos').field('role', 'rider').attach('video', minimalMp4(), 'a.mp4').attach('video', minimalMp4(), 'b.mp4'),
      400,
      'unexpected_file',
    );
    assertError(await h.http.post('/api/videos').send({ role: 'rider' }), 415, 'unsupported_media_type');
    assertError(
      await h.http.post('/api/videos').set('content-type', 'multipart/form-data').send('garbage'),
      400,
      'invalid_multipart',
    );
    await assertNothingStored();
  });

  it('never uses the client file name as a path', async () => {
    // fetch's FormData sends the name verbatim (supertest's form-data would basename it first).
    const form = new FormData();
    form.append('role', 'rider');
    form.append('video', new Blob([minimalMp4()]), '../../etc/..\\evil.mp4');
    const answer = await fetch(`${h.url}/api/videos`, { method: 'POST', body: form, headers: h.session.headers });
    assert.equal(answer.status, 202, await answer.clone().text());
    const res = { body: (await answer.json()) as { videoId: string; jobId: string } };
    assert.deepEqual(await readdir(h.uploadDir), [], 'nothing on the disk: the original is in GridFS');
    const stored = await h.api.media.files.findOne({ 'metadata.videoId': new ObjectId(res.body.videoId) });
    assert.equal(stored?.filename, `${res.body.videoId}.mp4`, 'stored under our own name');
    const video = await h.http.get(`/api/videos/${res.body.videoId}`);
    assert.equal(video.body.originalName, 'evil.mp4');
    assert.equal((await h.http.delete(`/api/videos/${res.body.videoId}`)).status, 204);
  });

  it('answers 413 for an announced oversize upload before reading it', async () => {
    const big = Buffer.concat([minimalMp4(), Buffer.alloc(4 * 1024 * 1024)]);
    const res = await h.upload(big).catch((err) => err.response ?? err);
    assert.equal(res.status, 413, String(res));
    assert.equal(res.body.error, 'too_large');
    await assertNothingStored();
  });

  it('answers 413 for a chunked upload as soon as it crosses the limit, without reading all of it', async () => {
    const port = Number(new URL(h.url).port);
    const boundary = 'xBOUNDARYx';
    const result = await new Promise<{ status: number; body: string; sentBytes: number }>((resolve, reject) => {
      let sentBytes = 0;
      let responded = false;
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/videos', headers: { ...h.session.headers, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } },
        (res) => {
          responded = true;
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sentBytes }));
        },
      );
      req.on('error', (err) => (responded ? undefined : reject(err)));
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="role"\r\n\r\nrider\r\n`);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="video"; filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
      req.write(minimalMp4());
      const chunk = Buffer.alloc(256 * 1024, 1);
      // Offer up to 64 MB, 256 KB at a time, stopping as soon as the server has answered.
      const pump = () => {
        if (responded || sentBytes >= 64 * 1024 * 1024) return req.end();
        sentBytes += chunk.length;
        if (req.write(chunk)) setImmediate(pump);
        else req.once('drain', pump);
      };
      pump();
    });
    assert.equal(result.status, 413);
    assert.equal(JSON.parse(result.body).error, 'too_large');
    assert.ok(result.sentBytes < 32 * 1024 * 1024, `the client had to send ${result.sentBytes} bytes before the 413`);
    await new Promise((r) => setTimeout(r, 200));
    await assertNothingStored();
  });

  it('answers 400 for malformed ids and 404 for unknown ones', async () => {
    for (const path of ['/api/videos/nope', '/api/videos/123', '/api/videos/zzzzzzzzzzzzzzzzzzzzzzzz/stream', '/api/videos/%24ne/pose', '/api/videos/x/metrics', '/api/jobs/abc', '/api/jobs/abc/events']) {
      assertError(await h.http.get(path), 400, 'invalid_id');
    }
    assertError(await h.http.delete('/api/videos/not-an-id'), 400, 'invalid_id');
    const unknown = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    for (const path of [`/api/videos/${unknown}`, `/api/videos/${unknown}/stream`, `/api/videos/${unknown}/pose`, `/api/videos/${unknown}/metrics`, `/api/jobs/${unknown}`, `/api/jobs/${unknown}/events`]) {
      assertError(await h.http.get(path), 404, 'not_found');
    }
    assertError(await h.http.delete(`/api/videos/${unknown}`), 404, 'not_found');
    assertError(await h.http.get('/api/nothing-here'), 404, 'not_found');
  });

  it('keeps query operators and unexpected shapes away from MongoDB', async () => {
    assertError(await h.http.get('/api/videos?status[$ne]=x'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?role[$gt]='), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?status=done&status=failed'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?status=%24ne'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?role=admin'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?page=0'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?limit=1000'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?page=1e3'), 400, 'invalid_query');
    assertError(await h.http.get('/api/videos?sort=createdAt'), 400, 'invalid_query');
    const id = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    assertError(await h.http.get(`/api/videos/${id}/pose?from=-1`), 400, 'invalid_query');
    assertError(await h.http.get(`/api/videos/${id}/pose?from=abc`), 400, 'invalid_query');
    assertError(await h.http.get(`/api/videos/${id}/pose?from=5&to=1`), 400, 'invalid_query');
    assertError(await h.http.get(`/api/videos/${id}/pose?from[$gt]=1`), 400, 'invalid_query');
  });
});

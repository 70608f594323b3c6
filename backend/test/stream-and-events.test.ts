import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';
import { minimalMp4, minimalWebm } from './support/fixtures.js';

// Byte-exact range checks use /original (from GridFS): /stream switches to the rendition once the worker's ingest made it.
describe('range streaming', () => {
  let h: Harness;
  let videoId: string;
  let bytes: Buffer;
  before(async () => {
    h = await startHarness();
    bytes = minimalMp4(1000);
    const res = await h.upload(bytes);
    videoId = res.body.videoId;
  });
  after(async () => {
    await h?.close();
  });

  const get = (range?: string) => {
    const req = h.http.get(`/api/videos/${videoId}/original`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    return range ? req.set('Range', range) : req;
  };

  it('serves the whole file with 200 and Accept-Ranges', async () => {
    const res = await get();
    assert.equal(res.status, 200);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.equal(res.headers['content-type'], 'video/mp4');
    assert.equal(Number(res.headers['content-length']), bytes.length);
    assert.ok(Buffer.compare(res.body, bytes) === 0);
  });

  it('serves byte ranges with 206 and Content-Range', async () => {
    const first = await get('bytes=0-99');
    assert.equal(first.status, 206);
    assert.equal(first.headers['content-range'], `bytes 0-99/${bytes.length}`);
    assert.equal(Number(first.headers['content-length']), 100);
    assert.ok(Buffer.compare(first.body, bytes.subarray(0, 100)) === 0);

    const open = await get('bytes=1000-');
    assert.equal(open.status, 206);
    assert.equal(open.headers['content-range'], `bytes 1000-${bytes.length - 1}/${bytes.length}`);
    assert.ok(Buffer.compare(open.body, bytes.subarray(1000)) === 0);

    const suffix = await get('bytes=-10');
    assert.equal(suffix.status, 206);
    assert.ok(Buffer.compare(suffix.body, bytes.subarray(bytes.length - 10)) === 0);

    const clipped = await get(`bytes=10-${bytes.length + 5000}`);
    assert.equal(clipped.status, 206);
    assert.equal(clipped.headers['content-range'], `bytes 10-${bytes.length - 1}/${bytes.length}`);
  });

  it('answers 416 with Content-Range: bytes */size for unsatisfiable ranges', async () => {
    for (const range of [`bytes=${bytes.length}-`, `bytes=${bytes.length + 10}-${bytes.length + 20}`, 'bytes=-0']) {
      const res = await h.http.get(`/api/videos/${videoId}/original`).set('Range', range);
      assert.equal(res.status, 416, range);
      assert.equal(res.headers['content-range'], `bytes */${bytes.length}`);
      assert.equal(res.body.error, 'range_not_satisfiable');
    }
  });

  it('ignores malformed and multi-part ranges and sends the whole file', async () => {
    for (const range of ['bytes=5-2', 'items=0-1', 'bytes=0-1,5-6']) {
      const res = await get(range);
      assert.equal(res.status, 200, range);
      assert.equal(res.body.length, bytes.length);
    }
  });

  it('revalidates with ETag (304) and honours If-Range: a stale validator gets the whole file', async () => {
    const first = await get('bytes=0-9');
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[0-9a-f]{64}"$/, 'the sha256 of the upload');
    assert.equal(first.headers['cache-control'], 'private, max-age=0');
    const fresh = await h.http.get(`/api/videos/${videoId}/original`).set('If-None-Match', etag);
    assert.equal(fresh.status, 304);
    assert.equal(fresh.headers.etag, etag);
    const listed = await h.http.get(`/api/videos/${videoId}/original`).set('If-None-Match', `"other", ${etag}`);
    assert.equal(listed.status, 304);
    const same = await get('bytes=10-19').set('If-Range', etag);
    assert.equal(same.status, 206);
    assert.ok(Buffer.compare(same.body, bytes.subarray(10, 20)) === 0);
    const stale = await get('bytes=10-19').set('If-Range', '"an-older-version"');
    assert.equal(stale.status, 200);
    assert.equal(stale.body.length, bytes.length);
  });

  it('answers HEAD with the headers only, and reads only the asked range from GridFS across chunk boundaries', async () => {
    const head = await h.http.head(`/api/videos/${videoId}/original`).set('Range', 'bytes=100-199');
    assert.equal(head.status, 206);
    assert.equal(head.headers['content-length'], '100');
    // GridFS stores 255 KiB chunks: a range straddling the first boundary.
    const big = minimalMp4(600_000);
    const up = await h.upload(big);
    const boundary = 255 * 1024;
    const res = await h.http.get(`/api/videos/${up.body.videoId}/original`).set('Range', `bytes=${boundary - 5}-${boundary + 4}`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(res.status, 206);
    assert.ok(Buffer.compare(res.body, big.subarray(boundary - 5, boundary + 5)) === 0);
  });

  it('serves webm with its own content type', async () => {
    const up = await h.upload(minimalWebm());
    const res = await h.http.get(`/api/videos/${up.body.videoId}/original`).set('Range', 'bytes=0-3');
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-type'], 'video/webm');
  });
});

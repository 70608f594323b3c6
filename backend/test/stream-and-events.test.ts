import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';
import { minimalMp4, minimalWebm } from './support/fixtures.js';

/** Reads a Server-Sent Events stream until the server ends it. */
async function readEvents(url: string, headers: Record<string, string>, timeoutMs = 15_000): Promise<{ event: string; data: any }[]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await res.text(); // resolves only when the server closes the stream
  return text
    .split('\n\n')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return event && data ? { event, data: JSON.parse(data) } : null;
    })
    .filter((e): e is { event: string; data: any } => e !== null);
}

// Byte-exact range checks use /original: /stream switches to the rendition once the job's ingest made it.
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

  it('serves webm with its own content type', async () => {
    const up = await h.upload(minimalWebm());
    const res = await h.http.get(`/api/videos/${up.body.videoId}/original`).set('Range', 'bytes=0-3');
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-type'], 'video/webm');
  });
});

describe('job events (SSE)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ pose: { delayMs: 300 } });
  });
  after(async () => {
    await h?.close();
  });

  it('streams state changes from queued/running to done and then ends', async () => {
    const res = await h.upload(minimalMp4(3));
    const events = await readEvents(`${h.url}/api/jobs/${res.body.jobId}/events`, h.session.headers);
    assert.ok(events.length >= 2, JSON.stringify(events));
    assert.ok(events.every((e) => e.event === 'job' && e.data.id === res.body.jobId));
    const states = events.map((e) => e.data.state);
    assert.equal(states.at(-1), 'done');
    assert.ok(states.includes('running'), `saw ${states.join(',')}`);
    const progress = events.map((e) => e.data.progress);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
    assert.equal(progress.at(-1), 1);
  });

  it('sends the final state once and ends for a job that is already done', async () => {
    const res = await h.upload(minimalMp4(4));
    await h.waitForJob(res.body.jobId, ['done']);
    const events = await readEvents(`${h.url}/api/jobs/${res.body.jobId}/events`, h.session.headers);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.data.state, 'done');
  });

  it('reports failed with the reason and ends', async () => {
    h.pose.failNext(422);
    const res = await h.upload(minimalMp4(5));
    const events = await readEvents(`${h.url}/api/jobs/${res.body.jobId}/events`, h.session.headers);
    const last = events.at(-1)!;
    assert.equal(last.data.state, 'failed');
    assert.match(last.data.errorDetail, /422/);
    assert.doesNotMatch(last.data.error, /422/);
  });

  it('ends with a deleted event when the job is deleted', async () => {
    h.pose.delayMs = 1500;
    try {
      const res = await h.upload(minimalMp4(6));
      const pending = readEvents(`${h.url}/api/jobs/${res.body.jobId}/events`, h.session.headers);
      await h.waitForJob(res.body.jobId, ['running']);
      await h.http.delete(`/api/videos/${res.body.videoId}`).expect(204);
      const events = await pending;
      assert.equal(events.at(-1)!.event, 'deleted');
    } finally {
      h.pose.delayMs = 300;
    }
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import { MongoClient, ObjectId } from 'mongodb';
import type { Collections } from '../src/db.js';
import { claimSegment, EMPTY_SUMMARY, failJob, finishJob, finishSegment, ingest, registerWorker } from './support/asWorker.js';
import { minimalMp4 } from './support/fixtures.js';
import { startHarness, type Harness } from './support/harness.js';

/*
 * The API's side of the work queue (issue 14): what an upload creates, the Job JSON's queue fields, partial pose
 * frames, split metrics, retry, delete during analysis, and the SSE stream. The worker's side is played by writing
 * the documents a pose worker writes (support/asWorker.ts), so each step happens exactly when the test says; the
 * same flow with the real Python worker is in pose-worker-flow.test.ts.
 */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Reads a Server-Sent Events stream until the server ends it. */
async function readEvents(url: string, headers: Record<string, string>, timeoutMs = 20_000): Promise<{ event: string; data: any }[]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  assert.equal(res.status, 200);
  const text = await res.text();
  return text
    .split('\n\n')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return event && data ? { event, data: JSON.parse(data) } : null;
    })
    .filter((e): e is { event: string; data: any } => e !== null);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work queue: the API side', () => {
  let h: Harness;
  let c: Collections;
  before(async () => {
    h = await startHarness();
    c = h.api.db.collections;
  });
  after(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    // Each test sets up its own queue.
    await Promise.all([c.jobs.deleteMany({}), c.tasks.deleteMany({}), c.workers.deleteMany({}), c.videos.deleteMany({})]);
  });

  async function upload(n: number) {
    const res = await h.upload(minimalMp4(n));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return { videoId: new ObjectId(res.body.videoId as string), jobId: new ObjectId(res.body.jobId as string), bytes: minimalMp4(n) };
  }
  const jobJson = async (jobId: ObjectId) => (await h.http.get(`/api/jobs/${jobId.toHexString()}`)).body;

  it('stores an upload in GridFS and queues a job with one ingest task, leaving nothing on the local disk', async () => {
    const { videoId, jobId, bytes } = await upload(1);
    const video = (await c.videos.findOne({ _id: videoId }))!;
    assert.ok(video.originalFileId instanceof ObjectId);
    assert.equal(video.storedName, undefined);
    const file = await h.api.media.find(video.originalFileId!);
    assert.equal(file?.length, bytes.length);
    assert.deepEqual(file?.metadata, { videoId, kind: 'original', contentType: 'video/mp4', sha256: sha(bytes) });
    assert.equal((await h.api.media.digest(video.originalFileId!)).sha256, sha(bytes));

    const job = (await c.jobs.findOne({ _id: jobId }))!;
    assert.equal(job.state, 'queued');
    assert.equal(job.stage, 'ingest');
    assert.equal(job.progress, 0);
    assert.equal(job.attempts, 0);
    assert.equal(job.framesTotal, null);
    const tasks = await c.tasks.find({ jobId }).toArray();
    assert.equal(tasks.length, 1);
    const [task] = tasks;
    assert.equal(task!.kind, 'ingest');
    assert.equal(task!.state, 'queued');
    assert.equal(task!.seq, 0);
    assert.ok(task!.videoId.equals(videoId));
    assert.equal(task!.priority.getTime(), job.createdAt.getTime(), 'FIFO across jobs: priority is the job\'s createdAt');
    assert.ok(task!.runAfter.getTime() <= Date.now());
    assert.deepEqual([task!.attempts, task!.lost, task!.workerId, task!.leaseUntil], [0, 0, null, null]);
    assert.deepEqual(await readdir(h.uploadDir), [], 'no stored file, no temp file');

    const json = await jobJson(jobId);
    assert.deepEqual(
      { stage: json.stage, framesDone: json.framesDone, framesTotal: json.framesTotal, segments: json.segments, waiting: json.waiting, queuePosition: json.queuePosition, etaS: json.etaS, partial: json.partial },
      { stage: 'ingest', framesDone: 0, framesTotal: null, segments: { total: null, done: 0, running: 0 }, waiting: 'workers', queuePosition: 1, etaS: null, partial: false },
    );
  });

  it('computes queue positions, waiting and ETA from the live workers and the frames ahead', async () => {
    const a = await upload(2);
    const b = await upload(3);
    const d = await upload(4);
    assert.equal((await jobJson(b.jobId)).waiting, 'workers', 'no worker yet');
    await registerWorker(c, 'w1', 25);
    await registerWorker(c, 'w2', 25);
    await registerWorker(c, 'w-dead', 1000, new Date(Date.now() - 11_000)); // heartbeat too old: not live
    await ingest(c, h.api.media, a.jobId, 600, 3);
    await claimSegment(c, a.jobId, 1);
    await claimSegment(c, a.jobId, 2);
    await finishSegment(c, a.jobId, 1);

    const ja = await jobJson(a.jobId);
    assert.equal(ja.state, 'running');
    assert.equal(ja.stage, 'analysis');
    assert.deepEqual([ja.framesDone, ja.framesTotal, ja.progress], [200, 600, 200 / 600]);
    assert.deepEqual(ja.segments, { total: 3, done: 1, running: 1 });
    assert.equal(ja.queuePosition, null, 'running jobs have no queue position');
    assert.equal(ja.waiting, null);
    assert.equal(ja.partial, true);
    assert.equal(ja.etaS, 8); // 400 frames left / (25 + 25) frames per second
    const jb = await jobJson(b.jobId);
    const jd = await jobJson(d.jobId);
    assert.deepEqual([jb.queuePosition, jd.queuePosition], [1, 2]);
    // Not planned yet: each counts as the typical planned job (600 frames).
    assert.equal(jb.etaS, 20); // (400 + 600) / 50
    assert.equal(jd.etaS, 32); // (400 + 600 + 600) / 50
    // The list carries the same Job JSON.
    const list = (await h.http.get('/api/videos')).body.items as { job: { id: string; queuePosition: number | null } }[];
    assert.equal(list.find((v) => v.job.id === d.jobId.toHexString())?.job.queuePosition, 2);

    // Every worker gone (heartbeats stale): the jobs say they wait for workers, and no ETA is made up.
    await c.workers.updateMany({}, { $set: { heartbeatAt: new Date(Date.now() - 60_000) } });
    const waiting = await jobJson(a.jobId);
    assert.deepEqual([waiting.waiting, waiting.etaS], ['workers', null]);
  });

  it('serves the pose frames of finished segments while the job runs, then all of them', async () => {
    const a = await upload(5);
    assert.equal((await h.http.get(`/api/videos/${a.videoId}/pose`)).status, 409, 'nothing to read before any segment');
    await ingest(c, h.api.media, a.jobId, 300, 3);
    await finishSegment(c, a.jobId, 2); // segments finish in any order
    const partial = await h.http.get(`/api/videos/${a.videoId}/pose`);
    assert.equal(partial.status, 200);
    assert.equal(partial.body.partial, true);
    assert.equal(partial.headers['cache-control'], 'no-store', 'a running analysis is read fresh every time');
    assert.deepEqual(partial.body.frames.map((f: { index: number }) => f.index), Array.from({ length: 100 }, (_, i) => 100 + i));
    const window = await h.http.get(`/api/videos/${a.videoId}/pose?from=3.5&to=4`);
    assert.ok(window.body.frames.every((f: { t: number }) => f.t >= 3.5 && f.t <= 4) && window.body.frames.length === 16);
    assert.equal((await h.http.get(`/api/videos/${a.videoId}/metrics`)).status, 409, 'metrics only once done');
    await finishSegment(c, a.jobId, 1);
    await finishSegment(c, a.jobId, 3);
    await finishJob(c, a.jobId, { series: { t: [0], a: [1], smoothed: { a: [1] } }, summary: {} });
    const done = await h.http.get(`/api/videos/${a.videoId}/pose`);
    assert.equal(done.body.partial, false);
    assert.equal(done.body.frames.length, 300);
    assert.equal(done.body.riderTrackId, 1);
    // The web app's windows (issue 18/10): inclusive on both edges, cacheable once done; bad windows are refused.
    const w1 = await h.http.get(`/api/videos/${a.videoId}/pose?from=5&to=10`);
    const ts = w1.body.frames.map((f: { t: number }) => f.t);
    assert.ok(ts.length > 100 && ts.every((t: number) => t >= 5 && t <= 10), `frames of 5-10 s only (${ts.length})`);
    assert.ok(ts.includes(5), 'the frame on the edge is in the window');
    assert.deepEqual(ts, [...ts].sort((x: number, y: number) => x - y));
    assert.equal(w1.headers['cache-control'], 'private, max-age=86400');
    const w0 = await h.http.get(`/api/videos/${a.videoId}/pose?from=0&to=5`);
    assert.equal(w0.body.frames.length + ts.length - 1, 300, 'two windows cover the clip, their shared edge frame once');
    assert.equal((await h.http.get(`/api/videos/${a.videoId}/pose?from=-1`)).status, 400);
    assert.equal((await jobJson(a.jobId)).partial, false);
  });

  it('reassembles split metrics into the JSON of one document, and still reads old single documents', async () => {
    const a = await upload(6);
    await ingest(c, h.api.media, a.jobId, 100, 1);
    await finishSegment(c, a.jobId, 1);
    const n = 2_345; // three metric_series chunks of 1,000 frames
    const keys = ['left_knee_angle', 'right_knee_angle', 'cumulative_rotation'];
    const col = (k: number) => Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : k * 1000 + i / 3));
    const metrics = {
      series: { t: Array.from({ length: n }, (_, i) => i / 30), ...Object.fromEntries(keys.map((k, j) => [k, col(j)])), smoothed: Object.fromEntries(keys.map((k, j) => [k, col(j + 10)])) },
      summary: { ...EMPTY_SUMMARY, max_rotation_deg: 540, frames_analysed: n, airborne_segments: [{ start_s: 1, end_s: 1.5 }] },
    };
    await finishJob(c, a.jobId, metrics);
    assert.equal(await c.metricSeries.countDocuments({ videoId: a.videoId }), 3);
    const res = await h.http.get(`/api/videos/${a.videoId}/metrics`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, metrics);
    assert.deepEqual(Object.keys(res.body.series), ['t', ...keys, 'smoothed'], 'the keys in the order of one document');

    // A missing chunk (a finish still writing, say) is not served half.
    await c.metricSeries.deleteOne({ videoId: a.videoId, chunk: 1 });
    assert.equal((await h.http.get(`/api/videos/${a.videoId}/metrics`)).status, 409);

    // The shape written before the split: one document with the whole JSON.
    await c.metricSeries.deleteMany({ videoId: a.videoId });
    // (A summary from before issue 18: no frames_seen, joint_score_min or unavailable; the contract allows that.)
    const { frames_seen: _seen, joint_score_min: _min, unavailable: _why, ...before18 } = EMPTY_SUMMARY;
    const old = { series: { t: [0, 0.1], smoothed: {} }, summary: { ...before18, frames_analysed: 2 } };
    await c.metrics.replaceOne({ _id: a.videoId }, { metrics: old });
    assert.deepEqual((await h.http.get(`/api/videos/${a.videoId}/metrics`)).body, old);
  });

  it('retries a failed job from the kept upload: attempts reset, a new ingest task, results of the failed run gone', async () => {
    const a = await upload(7);
    await ingest(c, h.api.media, a.jobId, 200, 2);
    await finishSegment(c, a.jobId, 1);
    assert.equal((await h.http.post(`/api/videos/${a.videoId}/retry`)).status, 409, 'a running job is not retried');
    await failJob(c, a.jobId, 'undecodable', 'segment 2: decoder error at frame 150');
    const failed = await jobJson(a.jobId);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error, /^This file is damaged or is not a video we can read\./);
    assert.equal(failed.errorDetail, 'segment 2: decoder error at frame 150');

    const res = await h.http.post(`/api/videos/${a.videoId}/retry`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body, { videoId: a.videoId.toHexString(), jobId: a.jobId.toHexString() });
    const job = await jobJson(a.jobId);
    assert.deepEqual(
      [job.state, job.stage, job.progress, job.attempts, job.error, job.errorDetail, job.framesDone, job.framesTotal, job.segments.total],
      ['queued', 'ingest', 0, 0, null, null, 0, null, null],
    );
    const tasks = await c.tasks.find({ jobId: a.jobId }).toArray();
    assert.deepEqual(tasks.map((t) => [t.kind, t.state]), [['ingest', 'queued']]);
    assert.equal(await c.frames.countDocuments({ videoId: a.videoId }), 0);
    assert.equal((await h.http.get(`/api/videos/${a.videoId}`)).body.status, 'queued');
    const original = await h.http.get(`/api/videos/${a.videoId}/original`).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (ch: Buffer) => chunks.push(ch));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(sha(original.body as Buffer), sha(a.bytes), 'the upload is kept byte for byte');

    const again = await h.http.post(`/api/videos/${a.videoId}/retry`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error, 'not_failed');
    assert.equal((await h.http.post(`/api/videos/${new ObjectId().toHexString()}/retry`)).status, 404);
    assert.equal((await h.http.post('/api/videos/nope/retry')).status, 400);
  });

  it('deletes a video during analysis: its tasks, media files, frames, metrics and job are gone', async () => {
    const a = await upload(8);
    const keep = await upload(9);
    await ingest(c, h.api.media, a.jobId, 300, 3);
    await claimSegment(c, a.jobId, 2);
    await finishSegment(c, a.jobId, 1);
    await c.metricSeries.insertOne({ videoId: a.videoId, chunk: 0, t: [0], series: {}, smoothed: {} });
    assert.equal(await h.api.media.files.countDocuments({ 'metadata.videoId': a.videoId }), 4, 'original, rendition, poster, sprite');
    const fileIds = (await h.api.media.files.find({ 'metadata.videoId': a.videoId }).toArray()).map((f) => f._id);

    assert.equal((await h.http.delete(`/api/videos/${a.videoId}`)).status, 204);
    assert.equal(await c.tasks.countDocuments({ videoId: a.videoId }), 0, 'the running segment\'s task is gone: its worker stops');
    assert.equal(await h.api.media.files.countDocuments({ 'metadata.videoId': a.videoId }), 0);
    assert.equal(await h.api.media.chunks.countDocuments({ files_id: { $in: fileIds } }), 0);
    assert.equal(await c.frames.countDocuments({ videoId: a.videoId }), 0);
    assert.equal(await c.metricSeries.countDocuments({ videoId: a.videoId }), 0);
    assert.equal(await c.jobs.countDocuments({ videoId: a.videoId }), 0);
    assert.equal((await h.http.get(`/api/videos/${a.videoId}`)).status, 404);
    assert.equal((await h.http.get(`/api/jobs/${a.jobId}`)).status, 404);
    // The other video is untouched.
    assert.equal(await c.tasks.countDocuments({ videoId: keep.videoId }), 1);
    assert.equal((await h.http.get(`/api/videos/${keep.videoId}/original`)).status, 200);
  });

  it('streams monotone progress over SSE as segments finish, with ≥ 5 steps, and ends at done', async () => {
    await registerWorker(c, 'w1', 30);
    const a = await upload(10);
    const events = readEvents(`${h.url}/api/jobs/${a.jobId}/events`, h.session.headers);
    await sleep(300);
    await ingest(c, h.api.media, a.jobId, 500, 5);
    for (let seq = 1; seq <= 5; seq++) {
      await sleep(250); // longer than SSE_POLL_MS (200): each step is seen
      await claimSegment(c, a.jobId, seq);
      await sleep(250);
      await finishSegment(c, a.jobId, seq);
    }
    await sleep(250);
    await finishJob(c, a.jobId, { series: { t: [0], a: [1], smoothed: { a: [1] } }, summary: {} });
    const seen = await events;
    assert.ok(seen.every((e) => e.event === 'job'));
    const progress = seen.map((e) => e.data.progress as number);
    assert.deepEqual(progress, [...progress].sort((x, y) => x - y), `progress went backwards: ${progress}`);
    assert.deepEqual([...new Set(progress)], [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.equal(seen.at(-1)!.data.state, 'done');
    assert.deepEqual([...new Set(seen.map((e) => e.data.stage))], ['ingest', 'analysis', null]);
    assert.ok(seen.some((e) => e.data.segments.running === 1), 'a running segment is visible');
    assert.ok(seen.some((e) => e.data.partial === true));
    const frames = seen.map((e) => e.data.framesDone as number);
    assert.deepEqual(frames, [...frames].sort((x, y) => x - y));
  });

  it('ends the stream with `deleted` when the video is deleted, and with the rider\'s words when the job fails', async () => {
    const a = await upload(11);
    const pending = readEvents(`${h.url}/api/jobs/${a.jobId}/events`, h.session.headers);
    await sleep(300);
    assert.equal((await h.http.delete(`/api/videos/${a.videoId}`)).status, 204);
    assert.equal((await pending).at(-1)!.event, 'deleted');

    const b = await upload(12);
    const failing = readEvents(`${h.url}/api/jobs/${b.jobId}/events`, h.session.headers);
    await sleep(300);
    await failJob(c, b.jobId, 'no_frames', 'the sampling selected no frame of the video');
    const last = (await failing).at(-1)!;
    assert.equal(last.data.state, 'failed');
    assert.match(last.data.error, /^No frames could be read/);
    assert.equal(last.data.errorDetail, 'the sampling selected no frame of the video');
  });
});

describe('SSE with 200 subscribers', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { SSE_POLL_MS: '250' } });
  });
  after(async () => {
    await h?.close();
  });

  it('reads MongoDB per poll, not per subscriber (measured at the server)', async () => {
    const c = h.api.db.collections;
    const now = new Date();
    const ownerId = h.session.user.id ? new ObjectId(h.session.user.id) : null;
    const jobIds: ObjectId[] = [];
    for (let i = 0; i < 200; i++) {
      const videoId = new ObjectId();
      const jobId = new ObjectId();
      jobIds.push(jobId);
      await c.videos.insertOne({
        _id: videoId, title: null, role: 'rider', originalName: null, originalFileId: new ObjectId(), size: 1, sha256: 'x', container: 'mp4',
        createdAt: now, status: 'queued', jobId, fps: null, durationS: null, width: null, height: null, frameCount: null, riderTrackId: null,
        ...(ownerId ? { ownerId } : {}),
      });
      await c.jobs.insertOne({ _id: jobId, videoId, state: 'queued', stage: 'ingest', progress: 0, attempts: 0, error: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null });
    }
    const admin = await new MongoClient(h.mongo.uri).connect();
    const counters = async () => (await admin.db('admin').command({ serverStatus: 1 })).opcounters as Record<string, number>;
    const measure = async (subscribers: number) => {
      const ac = new AbortController();
      const held: unknown[] = [];
      const streams = jobIds.slice(0, subscribers).map((id) =>
        fetch(`${h.url}/api/jobs/${id}/events`, { headers: h.session.headers, signal: ac.signal }).then(async (r) => {
          if (r.status !== 200) return `${r.status} ${await r.text()}`;
          // Held until the end: undici cancels a response body that gets garbage-collected.
          const reader = r.body!.getReader();
          held.push(reader);
          await reader.read();
          return 'ok';
        }, (e: Error) => String(e)),
      );
      const opened = await Promise.all(streams);
      assert.deepEqual(opened.filter((o) => o !== 'ok').slice(0, 3), []);
      await sleep(600); // every subscription is in
      const before = await counters();
      const ticks = h.api.watch.ticks;
      await sleep(3_000);
      const afterCount = await counters();
      const tickCount = h.api.watch.ticks - ticks;
      const watching = h.api.watch.subscribers;
      ac.abort();
      held.length = 0;
      await sleep(300);
      const reads = afterCount.query! + afterCount.getmore! - before.query! - before.getmore!;
      return { subscribers: watching, reads, tickCount, readsPerTick: reads / Math.max(1, tickCount) };
    };
    const one = await measure(1);
    const many = await measure(200);
    admin.close();
    console.log(`SSE load: ${JSON.stringify({ one, many })}`);
    assert.ok(many.tickCount >= 8 && many.tickCount <= 16, `about one tick per 250 ms: ${many.tickCount}`);
    assert.deepEqual([one.subscribers, many.subscribers], [1, 200]);
    // Per tick: the subscribed jobs ($in), live workers, unfinished jobs, running tasks (+ a getMore past 101 jobs);
    // one more tick's worth for a tick straddling the window's edge. A read per subscriber would be 200+ per tick.
    assert.ok(many.reads <= (many.tickCount + 1) * 6, `200 subscribers: ${many.reads} reads in ${many.tickCount} ticks`);
    assert.ok(many.reads <= one.reads * 1.5, `200 subscribers cost ${many.reads} reads, one costs ${one.reads}`);
  });
});

describe('SSE while MongoDB is down', { skip: process.env.MONGODB_TEST_URI ? 'a server given by MONGODB_TEST_URI cannot be restarted by the test' : false }, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('says the job waits for the database, then goes on when it is back', async () => {
    const up = await h.upload(minimalMp4(61));
    const res = await fetch(`${h.url}/api/jobs/${up.body.jobId}/events`, { headers: h.session.headers, signal: AbortSignal.timeout(60_000) });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const waitForEvent = async (match: (job: any) => boolean) => {
      for (;;) {
        const jobs = [...text.matchAll(/^event: job\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
        const hit = jobs.find(match);
        if (hit) return hit;
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(value);
      }
    };
    assert.equal((await waitForEvent(() => true)).waiting, 'workers');
    await h.mongo.stop();
    try {
      const down = await waitForEvent((j) => j.waiting === 'database');
      assert.equal(down.state, 'queued');
    } finally {
      await h.mongo.restart();
    }
    text = '';
    assert.equal((await waitForEvent((j) => j.waiting === 'workers')).state, 'queued', 'back to the real state once MongoDB answers');
    await reader.cancel();
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import type { Collections } from '../src/db.js';
import { failJob } from './support/asWorker.js';
import { minimalMov, minimalMp4, minimalWebm } from './support/fixtures.js';
import { startHarness, type Harness } from './support/harness.js';
import { personClip, startPoseWorker, type PoseWorker } from './support/poseWorker.js';

/*
 * The whole flow with the REAL pose worker (python -m pose_service.worker, MediaPipe on the CPU) against the same
 * SecantusDB: upload → job + ingest task → the worker's ingest (rendition, poster, sprite into GridFS) → segments
 * → finish → results served by the API; retry of a failed job; delete during analysis.
 */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bytesOf(req: import('supertest').Test) {
  return req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
}

/** Every `job` event of a job's SSE stream until the server ends it. */
async function jobEvents(url: string, headers: Record<string, string>): Promise<any[]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(240_000) });
  const text = await res.text();
  return [...text.matchAll(/^event: job\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!));
}

/** The same clip with `n` bytes of a trailing `free` box: distinct bytes (and sha256), same frames. */
function variant(clip: Buffer, n: number): Buffer {
  const box = Buffer.alloc(8 + n, 0);
  box.writeUInt32BE(8 + n, 0);
  box.write('free', 4, 'latin1');
  return Buffer.concat([clip, box]);
}

describe('upload → the real pose worker → results → retry → delete', () => {
  let h: Harness;
  let c: Collections;
  let worker: PoseWorker | null = null;
  before(async () => {
    h = await startHarness({ env: { MAX_UPLOAD_MB: '20' } });
    c = h.api.db.collections;
  });
  after(async () => {
    if (worker && process.env.TEST_LOG) console.log(worker.output());
    await worker?.stop();
    await h?.close();
  });
  const startWorker = async () => {
    worker ??= await startPoseWorker(h.mongo.uri, h.config.mongodbDb);
  };

  it('retries a failed job from the kept upload, and the worker then analyses it to done', async () => {
    const bytes = minimalMp4(31);
    const up = await h.upload(bytes, { name: 'retry me.mp4' });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const jobId = new ObjectId(up.body.jobId as string);
    // What a worker writes after the video's third failed attempt (no worker runs yet, so nothing races it).
    await failJob(c, jobId, 'undecodable', 'ingest: decoder error (attempt 3 of 3)');
    await startWorker();
    await sleep(1500);
    const failed = (await h.http.get(`/api/jobs/${jobId}`)).body;
    assert.equal(failed.state, 'failed', 'a failed job stays failed until the rider retries');
    assert.match(failed.error, /^This file is damaged/);

    const retry = await h.http.post(`/api/videos/${up.body.videoId}/retry`);
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    const done = await h.waitForJob(up.body.jobId, ['done', 'failed'], 120_000);
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.equal(done.attempts, 0);
    assert.equal(done.error, null);
    const original = await bytesOf(h.http.get(`/api/videos/${up.body.videoId}/original`));
    assert.equal(sha(original.body), sha(bytes), 'the original is the upload, byte for byte');
    const video = (await h.http.get(`/api/videos/${up.body.videoId}`)).body;
    assert.equal(video.renditionReady, true);
    assert.equal(video.probe.source, 'ingest');
  });

  it('analyses a clip in segments with monotone progress, then serves rendition, poster, sprite, pose and metrics from the store', async () => {
    await startWorker();
    const bytes = await personClip(5); // 150 frames: two segments of the 100-frame grid
    const up = await h.upload(bytes, { name: 'Kicker – take 1.mp4', title: 'Kicker' });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const { videoId, jobId } = up.body as { videoId: string; jobId: string };
    const seen = await jobEvents(`${h.url}/api/jobs/${jobId}/events`, h.session.headers);
    const last = seen.at(-1)!;
    assert.equal(last.state, 'done', JSON.stringify(last));
    const progress = seen.map((e) => e.progress as number);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), `progress went backwards: ${progress}`);
    assert.ok(new Set(progress).size >= 3, `progress steps: ${[...new Set(progress)]}`);
    assert.ok(seen.some((e) => e.stage === 'analysis' && e.partial === true), 'partial results were announced before done');
    assert.deepEqual([last.framesDone, last.framesTotal, last.segments], [150, 150, { total: 2, done: 2, running: 0 }]);
    assert.deepEqual([last.stage, last.waiting, last.queuePosition, last.etaS], [null, null, null, null]);

    const video = (await h.http.get(`/api/videos/${videoId}`)).body;
    assert.equal(video.status, 'done');
    assert.deepEqual([video.width, video.height, video.fps], [320, 320, 30]);
    assert.equal(video.renditionReady, true);
    const doc = (await c.videos.findOne({ _id: new ObjectId(videoId) }))!;
    for (const kind of ['rendition', 'poster', 'sprite'] as const) {
      const file = await h.api.media.find(doc[kind]!.fileId!);
      assert.equal(file?.metadata?.kind, kind, `${kind} is in GridFS`);
    }

    const stream = await bytesOf(h.http.get(`/api/videos/${videoId}/stream`).set('Range', 'bytes=0-1023'));
    assert.equal(stream.status, 206);
    assert.equal(stream.headers['content-type'], 'video/mp4');
    assert.equal(Number(String(stream.headers['content-range']).split('/')[1]), doc.rendition!.size, 'the rendition');
    assert.equal(stream.body.length, 1024);
    const original = await bytesOf(h.http.get(`/api/videos/${videoId}/original`));
    assert.equal(sha(original.body), sha(bytes));
    for (const kind of ['poster', 'sprite']) {
      const img = await bytesOf(h.http.get(`/api/videos/${videoId}/${kind}`));
      assert.equal(img.status, 200, kind);
      assert.equal(img.headers['content-type'], 'image/jpeg');
      assert.deepEqual([...img.body.subarray(0, 3)], [0xff, 0xd8, 0xff]);
      assert.equal((await h.http.get(`/api/videos/${videoId}/${kind}`).set('If-None-Match', String(img.headers.etag))).status, 304);
    }

    const pose = (await h.http.get(`/api/videos/${videoId}/pose`)).body;
    assert.equal(pose.partial, false);
    assert.deepEqual(pose.frames.map((f: { index: number }) => f.index), Array.from({ length: 150 }, (_, i) => i));
    const withRider = pose.frames.filter((f: { persons: { track_id: number }[] }) => f.persons.some((p) => p.track_id === pose.riderTrackId));
    assert.ok(withRider.length >= 140, `the rider is found in ${withRider.length} of 150 frames`);
    assert.equal(pose.frames[0].persons[0].keypoints[0].name, 'nose');
    const metrics = (await h.http.get(`/api/videos/${videoId}/metrics`)).body;
    assert.equal(metrics.series.t.length, 150);
    assert.equal(metrics.summary.frames_analysed, 150);
    assert.equal(metrics.series.smoothed.left_knee_angle.length, 150);

    assert.equal((await h.http.delete(`/api/videos/${videoId}`)).status, 204);
    const vid = new ObjectId(videoId);
    assert.equal(await h.api.media.files.countDocuments({ 'metadata.videoId': vid }), 0);
    for (const coll of [c.frames, c.metricSeries, c.tasks, c.jobs] as const) assert.equal(await (coll as typeof c.jobs).countDocuments({ videoId: vid }), 0);
    assert.equal(await c.metrics.countDocuments({ _id: vid }), 0);
  });

  it('deleting a video during analysis frees the worker within a second and leaves nothing behind', async () => {
    await startWorker();
    const up = await h.upload(variant(await personClip(5), 11));
    const vid = new ObjectId(up.body.videoId as string);
    // Wait until a segment is being analysed.
    const deadline = Date.now() + 120_000;
    let busy: { taskId?: ObjectId | null } | null = null;
    while (Date.now() < deadline) {
      const running = await c.tasks.findOne({ videoId: vid, kind: 'segment', state: 'running' });
      busy = running ? await c.workers.findOne({ taskId: running._id }) : null;
      if (busy) break;
      await sleep(100);
    }
    assert.ok(busy, 'a worker took a segment');
    const deleted = Date.now();
    assert.equal((await h.http.delete(`/api/videos/${vid}`)).status, 204);
    while ((await c.workers.countDocuments({ taskId: busy!.taskId })) > 0) {
      assert.ok(Date.now() - deleted < 5_000, 'the worker let go of the deleted task');
      await sleep(50);
    }
    const freedAfterMs = Date.now() - deleted;
    console.log(`worker freed ${freedAfterMs} ms after DELETE`);
    assert.ok(freedAfterMs < 1_500, `the worker went on for ${freedAfterMs} ms`);
    await sleep(2_000); // anything it was writing has landed (and been removed by it)
    assert.equal(await h.api.media.files.countDocuments({ 'metadata.videoId': vid }), 0);
    for (const coll of [c.frames, c.metricSeries, c.tasks, c.jobs] as const) assert.equal(await (coll as typeof c.jobs).countDocuments({ videoId: vid }), 0);
    assert.equal(await c.metrics.countDocuments({ _id: vid }), 0);
  });
});

describe('uploads and the library (no worker: jobs stay queued)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('recognises mov and webm from their bytes and stores them byte for byte', async () => {
    for (const [bytes, name, container] of [[minimalMov(), 'a.mov', 'mov'], [minimalWebm(), 'b.webm', 'webm']] as const) {
      const res = await h.upload(bytes, { name, role: 'reference' });
      assert.equal(res.status, 202);
      const video = (await h.http.get(`/api/videos/${res.body.videoId}`)).body;
      assert.equal(video.container, container);
      const original = await bytesOf(h.http.get(`/api/videos/${res.body.videoId}/original`));
      assert.equal(sha(original.body), sha(bytes));
    }
    assert.deepEqual(await readdir(h.uploadDir), [], 'nothing on the local disk');
  });

  it('lists videos newest first with pagination and role/status filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await h.upload(minimalMp4(i), { title: `list ${i}` })).body.videoId);
    const page1 = await h.http.get('/api/videos?page=1&limit=2');
    assert.equal(page1.status, 200);
    assert.deepEqual([page1.body.page, page1.body.limit, page1.body.total], [1, 2, 5]);
    assert.deepEqual(page1.body.items.map((v: { id: string }) => v.id), [ids[2], ids[1]]);
    const page2 = await h.http.get('/api/videos?page=2&limit=2');
    assert.deepEqual(page2.body.items.map((v: { id: string }) => v.id), [ids[0], page2.body.items[1].id]);
    assert.equal((await h.http.get('/api/videos?page=3&limit=2')).body.items.length, 1);
    const refs = await h.http.get('/api/videos?role=reference');
    assert.equal(refs.body.total, 2);
    const queued = await h.http.get('/api/videos?role=rider&status=queued');
    assert.equal(queued.body.total, 3);
    assert.ok(queued.body.items.every((v: { job: { state: string; waiting: string } }) => v.job.state === 'queued' && v.job.waiting === 'workers'));
    assert.deepEqual((await h.http.get('/api/videos?status=failed')).body.items, []);
  });

  it('lets exactly one of several concurrent deletes succeed', async () => {
    const res = await h.upload(minimalMp4(9));
    const results = await Promise.all(Array.from({ length: 5 }, () => h.http.delete(`/api/videos/${res.body.videoId}`)));
    assert.deepEqual(results.map((r) => r.status).sort(), [204, 404, 404, 404, 404]);
    for (const r of results.filter((r) => r.status === 404)) assert.equal(r.body.error, 'not_found');
  });
});

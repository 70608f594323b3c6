import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import type { Collections } from '../src/db.js';
import { claimSegment, EMPTY_SUMMARY, finishJob, finishSegment, frameFor, ingest } from './support/asWorker.js';
import { FakePoseService } from './support/fakePoseService.js';
import { minimalMp4 } from './support/fixtures.js';
import { conforms } from './support/conforms.js';
import { startHarness, type Harness } from './support/harness.js';

/*
 * The executable contracts (docs/schemas, issue 17/5) held against the API's real answers — Video, Job (queued,
 * running with stage/progress/segments, done), pose (partial and whole), metrics and error bodies — on a real
 * SecantusDB with documents written the way the pose workers write them (support/asWorker.ts; the pose tests hold
 * the real worker's documents to the same schemas). Also: a stored document that breaks the contract answers a 500
 * naming the field, and the pose-service test double answers only what the pose service's schemas allow.
 */

describe('contracts: the API answers what docs/schemas describes', () => {
  let h: Harness;
  let c: Collections;

  before(async () => {
    h = await startHarness();
    c = h.api.db.collections;
  });
  after(async () => {
    await h?.close();
  });

  it('Video, Job, pose and metrics through a whole analysis, and the error bodies', async () => {
    const up = await h.upload(minimalMp4(11));
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const videoId = new ObjectId(up.body.videoId as string);
    const jobId = new ObjectId(up.body.jobId as string);
    const check = async (where: string) => {
      const video = await h.http.get(`/api/videos/${videoId}`);
      assert.equal(video.status, 200);
      conforms('video', video.body, `${where}: GET /api/videos/:id`);
      const job = await h.http.get(`/api/jobs/${jobId}`);
      conforms('job', job.body, `${where}: GET /api/jobs/:id`);
      const list = await h.http.get('/api/videos');
      for (const item of list.body.items) conforms('video', item, `${where}: GET /api/videos item`);
      return job.body as { state: string; stage: string | null };
    };
    assert.equal((await check('queued')).stage, 'ingest');
    const notReady = await h.http.get(`/api/videos/${videoId}/pose`);
    assert.equal(notReady.status, 409);
    conforms('error', notReady.body, 'pose while queued');

    await ingest(c, h.api.media, jobId, 200, 2);
    await claimSegment(c, jobId, 1);
    await finishSegment(c, jobId, 1);
    assert.equal((await check('running')).stage, 'analysis');
    const partial = await h.http.get(`/api/videos/${videoId}/pose`);
    assert.equal(partial.status, 200);
    assert.equal(partial.body.partial, true);
    conforms('api-pose', partial.body, 'partial pose');

    await finishSegment(c, jobId, 2);
    const t = Array.from({ length: 200 }, (_, i) => i / 30);
    const col = (v: number) => t.map((_, i) => (i % 7 === 0 ? null : v + i));
    await finishJob(c, jobId, {
      series: { t, left_knee_angle: col(90), cumulative_rotation: col(0), smoothed: { left_knee_angle: col(91), cumulative_rotation: col(1) } },
      summary: { ...EMPTY_SUMMARY, frames_analysed: 200, frames_with_rider: 180, frames_seen: { torso: 180, legs: 150, feet: 0 }, unavailable: { airtime_s: 'feet not visible', stance: 'feet not visible' } },
    });
    assert.equal((await check('done')).state, 'done');
    const pose = await h.http.get(`/api/videos/${videoId}/pose`);
    assert.equal(pose.body.frames.length, 200);
    conforms('api-pose', pose.body, 'whole pose');
    conforms('api-pose', (await h.http.get(`/api/videos/${videoId}/pose?from=1&to=2`)).body, 'pose window');
    const metrics = await h.http.get(`/api/videos/${videoId}/metrics`);
    assert.equal(metrics.status, 200);
    conforms('metrics', metrics.body, 'metrics');

    for (const [path, status] of [[`/api/videos/${new ObjectId()}`, 404], ['/api/videos/nope/metrics', 400], [`/api/videos/${videoId}/pose?from=-1`, 400]] as const) {
      const res = await h.http.get(path);
      assert.equal(res.status, status, path);
      conforms('error', res.body, path);
    }
  });

  it('a stored document that breaks the contract answers 500 naming the field, never the broken shape', async () => {
    const up = await h.upload(minimalMp4(12));
    const videoId = new ObjectId(up.body.videoId as string);
    const jobId = new ObjectId(up.body.jobId as string);
    await ingest(c, h.api.media, jobId, 100, 1);
    await finishSegment(c, jobId, 1);
    await finishJob(c, jobId, { series: { t: [0], smoothed: {} }, summary: { frames_analysed: 1 } });
    assert.equal((await h.http.get(`/api/videos/${videoId}/pose`)).status, 200);

    // A worker that wrote 16 keypoints for one person (a model with another skeleton, say).
    const good = frameFor(3, 30) as unknown as { persons: { keypoints: unknown[] }[] };
    const broken = { ...good, persons: [{ ...good.persons[0]!, keypoints: good.persons[0]!.keypoints.slice(0, 16) }] };
    await c.frames.updateOne({ videoId, chunk: 0 }, { $set: { 'frames.3': broken } });
    const pose = await h.http.get(`/api/videos/${videoId}/pose`);
    assert.equal(pose.status, 500);
    assert.equal(pose.body.error, 'stored_contract_violation');
    assert.match(pose.body.detail, /\/frames\/3\/persons\/0\/keypoints/);
    assert.match(pose.body.detail, /fewer than 17 items/);
    conforms('error', pose.body, 'the violation answer');
    // The window that does not include the broken frame is still served.
    assert.equal((await h.http.get(`/api/videos/${videoId}/pose?from=1`)).status, 200);

    // A summary whose spin direction is a word the web app does not know.
    await c.metrics.updateOne({ _id: videoId }, { $set: { 'summary.rotation_direction': 'left' } });
    const metrics = await h.http.get(`/api/videos/${videoId}/metrics`);
    assert.equal(metrics.status, 500);
    assert.equal(metrics.body.error, 'stored_contract_violation');
    assert.match(metrics.body.detail, /\/summary\/rotation_direction/);
  });
});

describe('contracts: the pose-service test double answers only what the pose service may', () => {
  it('GET /ready ready and warming up, and an unknown path', async () => {
    const pose = await new FakePoseService().start();
    try {
      const ready = await fetch(`${pose.url}/ready`);
      assert.equal(ready.status, 200);
      conforms('pose-ready', await ready.json(), 'the double ready');
      pose.ready = false;
      const warming = await fetch(`${pose.url}/ready`);
      assert.equal(warming.status, 503);
      const body = (await warming.json()) as { error: string };
      conforms('error', body, 'the double warming up');
      assert.equal(body.error, 'not_ready');
      conforms('error', await (await fetch(`${pose.url}/elsewhere`)).json(), 'the double on an unknown path');
    } finally {
      await pose.stop();
    }
  });
});

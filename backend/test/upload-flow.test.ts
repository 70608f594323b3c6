import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';
import { minimalMov, minimalMp4, minimalWebm } from './support/fixtures.js';

describe('upload → job → results → delete', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('accepts an mp4, analyses it through the pose service and serves pose frames and metrics', async () => {
    const bytes = minimalMp4(500);
    const res = await h.upload(bytes, { name: 'My Run.mp4', title: 'First run' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.match(res.body.videoId, /^[0-9a-f]{24}$/);
    assert.match(res.body.jobId, /^[0-9a-f]{24}$/);

    const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
    assert.equal(job.state, 'done', JSON.stringify(job));
    assert.equal(job.progress, 1);
    assert.equal(job.attempts, 1);
    assert.equal(job.error, null);
    assert.ok(job.startedAt && job.finishedAt);

    // The pose service got the absolute path on the shared volume, named by us, not by the client.
    assert.equal(h.pose.calls.length, 1);
    assert.equal(h.pose.calls[0]!.path, path.join(h.uploadDir, `${res.body.videoId}.mp4`));

    const video = await h.http.get(`/api/videos/${res.body.videoId}`);
    assert.equal(video.status, 200);
    assert.equal(video.body.id, res.body.videoId);
    assert.equal(video.body.title, 'First run');
    assert.equal(video.body.role, 'rider');
    assert.equal(video.body.originalName, 'My Run.mp4');
    assert.equal(video.body.container, 'mp4');
    assert.equal(video.body.size, bytes.length);
    assert.equal(video.body.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(video.body.status, 'done');
    assert.equal(video.body.job.id, res.body.jobId);
    assert.equal(video.body.fps, 30);
    assert.equal(video.body.width, 640);
    assert.equal(video.body.height, 480);
    const expectedFrames = 120 + (bytes.length % 100);
    assert.ok(Math.abs(video.body.durationS - expectedFrames / 30) < 1e-9);

    const pose = await h.http.get(`/api/videos/${res.body.videoId}/pose`);
    assert.equal(pose.status, 200);
    assert.equal(pose.body.videoId, res.body.videoId);
    assert.equal(pose.body.fps, 30);
    assert.equal(pose.body.riderTrackId, 1);
    assert.equal(pose.body.frames.length, expectedFrames, 'every frame, across chunk boundaries');
    assert.deepEqual(
      pose.body.frames.map((f: { index: number }) => f.index),
      Array.from({ length: expectedFrames }, (_, i) => i),
    );
    assert.equal(pose.body.frames[0].persons[0].keypoints.length, 17);
    assert.equal(pose.body.frames[0].persons[0].keypoints[0].name, 'nose');

    const window = await h.http.get(`/api/videos/${res.body.videoId}/pose?from=3&to=3.5`);
    assert.equal(window.status, 200);
    const ts = window.body.frames.map((f: { t: number }) => f.t);
    assert.ok(ts.length > 0);
    assert.ok(ts.every((t: number) => t >= 3 && t <= 3.5), `frames outside [3, 3.5]: ${ts}`);
    assert.equal(ts.length, 16); // frames 90..105 at 30 fps, straddling the 100-frame chunk boundary

    const metrics = await h.http.get(`/api/videos/${res.body.videoId}/metrics`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.body.series.t.length, expectedFrames);
    assert.equal(metrics.body.summary.frames_analysed, expectedFrames);

    const del = await h.http.delete(`/api/videos/${res.body.videoId}`);
    assert.equal(del.status, 204);
    assert.equal((await h.http.get(`/api/videos/${res.body.videoId}`)).status, 404);
    assert.equal((await h.http.get(`/api/jobs/${res.body.jobId}`)).status, 404);
    assert.equal((await h.http.get(`/api/videos/${res.body.videoId}/pose`)).status, 404);
    assert.equal((await h.http.get(`/api/videos/${res.body.videoId}/stream`)).status, 404);
    const c = h.api.db.collections;
    assert.equal(await c.frames.countDocuments({}), 0);
    assert.equal(await c.metrics.countDocuments({}), 0);
    assert.equal(await c.jobs.countDocuments({}), 0);
    assert.deepEqual(await readdir(h.uploadDir), [], 'the file and no temp file remain');
  });

  it('recognises mov and webm from their bytes', async () => {
    const mov = await h.upload(minimalMov(), { name: 'a.mov', role: 'reference' });
    const webm = await h.upload(minimalWebm(), { name: 'b.webm', role: 'reference' });
    assert.equal(mov.status, 202);
    assert.equal(webm.status, 202);
    assert.equal((await h.http.get(`/api/videos/${mov.body.videoId}`)).body.container, 'mov');
    assert.equal((await h.http.get(`/api/videos/${webm.body.videoId}`)).body.container, 'webm');
    await h.waitForJob(mov.body.jobId, ['done']);
    await h.waitForJob(webm.body.jobId, ['done']);
    const stored = await stat(path.join(h.uploadDir, `${webm.body.videoId}.webm`));
    assert.equal(stored.size, minimalWebm().length);
  });

  it('lists videos newest first with pagination and role/status filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.upload(minimalMp4(i), { title: `list ${i}` });
      ids.push(res.body.videoId);
      await h.waitForJob(res.body.jobId, ['done']);
    }
    const page1 = await h.http.get('/api/videos?page=1&limit=2');
    assert.equal(page1.status, 200);
    assert.equal(page1.body.page, 1);
    assert.equal(page1.body.limit, 2);
    assert.equal(page1.body.total, 5);
    assert.deepEqual(page1.body.items.map((v: { id: string }) => v.id), [ids[2], ids[1]]);
    const page2 = await h.http.get('/api/videos?page=2&limit=2');
    assert.deepEqual(page2.body.items.map((v: { id: string }) => v.id), [ids[0], page2.body.items[1].id]);
    const page3 = await h.http.get('/api/videos?page=3&limit=2');
    assert.equal(page3.body.items.length, 1);

    const refs = await h.http.get('/api/videos?role=reference');
    assert.equal(refs.body.total, 2);
    assert.ok(refs.body.items.every((v: { role: string }) => v.role === 'reference'));
    const riders = await h.http.get('/api/videos?role=rider&status=done');
    assert.equal(riders.body.total, 3);
    assert.ok(riders.body.items.every((v: { status: string; job: { state: string } }) => v.status === 'done' && v.job.state === 'done'));
    const none = await h.http.get('/api/videos?status=failed');
    assert.equal(none.body.total, 0);
    assert.deepEqual(none.body.items, []);
  });

  it('answers 409 not_ready for pose and metrics while the job is not done', async () => {
    h.pose.delayMs = 800;
    try {
      const res = await h.upload(minimalMp4(42));
      const pose = await h.http.get(`/api/videos/${res.body.videoId}/pose`);
      const metrics = await h.http.get(`/api/videos/${res.body.videoId}/metrics`);
      assert.equal(pose.status, 409);
      assert.equal(pose.body.error, 'not_ready');
      assert.equal(metrics.status, 409);
      assert.equal(metrics.body.error, 'not_ready');
      assert.equal(typeof metrics.body.detail, 'string');
      await h.waitForJob(res.body.jobId, ['done']);
      assert.equal((await h.http.get(`/api/videos/${res.body.videoId}/metrics`)).status, 200);
    } finally {
      h.pose.delayMs = 0;
    }
  });

  it('deletes a video while its job is running without leaving results behind', async () => {
    h.pose.delayMs = 500;
    try {
      const res = await h.upload(minimalMp4(7));
      await h.waitForJob(res.body.jobId, ['running']);
      assert.equal((await h.http.delete(`/api/videos/${res.body.videoId}`)).status, 204);
      await new Promise((r) => setTimeout(r, 900));
      const c = h.api.db.collections;
      const { ObjectId } = await import('mongodb');
      const vid = new ObjectId(res.body.videoId as string);
      assert.equal(await c.frames.countDocuments({ videoId: vid }), 0);
      assert.equal(await c.metrics.countDocuments({ _id: vid }), 0);
      assert.equal(await c.jobs.countDocuments({ videoId: vid }), 0);
    } finally {
      h.pose.delayMs = 0;
    }
  });

  it('lets exactly one of several concurrent deletes succeed', async () => {
    const res = await h.upload(minimalMp4(9));
    await h.waitForJob(res.body.jobId, ['done']);
    const results = await Promise.all(Array.from({ length: 5 }, () => h.http.delete(`/api/videos/${res.body.videoId}`)));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [204, 404, 404, 404, 404]);
    for (const r of results.filter((r) => r.status === 404)) assert.equal(r.body.error, 'not_found');
  });
});

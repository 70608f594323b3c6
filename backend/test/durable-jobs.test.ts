import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import type { RunningApi } from '../src/server.js';
import { startHarness, type Harness } from './support/harness.js';
import { minimalMp4 } from './support/fixtures.js';
import { startTestMongo, type TestMongo } from './support/secantus.js';

/** What a crash looks like from the database's point of view: no graceful re-queue, no final update. */
async function crash(api: RunningApi): Promise<void> {
  await api.worker.stop({ abandon: true });
  api.server.closeAllConnections();
  await new Promise((r) => api.server.close(() => r(undefined)));
  await api.db.client.close(true);
}

describe('durable jobs', () => {
  let mongo: TestMongo;
  before(async () => {
    mongo = await startTestMongo();
  });
  after(async () => {
    await mongo?.dispose();
  });

  describe('with one API', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ mongo });
    });
    after(async () => {
      await h?.close();
    });

    it('retries a failing pose call with backoff and completes', async () => {
      h.pose.failNext(503, 'drop');
      const res = await h.upload(minimalMp4(11));
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'done', JSON.stringify(job));
      assert.equal(job.attempts, 3);
      const calls = h.pose.calls.slice(-3);
      assert.equal(calls.length, 3);
      // Backoff: JOB_BACKOFF_MS=50 then 100 between attempts.
      assert.ok(calls[1]!.at - calls[0]!.at >= 45, `first retry after ${calls[1]!.at - calls[0]!.at} ms`);
      assert.ok(calls[2]!.at - calls[1]!.at >= 95, `second retry after ${calls[2]!.at - calls[1]!.at} ms`);
    });

    it('waits while the pose service is busy without spending attempts (backpressure, not failure)', async () => {
      const busy = { status: 503, error: 'overloaded', detail: '2 pose requests already running; retry later' };
      h.pose.failNext(busy, busy, busy, busy); // more busy answers than JOB_MAX_ATTEMPTS
      const res = await h.upload(minimalMp4(13));
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'done', JSON.stringify(job));
      assert.equal(job.attempts, 1);
    });

    it('fails the job with the reason after JOB_MAX_ATTEMPTS attempts', async () => {
      h.pose.failNext(500, 500, 500);
      const res = await h.upload(minimalMp4(12));
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'failed');
      assert.equal(job.attempts, 3);
      assert.match(String(job.errorDetail), /500.*attempt 3 of 3/);
      assert.equal(job.error, 'The analysis failed on the server, even after several tries. Please try again later.');
      const video = await h.http.get(`/api/videos/${res.body.videoId}`);
      assert.equal(video.body.status, 'failed');
      assert.equal((await h.http.get('/api/videos?status=failed')).body.total, 1);
      assert.equal((await h.http.get(`/api/videos/${res.body.videoId}/metrics`)).status, 409);
    });

    it('does not retry what the pose service rejects as a bad request', async () => {
      h.pose.failNext(400);
      const before = h.pose.calls.length;
      const res = await h.upload(minimalMp4(13));
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'failed');
      assert.equal(job.attempts, 1);
      assert.match(String(job.errorDetail), /not retryable/);
      assert.doesNotMatch(String(job.error), /40\d|retryable|pose/);
      assert.equal(h.pose.calls.length - before, 1);
    });

    it('gives up on a pose call after POSE_TIMEOUT_MS and retries it', async () => {
      const api = await h.startAnotherApi({ POSE_TIMEOUT_MS: '200', JOB_MAX_ATTEMPTS: '2' });
      await h.api.worker.stop(); // let the short-timeout API's worker take the job
      try {
        h.pose.delayMs = 600;
        const res = await request(`http://127.0.0.1:${api.port}`).post('/api/videos').set(h.session.headers).field('role', 'rider').attach('video', minimalMp4(14), 'a.mp4');
        const job = await h.waitForJob(res.body.jobId, ['failed', 'done']);
        assert.equal(job.state, 'failed');
        assert.equal(job.attempts, 2);
        assert.match(String(job.errorDetail), /did not answer within 200 ms/);
        assert.equal(job.error, 'The analysis took too long and was stopped. A shorter clip may work better.');
      } finally {
        h.pose.delayMs = 0;
        await api.close();
        await h.api.worker.start();
      }
    });

    it('re-queues in-flight jobs without spending an attempt on graceful shutdown', async () => {
      const api = await h.startAnotherApi();
      await h.api.worker.stop();
      h.pose.delayMs = 2000;
      try {
        const res = await request(`http://127.0.0.1:${api.port}`).post('/api/videos').set(h.session.headers).field('role', 'rider').attach('video', minimalMp4(15), 'a.mp4');
        await h.waitForJob(res.body.jobId, ['running']);
        await api.close();
        const job = await h.http.get(`/api/jobs/${res.body.jobId}`);
        assert.equal(job.body.state, 'queued');
        assert.equal(job.body.attempts, 0);
        h.pose.delayMs = 0;
        await h.api.worker.start();
        const done = await h.waitForJob(res.body.jobId, ['done', 'failed']);
        assert.equal(done.state, 'done');
        assert.equal(done.attempts, 1);
      } finally {
        h.pose.delayMs = 0;
        await h.api.worker.start();
      }
    });
  });

  it('completes a job whose API died mid-job once a new API starts (stale heartbeat re-queued)', async () => {
    const h = await startHarness({ mongo, pose: { delayMs: 1500 } });
    try {
      const res = await h.upload(minimalMp4(21));
      await h.waitForJob(res.body.jobId, ['running']);
      await crash(h.api);
      h.pose.delayMs = 0;

      const running = await h.startAnotherApi();
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'done', JSON.stringify(job));
      assert.equal(job.attempts, 2, 'the interrupted attempt counts');
      const pose = await request(`http://127.0.0.1:${running.port}`).get(`/api/videos/${res.body.videoId}/pose`).set(h.session.headers);
      assert.equal(pose.status, 200);
      assert.equal(pose.body.frames.length, 120 + (minimalMp4(21).length % 100));
      // The retry overwrote chunks instead of duplicating them.
      const chunks = await running.db.collections.frames.countDocuments({});
      assert.equal(chunks, Math.ceil(pose.body.frames.length / 100));
    } finally {
      await h.close();
    }
  });

  it('fails a job whose worker died on its last attempt', async () => {
    const h = await startHarness({ mongo, pose: { delayMs: 1500 }, env: { JOB_MAX_ATTEMPTS: '1' } });
    try {
      const res = await h.upload(minimalMp4(22));
      await h.waitForJob(res.body.jobId, ['running']);
      await crash(h.api);
      await h.startAnotherApi();
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'failed');
      assert.match(String(job.errorDetail), /heartbeat lost/);
      assert.equal(job.error, 'The analysis was interrupted too many times. Please upload the clip again.');
    } finally {
      await h.close();
    }
  });

  it('completes a job when the pose service restarts mid-job', async () => {
    const h = await startHarness({ mongo, pose: { delayMs: 800 } });
    try {
      const res = await h.upload(minimalMp4(23));
      while (h.pose.calls.length === 0) await new Promise((r) => setTimeout(r, 10)); // the call is in flight
      const port = Number(new URL(h.pose.url).port);
      await h.pose.stop(); // drops the in-flight request
      h.pose.delayMs = 0;
      await h.pose.start(port);
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
      assert.equal(job.state, 'done', JSON.stringify(job));
      assert.ok(Number(job.attempts) >= 2);
    } finally {
      await h.close();
    }
  });

  it('completes a job when MongoDB restarts mid-job', { skip: process.env.MONGODB_TEST_URI ? 'a server given by MONGODB_TEST_URI cannot be restarted by the test' : false }, async () => {
    const own = await startTestMongo();
    const h = await startHarness({ mongo: own, pose: { delayMs: 1000 } });
    try {
      const res = await h.upload(minimalMp4(24));
      await h.waitForJob(res.body.jobId, ['running']);
      await own.stop();
      await new Promise((r) => setTimeout(r, 300));
      await own.restart();
      const job = await h.waitForJob(res.body.jobId, ['done', 'failed'], 30_000);
      assert.equal(job.state, 'done', JSON.stringify(job));
      assert.equal((await h.http.get(`/api/videos/${res.body.videoId}/metrics`)).status, 200);
    } finally {
      await h.close();
      await own.dispose();
    }
  });
});

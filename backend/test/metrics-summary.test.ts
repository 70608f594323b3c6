import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import type { Collections } from '../src/db.js';
import { EMPTY_SUMMARY, finishJob, finishSegment, ingest } from './support/asWorker.js';
import { minimalMp4 } from './support/fixtures.js';
import { conforms } from './support/conforms.js';
import { startHarness, type Harness } from './support/harness.js';

/*
 * GET /api/videos/:id/metrics?series=0 — the summary without the time series, so the analysis view can show the player
 * and its tiles before a long clip's series arrive (docs/contracts.md, docs/schemas/api-metrics-summary.schema.json).
 * Real HTTP against a real API on SecantusDB, metrics written as the finish task writes them (support/asWorker.ts).
 */

describe('metrics: the summary alone with ?series=0', () => {
  let h: Harness;
  let c: Collections;

  before(async () => {
    h = await startHarness();
    c = h.api.db.collections;
  });
  after(async () => {
    await h?.close();
  });

  /** A video whose finish stored `frames` frames of series (1,000 per chunk) and a summary. */
  async function analysed(seed: number, frames: number) {
    const up = await h.upload(minimalMp4(seed));
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const videoId = new ObjectId(up.body.videoId as string);
    const jobId = new ObjectId(up.body.jobId as string);
    await ingest(c, h.api.media, jobId, frames, 1);
    const early = await h.http.get(`/api/videos/${videoId}/metrics?series=0`);
    assert.equal(early.status, 409, 'not ready before the job is done, like the whole metrics');
    assert.equal(early.body.error, 'not_ready');
    await finishSegment(c, jobId, 1);
    const t = Array.from({ length: frames }, (_, i) => i / 24);
    const col = (v: number) => t.map((_, i) => (i % 9 === 0 ? null : v + (i % 50)));
    await finishJob(c, jobId, {
      series: { t, left_knee_angle: col(90), hip_height: col(1), smoothed: { left_knee_angle: col(91), hip_height: col(1) } },
      summary: { ...EMPTY_SUMMARY, max_rotation_deg: 540, rotation_direction: 'clockwise', frames_analysed: frames, frames_with_rider: frames - 10, unavailable: { stance: 'feet not visible' } },
    });
    return videoId;
  }

  it('answers {summary} only: the same summary as the whole metrics, a small part of its bytes', async () => {
    const videoId = await analysed(21, 2_500); // three series chunks
    const whole = await h.http.get(`/api/videos/${videoId}/metrics`);
    assert.equal(whole.status, 200);
    const summary = await h.http.get(`/api/videos/${videoId}/metrics?series=0`);
    assert.equal(summary.status, 200);
    assert.deepEqual(Object.keys(summary.body), ['summary']);
    assert.deepEqual(summary.body.summary, whole.body.summary);
    assert.equal(summary.body.summary.max_rotation_deg, 540);
    assert.deepEqual(summary.body.summary.unavailable, { stance: 'feet not visible' });
    conforms('api-metrics-summary', summary.body, 'metrics?series=0');
    const sizeOf = (res: request.Response) => Buffer.byteLength(JSON.stringify(res.body));
    assert.ok(sizeOf(summary) * 20 < sizeOf(whole), `summary ${sizeOf(summary)} B against whole ${sizeOf(whole)} B`);
    // series=1 is the whole answer, as with no query.
    const explicit = await h.http.get(`/api/videos/${videoId}/metrics?series=1`);
    assert.equal(explicit.status, 200);
    assert.deepEqual(explicit.body, whole.body);
    assert.equal(explicit.body.series.t.length, 2_500);
  });

  it('refuses a bad query with 400 invalid_query and a line saying what is allowed', async () => {
    const videoId = await analysed(22, 30);
    for (const query of ['series=2', 'series=false', 'series=yes', 'series=0&series=1', 'serie=0', 'series[$ne]=1', 'from=0']) {
      const res = await h.http.get(`/api/videos/${videoId}/metrics?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error, 'invalid_query', query);
      assert.match(res.body.detail, /series/, query);
      conforms('error', res.body, query);
    }
    // An empty value is the default, as for the library's query parameters.
    assert.equal((await h.http.get(`/api/videos/${videoId}/metrics?series=`)).body.series.t.length, 30);
    // The query is read before the video: a bad id with a good query is still the id's 400, an unknown video 404.
    assert.equal((await h.http.get('/api/videos/nope/metrics?series=0')).status, 400);
    assert.equal((await h.http.get(`/api/videos/${new ObjectId()}/metrics?series=0`)).status, 404);
  });

  it('409 while a series chunk is missing, as the whole metrics; an old single document serves its summary', async () => {
    const videoId = await analysed(23, 1_500);
    await c.metricSeries.deleteOne({ videoId, chunk: 1 });
    for (const q of ['?series=0', '']) {
      const res = await h.http.get(`/api/videos/${videoId}/metrics${q}`);
      assert.equal(res.status, 409, `metrics${q}`);
      assert.equal(res.body.error, 'not_ready');
    }
    // Metrics stored before the split (one document, series inside) still answer both ways.
    const old = { series: { t: [0, 0.5], left_knee_angle: [120, 118], smoothed: { left_knee_angle: [120, 119] } }, summary: { ...EMPTY_SUMMARY, frames_analysed: 2, frames_with_rider: 2 } };
    await c.metricSeries.deleteMany({ videoId });
    await c.metrics.replaceOne({ _id: videoId }, { metrics: old } as never);
    const summary = await h.http.get(`/api/videos/${videoId}/metrics?series=0`);
    assert.equal(summary.status, 200);
    assert.deepEqual(summary.body, { summary: old.summary });
    assert.deepEqual((await h.http.get(`/api/videos/${videoId}/metrics`)).body, old);
  });

  it('a stored summary that breaks the contract answers 500 naming the field here too', async () => {
    const videoId = await analysed(24, 30);
    await c.metrics.updateOne({ _id: videoId }, { $set: { 'summary.stance': 'sideways' } });
    const res = await h.http.get(`/api/videos/${videoId}/metrics?series=0`);
    assert.equal(res.status, 500);
    assert.equal(res.body.error, 'stored_contract_violation');
    assert.match(res.body.detail, /api-metrics-summary.*\/summary\/stance/);
  });

  it('a share link serves the summary alone too, and nothing else changes for it', async () => {
    const videoId = await analysed(25, 40);
    const created = await h.http.post(`/api/videos/${videoId}/shares`).send({});
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const anon = request(h.url);
    const base = `/api/shared/${created.body.token}/metrics`;
    const shared = await anon.get(`${base}?series=0`);
    assert.equal(shared.status, 200);
    assert.deepEqual(shared.body, { summary: (await h.http.get(`/api/videos/${videoId}/metrics`)).body.summary });
    assert.equal((await anon.get(`${base}?series=3`)).status, 400);
  });
});

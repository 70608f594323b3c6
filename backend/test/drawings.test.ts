import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { finishJob, finishSegment, ingest } from './support/asWorker.js';
import { minimalMp4 } from './support/fixtures.js';
import { startHarness, type Client, type Harness } from './support/harness.js';
import { drawingsCollection, MAX_DRAWINGS } from '../src/routes/drawings.js';

/*
 * GET/PUT /api/videos/:id/drawings against the real API and SecantusDB: the owner's marks are kept and read back by
 * their coach (who may not change them), bad bodies answer 400 {error, detail}, another rider's video is a 404, and
 * the drawings go with the video when it is deleted.
 */

const angle = { id: 'a1', kind: 'angle', t: 1.25, points: [{ x: 100, y: 50 }, { x: 200, y: 150 }, { x: 300, y: 50 }], color: '#FACC15' };
const line = { id: 'l1', kind: 'line', t: 0.5, points: [{ x: 0, y: 0 }, { x: 479.5, y: 269 }], color: '#38bdf8' };

describe('drawings: a coach and rider see the same marks on a video', () => {
  let h: Harness;
  let alice: Client;
  let bob: Client;
  let coach: Client;
  let videoId: string;

  async function uploadDone(as: Client, seed: number): Promise<string> {
    const res = await h.upload(minimalMp4(seed), { as, title: `run ${seed}` });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const c = h.api.db.collections;
    const jobId = new ObjectId(res.body.jobId);
    await ingest(c, h.api.media, jobId, 60, 1);
    await finishSegment(c, jobId, 1);
    await finishJob(c, jobId, { series: { t: [0] }, summary: { frames_analysed: 60 } });
    assert.equal((await h.waitForJob(res.body.jobId, ['done', 'failed'])).state, 'done');
    return res.body.videoId;
  }

  before(async () => {
    h = await startHarness();
    alice = (await h.addUser('alice', 'rider')).http;
    bob = (await h.addUser('bob', 'rider')).http;
    coach = (await h.addUser('cole', 'coach', { riders: ['alice'] })).http;
    videoId = await uploadDone(alice, 201);
  });
  after(async () => {
    await h?.close();
  });

  it('starts empty, keeps what the owner PUTs and gives the same set to their coach', async () => {
    const empty = await alice.get(`/api/videos/${videoId}/drawings`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, { drawings: [], updatedAt: null });

    const put = await alice.put(`/api/videos/${videoId}/drawings`).send({ drawings: [angle, line] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.drawings, [{ ...angle, color: '#facc15' }, line]);
    assert.ok(Date.parse(put.body.updatedAt) > 0);

    for (const who of [alice, coach]) {
      const got = await who.get(`/api/videos/${videoId}/drawings`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.drawings, put.body.drawings);
    }
    // PUT replaces the whole set: deleting a drawing is sending the set without it.
    const fewer = await alice.put(`/api/videos/${videoId}/drawings`).send({ drawings: [line] });
    assert.deepEqual(fewer.body.drawings, [line]);
    assert.deepEqual((await coach.get(`/api/videos/${videoId}/drawings`)).body.drawings, [line]);
  });

  it("refuses a coach's PUT (403 read_only) and hides the video from another rider (404)", async () => {
    const res = await coach.put(`/api/videos/${videoId}/drawings`).send({ drawings: [] });
    assert.equal(res.status, 403);
    assert.deepEqual(Object.keys(res.body).sort(), ['detail', 'error']);
    assert.equal(res.body.error, 'read_only');
    assert.deepEqual((await alice.get(`/api/videos/${videoId}/drawings`)).body.drawings, [line], 'unchanged');
    for (const r of [await bob.get(`/api/videos/${videoId}/drawings`), await bob.put(`/api/videos/${videoId}/drawings`).send({ drawings: [] })]) {
      assert.equal(r.status, 404);
      assert.equal(r.body.error, 'not_found');
    }
    assert.equal((await alice.get('/api/videos/not-an-id/drawings')).status, 400);
  });

  it('answers bad bodies with 400 {error, detail} naming what is wrong, and keeps the stored set', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /send \{"drawings"/],
      [[], /send \{"drawings"/],
      [{ drawings: 'x' }, /send \{"drawings"/],
      [{ drawings: [{ ...line, kind: 'circle' }] }, /kind must be "line" or "angle"/],
      [{ drawings: [{ ...line, points: line.points.slice(0, 1) }] }, /must hold 2 points for a line/],
      [{ drawings: [{ ...angle, points: angle.points.slice(0, 2) }] }, /must hold 3 points for an? angle/],
      [{ drawings: [{ ...line, points: [{ x: 1, y: 'a' }, { x: 1, y: 2 }] }] }, /points\[0\] must be/],
      [{ drawings: [{ ...line, points: [{ x: 1e9, y: 0 }, { x: 1, y: 2 }] }] }, /within/],
      [{ drawings: [{ ...line, t: -1 }] }, /t must be a time/],
      [{ drawings: [{ ...line, id: '' }] }, /id must be/],
      [{ drawings: [{ ...line, id: 'x'.repeat(41) }] }, /id must be/],
      [{ drawings: [{ ...line, id: '$where' }] }, /id must be/],
      [{ drawings: [line, line] }, /used twice/],
      [{ drawings: [{ ...line, color: 'red' }] }, /color must be/],
      [{ drawings: Array.from({ length: MAX_DRAWINGS + 1 }, (_, i) => ({ ...line, id: `l${i}` })) }, /at most 500 drawings/],
    ];
    for (const [body, detail] of cases) {
      const res = await alice.put(`/api/videos/${videoId}/drawings`).send(body as object);
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.status}`);
      assert.equal(res.body.error, 'invalid_drawings');
      assert.match(res.body.detail, detail);
    }
    const broken = await alice.put(`/api/videos/${videoId}/drawings`).set('Content-Type', 'application/json').send('{"drawings": [');
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error, 'invalid_json');
    const huge = await alice.put(`/api/videos/${videoId}/drawings`).send({ drawings: [], pad: 'x'.repeat(200_000) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error, 'payload_too_large');
    assert.deepEqual((await alice.get(`/api/videos/${videoId}/drawings`)).body.drawings, [line], 'the stored set is untouched');
  });

  it('deletes the drawings with the video', async () => {
    const other = await uploadDone(alice, 202);
    assert.equal((await alice.put(`/api/videos/${other}/drawings`).send({ drawings: [angle] })).status, 200);
    const store = drawingsCollection(h.api.db.db);
    assert.equal(await store.countDocuments({ _id: new ObjectId(other) }), 1);
    assert.equal((await alice.delete(`/api/videos/${other}`)).status, 204);
    assert.equal(await store.countDocuments({ _id: new ObjectId(other) }), 0);
    assert.equal((await alice.get(`/api/videos/${other}/drawings`)).status, 404);
    assert.equal(await store.countDocuments({ _id: new ObjectId(videoId) }), 1, "the other video's drawings stay");
  });
});

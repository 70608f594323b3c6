import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import { finishJob, finishSegment, ingest } from './support/asWorker.js';
import { minimalMp4 } from './support/fixtures.js';
import { startHarness, type Client, type Harness } from './support/harness.js';

/*
 * Who sees what, against the real API and database: every route tried with another rider's ids (404, never data),
 * a coach's read-only view of assigned riders, the admin's view, share links, and the start-up migration of videos
 * from before accounts.
 */

/** The response with its body as raw bytes, whatever its type. */
function bytesOf(req: request.Test) {
  return req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TUS = { 'Tus-Resumable': '1.0.0' };
const b64 = (s: string) => Buffer.from(s).toString('base64');

function assertNotFound(res: request.Response, what: string) {
  const text = res.text ?? ''; // HEAD answers carry no body
  assert.equal(res.status, 404, `${what}: ${res.status} ${text.slice(0, 300)}`);
  if (text) {
    // tus answers its errors as text/plain, with the same JSON body.
    const body = res.type === 'application/json' ? res.body : JSON.parse(text);
    assert.equal(body.error, 'not_found', `${what}: ${text.slice(0, 300)}`);
    assert.deepEqual(Object.keys(body).sort(), ['detail', 'error'], `${what}: nothing but the error`);
  }
}

interface Uploaded {
  videoId: string;
  jobId: string;
}

describe('ownership: riders, coaches, admins and share links', () => {
  let h: Harness;
  let alice: Client;
  let bob: Client;
  let coach: Client;
  let aliceRun: Uploaded;
  let bobRun: Uploaded;

  /**
   * Uploads through the API as `as`, then writes the analysis the way a pose worker writes it (support/asWorker.ts:
   * test data in the real database): this file is about who may read an analysis, not how it is made.
   */
  async function uploadDone(as: Client, bytes: Buffer, title: string, role = 'rider'): Promise<Uploaded> {
    const res = await h.upload(bytes, { as, title, role });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const c = h.api.db.collections;
    const jobId = new ObjectId(res.body.jobId);
    await ingest(c, h.api.media, jobId, 120, 2);
    await finishSegment(c, jobId, 1);
    await finishSegment(c, jobId, 2);
    await finishJob(c, jobId, { series: { t: [0, 1 / 30], knee: [90, 91], smoothed: { knee: [90, 90.5] } }, summary: { frames_analysed: 120 } });
    const job = await h.waitForJob(res.body.jobId, ['done', 'failed']);
    assert.equal(job.state, 'done', JSON.stringify(job));
    return res.body;
  }

  before(async () => {
    h = await startHarness();
    alice = (await h.addUser('alice', 'rider')).http;
    bob = (await h.addUser('bob', 'rider')).http;
    coach = (await h.addUser('cole', 'coach', { riders: ['alice'] })).http;
    aliceRun = await uploadDone(alice, minimalMp4(101), "alice's run");
    bobRun = await uploadDone(bob, minimalMp4(102), "bob's run");
  });
  after(async () => {
    await h?.close();
  });

  it("gives another rider 404 and no data on every route of a video, job and share that is not theirs", async () => {
    const { videoId, jobId } = aliceRun;
    const share = await alice.post(`/api/videos/${videoId}/shares`);
    assert.equal(share.status, 201);
    const readRoutes = [
      `/api/videos/${videoId}`,
      `/api/videos/${videoId}/stream`,
      `/api/videos/${videoId}/original`,
      `/api/videos/${videoId}/poster`,
      `/api/videos/${videoId}/sprite`,
      `/api/videos/${videoId}/pose`,
      `/api/videos/${videoId}/pose?from=0&to=1`,
      `/api/videos/${videoId}/metrics`,
      `/api/videos/${videoId}/shares`,
      `/api/jobs/${jobId}`,
      `/api/jobs/${jobId}/events`,
    ];
    for (const route of readRoutes) {
      const own = await alice.get(route).buffer(true);
      const other = await bob.get(route).buffer(true);
      assertNotFound(other, `GET ${route} as bob`);
      // Where the owner gets data, the other rider gets exactly the answer for an id that does not exist.
      if (own.status === 200) {
        const missing = await bob.get(route.replace(videoId, 'f'.repeat(24)).replace(jobId, 'f'.repeat(24))).buffer(true);
        assert.equal(missing.status, 404, route);
        assert.equal(other.body.error, missing.body.error, route);
      }
      assert.ok(!(other.text ?? '').includes("alice's run"), route);
    }
    for (const route of ['/stream', '/original']) assertNotFound(await bob.head(`/api/videos/${videoId}${route}`), `HEAD ${route}`);
    assertNotFound(await bob.delete(`/api/videos/${videoId}`), 'DELETE video');
    assertNotFound(await bob.post(`/api/videos/${videoId}/retry`), 'POST retry');
    assertNotFound(await bob.post(`/api/videos/${videoId}/shares`), 'POST share');
    assertNotFound(await bob.delete(`/api/videos/${videoId}/shares/${share.body.id}`), 'DELETE share');
    // Bob's own share id does not reach Alice's video either.
    const bobShare = await bob.post(`/api/videos/${bobRun.videoId}/shares`);
    assertNotFound(await bob.delete(`/api/videos/${videoId}/shares/${bobShare.body.id}`), 'DELETE with own share id');

    // The library: Bob's own video only, whatever he asks for.
    const list = await bob.get('/api/videos');
    assert.deepEqual(list.body.items.map((v: { id: string }) => v.id), [bobRun.videoId]);
    assert.equal(list.body.total, 1);
    assert.deepEqual((await bob.get('/api/videos?owner=alice')).body, { items: [], page: 1, limit: 20, total: 0 });
    assert.deepEqual((await bob.get('/api/videos?owner=nobody')).body.items, []);
    assert.equal((await bob.get('/api/videos?owner=bob')).body.total, 1);

    // Nothing of Alice's changed: the video, its share and its analysis are all still there.
    assert.equal((await alice.get(`/api/videos/${videoId}`)).status, 200);
    assert.equal((await alice.get(`/api/videos/${videoId}/metrics`)).status, 200);
    assert.equal((await request(h.url).get(`/api/shared/${share.body.token}`)).status, 200);
    assert.equal((await alice.get(`/api/jobs/${jobId}`)).status, 200);
  });

  it("keeps an upload in progress (tus) to its uploader", async () => {
    const bytes = minimalMp4(103);
    const created = await alice.post('/api/uploads').set({ ...TUS, 'Upload-Length': String(bytes.length), 'Upload-Metadata': `role ${b64('rider')},owner ${b64('someone-else')}` });
    assert.equal(created.status, 201, created.text);
    const location = String(created.headers.location);
    const patch = (as: Client, body: Buffer, offset: number) =>
      as.patch(location).set({ ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' }).send(body);
    assertNotFound(await bob.head(location).set(TUS), 'HEAD upload as bob');
    assertNotFound(await patch(bob, bytes.subarray(0, 100), 0), 'PATCH upload as bob');
    assertNotFound(await bob.delete(location).set(TUS), 'DELETE upload as bob');
    assert.equal((await alice.head(location).set(TUS)).headers['upload-offset'], '0', 'nothing was appended');
    const done = await patch(alice, bytes, 0);
    assert.equal(done.status, 200, done.text);
    const video = await alice.get(`/api/videos/${done.body.videoId}`);
    assert.equal(video.body.owner.username, 'alice', 'the session decides the owner, not the metadata');
    assertNotFound(await bob.get(`/api/videos/${done.body.videoId}`), 'the finished upload as bob');
  });

  it("lets a coach read an assigned rider's videos, read-only (403 read_only), and nothing of other riders", async () => {
    const list = await coach.get('/api/videos');
    const ids = list.body.items.map((v: { id: string }) => v.id);
    assert.ok(ids.includes(aliceRun.videoId));
    assert.ok(!ids.includes(bobRun.videoId));
    assert.ok(list.body.items.every((v: { owner: { username: string } }) => v.owner.username === 'alice'));
    assert.equal((await coach.get('/api/videos?owner=alice')).body.total, list.body.total);
    assert.equal((await coach.get('/api/videos?owner=bob')).body.total, 0);

    const video = await coach.get(`/api/videos/${aliceRun.videoId}`);
    assert.equal(video.status, 200);
    assert.equal(video.body.owner.username, 'alice');
    assert.equal((await coach.get(`/api/videos/${aliceRun.videoId}/pose`)).status, 200);
    assert.equal((await coach.get(`/api/videos/${aliceRun.videoId}/metrics`)).status, 200);
    assert.equal((await coach.get(`/api/jobs/${aliceRun.jobId}`)).status, 200);

    for (const res of [
      await coach.delete(`/api/videos/${aliceRun.videoId}`),
      await coach.post(`/api/videos/${aliceRun.videoId}/retry`),
      await coach.post(`/api/videos/${aliceRun.videoId}/shares`),
      await coach.delete(`/api/videos/${aliceRun.videoId}/shares/${'0'.repeat(64)}`),
    ]) {
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.error, 'read_only');
    }
    assert.equal((await alice.get(`/api/videos/${aliceRun.videoId}`)).status, 200, 'still there');
    assertNotFound(await coach.get(`/api/videos/${bobRun.videoId}`), "an unassigned rider's video");
    assertNotFound(await coach.get(`/api/jobs/${bobRun.jobId}`), "an unassigned rider's job");

    // A reference of the coach's own, compared with the rider's run: both readable, the reference theirs to change.
    const reference = await uploadDone(coach, minimalMp4(104), 'reference', 'reference');
    assert.equal((await coach.get(`/api/videos/${reference.videoId}/pose`)).status, 200);
    assert.equal((await coach.get(`/api/videos/${aliceRun.videoId}/pose`)).status, 200);
    assertNotFound(await alice.get(`/api/videos/${reference.videoId}`), "the coach's own video, as the rider");
    assert.equal((await coach.delete(`/api/videos/${reference.videoId}`)).status, 204);
  });

  it('shows an admin every video with its owner, filtered by owner on request', async () => {
    const all = await h.http.get('/api/videos?limit=100');
    const byId = new Map(all.body.items.map((v: { id: string; owner: { username: string } }) => [v.id, v.owner.username]));
    assert.equal(byId.get(aliceRun.videoId), 'alice');
    assert.equal(byId.get(bobRun.videoId), 'bob');
    const bobs = await h.http.get('/api/videos?owner=BOB');
    assert.deepEqual(bobs.body.items.map((v: { id: string }) => v.id), [bobRun.videoId]);
    assert.equal((await h.http.get(`/api/videos/${aliceRun.videoId}/metrics`)).status, 200);
  });

  it('gives a share link exactly one analysis, read-only, and nothing once revoked', async () => {
    const { videoId } = aliceRun;
    const created = await alice.post(`/api/videos/${videoId}/shares`);
    assert.equal(created.status, 201);
    const { token, url, id } = created.body;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url, `/shared/${token}`);
    assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)));
    // Listed without the token (shown once), and only its hash is stored.
    const listed = await alice.get(`/api/videos/${videoId}/shares`);
    const item = listed.body.items.find((s: { id: string }) => s.id === id);
    assert.ok(item);
    assert.equal(item.url, null);
    assert.ok(!JSON.stringify(listed.body).includes(token));
    assert.equal(await h.api.db.db.collection('shares').countDocuments({ _id: token as never }), 0);
    assert.ok(!JSON.stringify(await h.api.db.db.collection('shares').find({}).toArray()).includes(token));
    // The coach (read-only) may see that links exist.
    assert.equal((await coach.get(`/api/videos/${videoId}/shares`)).status, 200);

    const anon = request(h.url);
    const base = `/api/shared/${token}`;
    const shared = await anon.get(base);
    assert.equal(shared.status, 200);
    assert.equal(shared.body.video.id, videoId);
    assert.equal(shared.body.video.title, "alice's run");
    assert.ok(!('owner' in shared.body.video), 'nothing of the account');
    assert.ok(!JSON.stringify(shared.body).includes('alice"'), JSON.stringify(shared.body));
    if (shared.body.video.posterUrl) assert.equal(shared.body.video.posterUrl, `${base}/poster`);

    const ownStream = await bytesOf(alice.get(`/api/videos/${videoId}/stream`));
    const sharedStream = await bytesOf(anon.get(`${base}/stream`));
    assert.equal(sharedStream.status, 200);
    assert.equal(sha(sharedStream.body), sha(ownStream.body), 'the same bytes as the owner gets');
    const ranged = await anon.get(`${base}/stream`).set('Range', 'bytes=0-9');
    assert.equal(ranged.status, 206);
    const ownPose = await alice.get(`/api/videos/${videoId}/pose`);
    const sharedPose = await anon.get(`${base}/pose`);
    assert.equal(sharedPose.status, 200);
    assert.deepEqual(sharedPose.body, ownPose.body);
    assert.deepEqual((await anon.get(`${base}/metrics`)).body, (await alice.get(`/api/videos/${videoId}/metrics`)).body);
    for (const kind of ['poster', 'sprite']) {
      const own = await alice.get(`/api/videos/${videoId}/${kind}`);
      assert.equal((await anon.get(`${base}/${kind}`)).status, own.status, kind);
    }

    // Nothing else: not the original download, no writes, no other video, no library.
    assertNotFound(await anon.get(`${base}/original`), 'original');
    assertNotFound(await anon.delete(base), 'DELETE shared');
    assertNotFound(await anon.post(`${base}/stream`), 'POST shared stream');
    assertNotFound(await anon.post(`${base}/retry`), 'POST shared retry');
    assertNotFound(await anon.get(`${base}/shares`), 'shares of a shared video');
    assertNotFound(await anon.get('/api/shared'), 'the shared root');
    assertNotFound(await anon.get(`/api/shared/${'A'.repeat(43)}`), 'an unknown token');
    assertNotFound(await anon.get(`/api/shared/${token}x/stream`), 'a mangled token');
    assert.equal((await anon.get(`/api/videos/${videoId}`).set('Cookie', `sb_session=${token}`)).status, 401, 'a token is no session');
    assert.equal((await anon.get(`/api/videos/${bobRun.videoId}`)).status, 401);

    // Revoked: every shared route answers 404 at once.
    assert.equal((await alice.delete(`/api/videos/${videoId}/shares/${id}`)).status, 204);
    for (const route of ['', '/stream', '/pose', '/metrics', '/poster', '/sprite']) assertNotFound(await anon.get(`${base}${route}`), `revoked ${route}`);
    assert.ok(!(await alice.get(`/api/videos/${videoId}/shares`)).body.items.some((s: { id: string }) => s.id === id));
    assertNotFound(await alice.delete(`/api/videos/${videoId}/shares/${id}`), 'revoking twice');
  });

  it('ends share links with their video', async () => {
    const run = await uploadDone(bob, minimalMp4(105), 'to delete');
    const { token } = (await bob.post(`/api/videos/${run.videoId}/shares`)).body;
    assert.equal((await request(h.url).get(`/api/shared/${token}`)).status, 200);
    assert.equal((await bob.delete(`/api/videos/${run.videoId}`)).status, 204);
    assertNotFound(await request(h.url).get(`/api/shared/${token}`), 'share of a deleted video');
    assert.equal(await h.api.db.db.collection('shares').countDocuments({ videoId: run.videoId as never }), 0);
  });

  it('gives videos from before accounts to the first admin at start-up, with nothing lost', async () => {
    const run = await uploadDone(bob, minimalMp4(106), 'from before accounts');
    const { videos } = h.api.db.collections;
    const db = h.api.db.db;
    const id = (await videos.findOne({ title: 'from before accounts' }))!._id;
    // As the database looked before accounts: no ownerId at all.
    await videos.updateOne({ _id: id }, { $unset: { ownerId: '' } });
    const before = {
      video: await videos.findOne({ _id: id }),
      frames: await db.collection('pose_frames').countDocuments({ videoId: id }),
      metrics: await db.collection('metrics').findOne({ _id: id as never }),
      pose: (await h.http.get(`/api/videos/${run.videoId}/pose`)).body,
    };
    assert.ok(before.frames > 0);
    assertNotFound(await bob.get(`/api/videos/${run.videoId}`), 'an owner-less video, before the migration');

    const restarted = await h.startAnotherApi();
    const after = await videos.findOne({ _id: id });
    assert.equal(after!.ownerId!.toHexString(), h.session.user.id);
    const { ownerId: _ownerId, ...rest } = after!;
    assert.deepEqual(rest, before.video, 'only ownerId was set');
    assert.equal(await db.collection('pose_frames').countDocuments({ videoId: id }), before.frames);
    assert.deepEqual(await db.collection('metrics').findOne({ _id: id as never }), before.metrics);
    const admin = request(`http://127.0.0.1:${restarted.port}`);
    const video = await admin.get(`/api/videos/${run.videoId}`).set(h.session.headers);
    assert.equal(video.body.owner.username, 'admin');
    assert.deepEqual((await admin.get(`/api/videos/${run.videoId}/pose`).set(h.session.headers)).body, before.pose);
    assertNotFound(await bob.get(`/api/videos/${run.videoId}`), 'now the admin’s');
    await restarted.close();
  });
});

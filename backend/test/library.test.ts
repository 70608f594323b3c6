import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import { backfillRotationSortKey } from '../src/jobs/metrics.js';
import request from 'supertest';
import { minimalMp4 } from './support/fixtures.js';
import { startHarness, type Client, type Harness } from './support/harness.js';

/*
 * The library's API against the real server and database: rename (PATCH /api/videos/:id), search by title,
 * sort and pagination, each scoped to the signed-in rider.
 */

describe('library: rename, search, sort, pages', () => {
  let h: Harness;
  let alice: Client;
  let bob: Client;
  let coach: Client;
  let aliceCookie: string;
  const ids: Record<string, string> = {};

  const titles = (res: request.Response) => res.body.items.map((v: { title: string | null; originalName: string }) => v.title ?? v.originalName);

  before(async () => {
    h = await startHarness();
    const a = await h.addUser('alice', 'rider');
    alice = a.http;
    aliceCookie = a.session.cookie;
    bob = (await h.addUser('bob', 'rider')).http;
    coach = (await h.addUser('cole', 'coach', { riders: ['alice'] })).http;
    // Durations set in the database (as the finished analysis writes them): this file is about the list, not analysis.
    const runs: [string, number][] = [
      ['Backside 360 kicker', 12],
      ['Frontside 180', 3],
      ['backside boardslide (a.k.a. BS)', 30],
      ['Method grab', 7],
    ];
    let n = 0;
    for (const [title, durationS] of runs) {
      const res = await h.upload(minimalMp4(200 + n++), { as: alice, title });
      assert.equal(res.status, 202, res.text);
      ids[title] = res.body.videoId;
      await h.api.db.collections.videos.updateOne({ _id: new ObjectId(res.body.videoId) }, { $set: { durationS } });
    }
    const untitled = await h.upload(minimalMp4(299), { as: alice, name: 'IMG_0042.MOV' });
    ids.untitled = untitled.body.videoId;
    const bobs = await h.upload(minimalMp4(300), { as: bob, title: 'Backside 360 bob' });
    ids.bob = bobs.body.videoId;
  });
  after(async () => {
    await h?.close();
  });

  it('renames a video: trimmed title stored and returned; bad titles are 400 and change nothing', async () => {
    const id = ids['Method grab'];
    const ok = await alice.patch(`/api/videos/${id}`).send({ title: '  Method grab, kicker 3  ' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.title, 'Method grab, kicker 3');
    assert.equal(ok.body.id, id);
    assert.equal((await alice.get(`/api/videos/${id}`)).body.title, 'Method grab, kicker 3');

    for (const body of [{ title: '' }, { title: '   ' }, { title: 'x'.repeat(121) }, { title: 42 }, {}, { name: 'x' }]) {
      const bad = await alice.patch(`/api/videos/${id}`).send(body);
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.error, 'invalid_title');
      assert.match(bad.body.detail, /title/);
    }
    const notJson = await alice.patch(`/api/videos/${id}`).set('Content-Type', 'application/json').send('{"title":');
    assert.equal(notJson.status, 400, notJson.text);
    // 120 characters exactly is allowed.
    const longest = await alice.patch(`/api/videos/${id}`).send({ title: 'y'.repeat(120) });
    assert.equal(longest.status, 200);
    await alice.patch(`/api/videos/${id}`).send({ title: 'Method grab' });
    assert.equal((await alice.get(`/api/videos/${id}`)).body.title, 'Method grab');
  });

  it("refuses a rename of another rider's video (404), a coach's (403 read_only), and one without the CSRF token", async () => {
    const id = ids['Frontside 180'];
    const other = await bob.patch(`/api/videos/${id}`).send({ title: 'mine now' });
    assert.equal(other.status, 404);
    assert.equal(other.body.error, 'not_found');
    const coached = await coach.patch(`/api/videos/${id}`).send({ title: 'coach edit' });
    assert.equal(coached.status, 403);
    assert.equal(coached.body.error, 'read_only');
    const cookieOnly = await request(h.url).patch(`/api/videos/${id}`).set('Cookie', aliceCookie).send({ title: 'no token' });
    assert.equal(cookieOnly.status, 403, cookieOnly.text);
    assert.equal(cookieOnly.body.error, 'csrf_failed');
    assert.equal((await alice.get(`/api/videos/${id}`)).body.title, 'Frontside 180');
    assert.equal((await alice.patch(`/api/videos/${'f'.repeat(24)}`).send({ title: 'x' })).status, 404);
  });

  it('searches titles case-insensitively as a literal substring, within the rider\'s own videos only', async () => {
    const bs = await alice.get('/api/videos?q=BACKSIDE');
    assert.equal(bs.status, 200);
    assert.deepEqual(titles(bs).sort(), ['Backside 360 kicker', 'backside boardslide (a.k.a. BS)']);
    assert.equal(bs.body.total, 2);
    // Regex characters are literal: "a.k.a." matches only itself, "(" is no syntax error.
    assert.deepEqual(titles(await alice.get(`/api/videos?q=${encodeURIComponent('(a.k.a.')}`)), ['backside boardslide (a.k.a. BS)']);
    assert.deepEqual(titles(await alice.get(`/api/videos?q=${encodeURIComponent('.*')}`)), []);
    // An untitled video is found by the name it was uploaded with.
    assert.deepEqual(titles(await alice.get('/api/videos?q=img_00')), ['IMG_0042.MOV']);
    // Bob's "Backside 360 bob" is not Alice's.
    assert.ok(!titles(await alice.get('/api/videos?q=bob')).length);
    assert.deepEqual(titles(await bob.get('/api/videos?q=backside')), ['Backside 360 bob']);
    const tooLong = await alice.get(`/api/videos?q=${'z'.repeat(121)}`);
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error, 'invalid_query');
  });

  it('sorts by date (newest first, the default) or duration (longest first); anything else is 400', async () => {
    const byDate = titles(await alice.get('/api/videos'));
    assert.deepEqual(byDate, ['IMG_0042.MOV', 'Method grab', 'backside boardslide (a.k.a. BS)', 'Frontside 180', 'Backside 360 kicker']);
    assert.deepEqual(titles(await alice.get('/api/videos?sort=date')), byDate);
    const byDuration = titles(await alice.get('/api/videos?sort=duration&q=%20'));
    assert.deepEqual(byDuration.slice(0, 4), ['backside boardslide (a.k.a. BS)', 'Backside 360 kicker', 'Method grab', 'Frontside 180']);
    const bad = await alice.get('/api/videos?sort=title');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_query');
    assert.match(bad.body.detail, /date, duration, rotation/);
  });

  it('pages through the sorted, searched list without gaps or repeats', async () => {
    const all = titles(await alice.get('/api/videos?sort=duration'));
    const seen: string[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await alice.get(`/api/videos?sort=duration&limit=2&page=${page}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.total, 5);
      assert.equal(res.body.page, page);
      assert.equal(res.body.limit, 2);
      seen.push(...titles(res));
    }
    assert.deepEqual(seen, all);
    const searched = await alice.get('/api/videos?q=backside&limit=1&page=2');
    assert.equal(searched.body.total, 2);
    assert.equal(searched.body.items.length, 1);
    assert.deepEqual((await alice.get('/api/videos?q=backside&limit=1&page=3')).body.items, []);
  });

  it('stays fast with 1,000 videos: search, sort and a deep page each answer well under a second', async () => {
    const carol = await h.addUser('carol', 'rider');
    const ownerId = new ObjectId(carol.session.user.id);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const docs = Array.from({ length: 1000 }, (_, i) => ({
      _id: new ObjectId(), title: `Run ${i} ${i % 10 === 0 ? 'kicker' : 'rail'}`, role: 'rider' as const, originalName: `r${i}.mp4`, size: 1, sha256: `${i}`,
      container: 'mp4' as const, createdAt: new Date(t0 + i * 60_000), status: 'done' as const, jobId: new ObjectId(), fps: 30, durationS: (i * 7) % 97,
      width: 640, height: 360, frameCount: 90, riderTrackId: 0, ownerId,
    }));
    await h.api.db.collections.videos.insertMany(docs);
    const timed = async (path: string) => {
      const start = performance.now();
      const res = await carol.http.get(path);
      assert.equal(res.status, 200, res.text);
      return { res, ms: performance.now() - start };
    };
    const cases = ['/api/videos?limit=24&page=1', '/api/videos?limit=24&page=41', '/api/videos?sort=duration&limit=24&page=20', '/api/videos?sort=rotation&limit=24&page=30', '/api/videos?q=KICKER&limit=24&page=4'];
    const times: Record<string, number> = {};
    for (const path of cases) {
      const { res, ms } = await timed(path);
      times[path] = Math.round(ms);
      if (path.includes('q=KICKER')) {
        assert.equal(res.body.total, 100);
        assert.ok(res.body.items.every((v: { title: string }) => v.title.includes('kicker')));
      } else {
        assert.equal(res.body.total, 1000);
      }
      assert.ok(ms < 1000, `${path}: ${ms} ms`);
    }
    const deep = (await carol.http.get('/api/videos?limit=24&page=42')).body.items;
    assert.equal(deep.length, 16, '1000 = 41 full pages of 24 and 16 on page 42');
    assert.equal(deep.at(-1).title, 'Run 0 kicker', 'the oldest last');
    console.log(`# 1,000 videos, one cold request each (ms): ${JSON.stringify(times)}`);
  });
  it('sorts by the biggest spin either way; videos analysed before the sort key get it from their metrics; unmeasured last', async () => {
    const c = h.api.db.collections;
    const spins: [string, number | null][] = [['Frontside 180', 180.4], ['Backside 360 kicker', -362], ['Method grab', null]];
    for (const [title, spin] of spins) {
      const _id = new ObjectId(ids[title]);
      await c.videos.updateOne({ _id }, { $set: { status: 'done' } });
      await c.metrics.replaceOne({ _id }, { summary: { max_rotation_deg: spin } }, { upsert: true });
    }
    assert.equal(await backfillRotationSortKey(c), 3 + 1000, "alice's three, and carol's thousand (no metrics: null)");
    assert.equal(await backfillRotationSortKey(c), 0, 'done once');
    assert.equal((await c.videos.findOne({ _id: new ObjectId(ids['Backside 360 kicker']) }))?.maxRotationDeg, 362);
    const byRotation = titles(await alice.get('/api/videos?sort=rotation'));
    assert.deepEqual(byRotation, ['Backside 360 kicker', 'Frontside 180', 'IMG_0042.MOV', 'Method grab', 'backside boardslide (a.k.a. BS)']);
  });
});

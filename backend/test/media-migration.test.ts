import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ObjectId, type Db } from 'mongodb';
import request from 'supertest';
import type { Collections } from '../src/db.js';
import { migrateLocalMedia } from '../src/media/migrate.js';
import { MediaStore } from '../src/media/store.js';
import { MISSING_FILE_ERROR } from '../src/upload/reconcile.js';
import { ApiProcessBed } from './support/apiProcess.js';
import { minimalMp4 } from './support/fixtures.js';

/*
 * Start-up migration of an uploads folder from before GridFS (issue 14): originals (`storedName`) and derived files
 * (`<id>.derived/`) move into the media store, checked by sha256, and only then leave the disk. The API runs as its
 * own process; the first start is killed (SIGKILL) in the middle of copying a file, the second must finish the job
 * with nothing lost and nothing left twice, the third must change nothing.
 */

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Legacy {
  videoId: ObjectId;
  jobId: ObjectId;
  original: Buffer;
  derived: Record<'rendition' | 'poster' | 'sprite', Buffer>;
  jobState: 'queued' | 'running' | 'done';
}

describe('media migration from the local uploads folder into GridFS', () => {
  let bed: ApiProcessBed;
  let uploadDir: string;
  let db: Db;
  const legacy: Legacy[] = [];
  let missing: { videoId: ObjectId; jobId: ObjectId };

  before(async () => {
    bed = await ApiProcessBed.start('uploads-migration');
    ({ uploadDir, db } = bed);

    // Three videos as an API before GridFS stored them: the original under its stored name, a derived folder with
    // rendition, poster and sprite, a job (done, or queued/running in the old shape with no task).
    const longAgo = new Date(Date.now() - 3_600_000);
    const states = ['done', 'queued', 'running'] as const;
    for (let i = 0; i < 3; i++) {
      const videoId = new ObjectId();
      const jobId = new ObjectId();
      const id = videoId.toHexString();
      // The second original is 1.2 MB: the first start is stopped in the middle of copying it.
      const original = minimalMp4(i === 1 ? 1_200_000 : 1000 * (i + 1));
      const derived = {
        rendition: Buffer.concat([minimalMp4(50 + i), Buffer.from('rendition')]),
        poster: Buffer.from([0xff, 0xd8, 0xff, 0xe0, i, 1]),
        sprite: Buffer.from([0xff, 0xd8, 0xff, 0xe0, i, 2, 2]),
      };
      await writeFile(path.join(uploadDir, `${id}.mp4`), original);
      await mkdir(path.join(uploadDir, `${id}.derived`));
      for (const [kind, bytes] of Object.entries(derived)) await writeFile(path.join(uploadDir, `${id}.derived`, kind === 'rendition' ? 'rendition.mp4' : `${kind}.jpg`), bytes);
      const file = (kind: keyof typeof derived, name: string) => ({ name: `${id}.derived/${name}`, width: 640, height: 480, size: derived[kind].length, ...(kind === 'rendition' ? { codec: 'h264' } : {}) });
      await db.collection('videos').insertOne({
        _id: videoId, title: `old ${i}`, role: 'rider', originalName: `old ${i}.mp4`, storedName: `${id}.mp4`, size: original.length,
        sha256: sha(original), container: 'mp4', createdAt: longAgo, status: states[i], jobId, fps: 10, durationS: 1, width: 640, height: 480,
        frameCount: 10, riderTrackId: states[i] === 'done' ? 1 : null, derivedDir: `${id}.derived`,
        rendition: file('rendition', 'rendition.mp4'), poster: file('poster', 'poster.jpg'),
        sprite: { ...file('sprite', 'sprite.jpg'), layout: { columns: 1, rows: 1, tileWidth: 60, tileHeight: 40, times: [0.5] } },
      });
      await db.collection('jobs').insertOne({
        _id: jobId, videoId, state: states[i], progress: states[i] === 'done' ? 1 : 0.45, attempts: 1, error: null, createdAt: longAgo,
        updatedAt: longAgo, startedAt: longAgo, finishedAt: states[i] === 'done' ? longAgo : null, runAfter: longAgo, heartbeatAt: null, workerId: null,
      });
      legacy.push({ videoId, jobId, original, derived, jobState: states[i]! });
    }
    // A fourth whose file was already lost before the migration: nothing to move, it is failed with plain words.
    missing = { videoId: new ObjectId(), jobId: new ObjectId() };
    await db.collection('videos').insertOne({
      _id: missing.videoId, title: 'lost', role: 'rider', originalName: 'lost.mp4', storedName: `${missing.videoId.toHexString()}.mp4`, size: 10,
      sha256: 'x'.repeat(64), container: 'mp4', createdAt: longAgo, status: 'queued', jobId: missing.jobId, fps: null, durationS: null, width: null,
      height: null, frameCount: null, riderTrackId: null,
    });
    await db.collection('jobs').insertOne({
      _id: missing.jobId, videoId: missing.videoId, state: 'queued', progress: 0, attempts: 0, error: null, createdAt: longAgo, updatedAt: longAgo,
      startedAt: null, finishedAt: null, runAfter: longAgo, heartbeatAt: null, workerId: null,
    });
    await writeFile(path.join(uploadDir, 'README.txt'), 'not ours');
  });
  after(async () => {
    await bed?.dispose();
  });

  const files = () => db.collection('media.files');
  const chunks = () => db.collection('media.chunks');

  it('survives a crash in the middle of a copy: the next start completes it, sha256-checked, with nothing lost or doubled', async () => {
    // 1. Killed while copying the second original: the first is in GridFS, the second's chunks are half there.
    const pauseAt = legacy[0]!.original.length + 600_000;
    const crashing = await bed.spawn({ TEST_ONLY_PAUSE_MIGRATION_AFTER_BYTES: String(pauseAt) }, { listening: false });
    await crashing.waitFor(/TEST_ONLY_PAUSE_MIGRATION_AFTER_BYTES: paused/);
    await new Promise((r) => setTimeout(r, 500)); // the chunks before the pause reach the database
    await crashing.kill();
    const second = (await db.collection('videos').findOne({ _id: legacy[1]!.videoId }))!;
    assert.equal(second.originalFileId, undefined, 'the second original is not recorded');
    const partialId = second.migration?.original as ObjectId;
    assert.ok(partialId, 'its GridFS id was recorded before the copy');
    assert.ok((await chunks().countDocuments({ files_id: partialId })) >= 1, 'some of its chunks were written');
    assert.equal(await files().countDocuments({ _id: partialId }), 0, 'but no file document');
    const left = await readdir(uploadDir);
    assert.ok(left.includes(`${legacy[1]!.videoId.toHexString()}.mp4`), 'its local file is still there');

    // 2. A normal start completes the migration before it listens.
    const api = await bed.spawn();
    await api.waitFor(/media migration: \d video\(s\)/);
    for (const v of legacy) {
      const doc = (await db.collection('videos').findOne({ _id: v.videoId }))!;
      assert.ok(doc.originalFileId instanceof ObjectId, 'originalFileId recorded');
      assert.deepEqual([doc.storedName, doc.derivedDir, doc.migration], [undefined, undefined, undefined], 'no local traces left on the document');
      const original = await request(api.url!).get(`/api/videos/${v.videoId}/original`).buffer(true).parse(raw);
      assert.equal(original.status, 200);
      assert.equal(sha(original.body), sha(v.original), 'the original, byte for byte');
      for (const kind of ['rendition', 'poster', 'sprite'] as const) {
        assert.ok(doc[kind].fileId instanceof ObjectId, `${kind} in GridFS`);
        assert.equal(doc[kind].name, undefined);
        assert.equal(doc[kind].size, v.derived[kind].length);
        const url = kind === 'rendition' ? `/api/videos/${v.videoId}/stream` : `/api/videos/${v.videoId}/${kind}`;
        const served = await request(api.url!).get(url).buffer(true).parse(raw);
        assert.equal(served.status, 200, `${kind}: ${served.status}`);
        assert.equal(sha(served.body), sha(v.derived[kind]), `${kind}, byte for byte`);
      }
      assert.deepEqual(doc.sprite.layout, { columns: 1, rows: 1, tileWidth: 60, tileHeight: 40, times: [0.5] }, 'the rest of the fields are kept');
    }
    assert.equal(await files().countDocuments({}), 12, 'one GridFS file per original and derived file, none twice');
    // The interrupted copy was redone under the id recorded for it: exactly the chunks of one whole file.
    const redone = (await files().findOne({ _id: partialId }))!;
    assert.ok(redone, 'the second original lives under the id recorded before the crash');
    assert.equal(redone.length, legacy[1]!.original.length);
    assert.equal(await chunks().countDocuments({ files_id: partialId }), Math.ceil(redone.length / redone.chunkSize));
    const fileIds = new Set((await files().find({}, { projection: { _id: 1 } }).toArray()).map((f) => f._id.toHexString()));
    const chunkOwners = (await chunks().distinct('files_id', {})) as ObjectId[];
    assert.ok(chunkOwners.every((id) => fileIds.has(id.toHexString())), 'no chunk without its file');
    assert.deepEqual(await readdir(uploadDir), ['README.txt'], 'the local copies are gone; what is not ours stays');

    // Jobs from before the work queue: the done one is untouched; the queued and running ones got an ingest task.
    for (const v of legacy) {
      const tasks = await db.collection('tasks').find({ jobId: v.jobId }).toArray();
      const job = (await request(api.url!).get(`/api/jobs/${v.jobId}`)).body;
      if (v.jobState === 'done') {
        assert.equal(tasks.length, 0);
        assert.equal(job.state, 'done');
      } else {
        assert.deepEqual(tasks.map((t) => [t.kind, t.state]), [['ingest', 'queued']], `${v.jobState} job`);
        assert.deepEqual([job.state, job.stage, job.progress, job.waiting], ['queued', 'ingest', 0, 'workers']);
      }
    }
    // The video whose file was lost before: failed with the rider's words, no task.
    const lost = (await request(api.url!).get(`/api/jobs/${missing.jobId}`)).body;
    assert.equal(lost.state, 'failed');
    assert.equal(lost.error, MISSING_FILE_ERROR);
    assert.equal(await db.collection('tasks').countDocuments({ jobId: missing.jobId }), 0);
    await api.kill();

    // 3. Once more: nothing left to do, nothing changes.
    const before = await files().find({}).sort({ _id: 1 }).toArray();
    const third = await bed.spawn();
    assert.doesNotMatch(third.output(), /media migration/);
    assert.deepEqual(await files().find({}).sort({ _id: 1 }).toArray(), before);
    assert.equal(await db.collection('tasks').countDocuments({}), 2, 'no second ingest task');
    await third.kill();
  });

  it('keeps a local file whose bytes do not match the recorded sha256, and moves nothing of that video', async () => {
    const videoId = new ObjectId();
    const id = videoId.toHexString();
    const bytes = minimalMp4(77);
    await writeFile(path.join(uploadDir, `${id}.mp4`), bytes);
    await db.collection('videos').insertOne({
      _id: videoId, title: 'bitrot', role: 'rider', originalName: 'bitrot.mp4', storedName: `${id}.mp4`, size: bytes.length,
      sha256: sha(Buffer.from('something else')), container: 'mp4', createdAt: new Date(), status: 'done', jobId: new ObjectId(),
      fps: null, durationS: null, width: null, height: null, frameCount: null, riderTrackId: null,
    });
    const c = { videos: db.collection('videos') } as unknown as Collections;
    const logs: string[] = [];
    const report = await migrateLocalMedia(c, new MediaStore(db), { uploadDir, log: (m) => logs.push(m) });
    assert.deepEqual(report.failed, [id]);
    assert.equal(report.videos, 0);
    assert.ok((await readdir(uploadDir)).includes(`${id}.mp4`), 'the local file is kept');
    const doc = (await db.collection('videos').findOne({ _id: videoId }))!;
    assert.equal(doc.originalFileId, undefined);
    assert.equal(await files().countDocuments({ 'metadata.videoId': videoId }), 0, 'no GridFS copy left behind');
    assert.ok(logs.some((l) => /does not match .* the local file .* is kept/.test(l)), logs.join('\n'));
  });
});

function raw(res: request.Response, cb: (err: Error | null, body: Buffer) => void) {
  const parts: Buffer[] = [];
  res.on('data', (c: Buffer) => parts.push(c));
  res.on('end', () => cb(null, Buffer.concat(parts)));
}

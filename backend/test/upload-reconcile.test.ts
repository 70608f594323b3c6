import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import { MISSING_FILE_ERROR } from '../src/upload/reconcile.js';
import { ApiProcessBed } from './support/apiProcess.js';
import { minimalMp4 } from './support/fixtures.js';

/*
 * Upload durability with a real crash: the API runs as its own process (`node --import tsx src/server.ts`), the
 * test-only hook TEST_ONLY_PAUSE_AFTER_UPLOAD_STORE holds an upload between its GridFS write and its database
 * insert, and the test SIGKILLs the process right there. The restarted API must then reconcile both ways.
 */

async function waitForJobState(url: string, jobId: string, state: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    last = (await request(url).get(`/api/jobs/${jobId}`)).body;
    if (last.state === state) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} did not reach ${state}; last ${JSON.stringify(last)}`);
}

describe('upload durability: reconciliation after a crash between the GridFS write and the insert', () => {
  let bed: ApiProcessBed;
  let uploadDir: string;

  before(async () => {
    bed = await ApiProcessBed.start('uploads-reconcile');
    ({ uploadDir } = bed);
  });
  after(async () => {
    await bed?.dispose();
  });

  const videos = () => bed.db.collection('videos');
  const start = async (extra: Record<string, string> = {}) => {
    const api = await bed.spawn(extra);
    return { ...api, url: api.url! };
  };

  it('keeps a fresh orphan, removes it once older than the grace period, and fails a video whose original is gone', async () => {
    const db = () => bed.db;
    const files = () => db().collection('media.files');
    const chunks = () => db().collection('media.chunks');
    // 1. A normal API stores two videos (their jobs wait for a pose worker; none runs here).
    const first = await start();
    const kept = await request(first.url).post('/api/videos').field('role', 'rider').attach('video', minimalMp4(41), 'kept.mp4');
    const lost = await request(first.url).post('/api/videos').field('role', 'rider').attach('video', minimalMp4(42), 'lost.mp4');
    assert.equal(kept.status, 202, JSON.stringify(kept.body));
    assert.equal(lost.status, 202, JSON.stringify(lost.body));
    await first.kill();

    // 2. An API with the test-only pause: the upload stops after its GridFS write; the process is killed right there.
    const crashing = await start({ TEST_ONLY_PAUSE_AFTER_UPLOAD_STORE: '1' });
    const inFlight = request(crashing.url).post('/api/videos').field('role', 'rider').attach('video', minimalMp4(43), 'crash.mp4').then(
      (r) => r,
      (err: Error) => err,
    );
    const orphanId = new ObjectId((await crashing.waitFor(/paused after storing media file ([0-9a-f]{24}), before the insert/))[1]!);
    await crashing.kill();
    assert.ok((await inFlight) instanceof Error, 'the client saw the connection die');
    assert.equal(await files().countDocuments({ _id: orphanId }), 1, 'the stored original is in GridFS');
    assert.equal(await videos().countDocuments({}), 2, 'no document for the crashed upload');

    // Meanwhile: one stored original disappears, a temp file was abandoned, a write died halfway (chunks, no file
    // document), a delete died after removing the video, and something unrelated sits in the folder.
    const lostDoc = await videos().findOne({ originalName: 'lost.mp4' });
    await files().deleteOne({ _id: lostDoc!.originalFileId });
    await chunks().deleteMany({ files_id: lostDoc!.originalFileId });
    const staleTemp = `.incoming-${randomUUID()}.part`;
    await writeFile(path.join(uploadDir, staleTemp), 'partial');
    await writeFile(path.join(uploadDir, 'README.txt'), 'not ours');
    const halfWritten = ObjectId.createFromTime(Math.floor(Date.now() / 1000) - 11 * 60);
    await chunks().insertOne({ files_id: halfWritten, n: 0, data: Buffer.alloc(10) });
    const ghost = new ObjectId();
    await db().collection('tasks').insertOne({ videoId: ghost, jobId: new ObjectId(), kind: 'segment', state: 'queued' });
    await db().collection('pose_frames').insertOne({ videoId: ghost, chunk: 0, tStart: 0, tEnd: 1, frames: [] });

    // 3. Restart with the default grace period (10 minutes): the crash was just now, so the orphan stays.
    const second = await start();
    await second.waitFor(/marked failed/);
    assert.equal(await files().countDocuments({ _id: orphanId }), 1, 'an orphan younger than the grace period is kept');
    const lostJob = await waitForJobState(second.url, lost.body.jobId, 'failed');
    assert.equal(lostJob.error, MISSING_FILE_ERROR);
    assert.match(String(lostJob.errorDetail), /is not in the media store/);
    assert.doesNotMatch(String(lostJob.error), /GridFS|ENOENT|\//, 'the rider reads no path or error code');
    assert.equal(await db().collection('tasks').countDocuments({ videoId: lostDoc!._id }), 0, 'no worker will try it');
    assert.equal((await request(second.url).get(`/api/videos/${lost.body.videoId}`)).body.status, 'failed');
    assert.equal((await request(second.url).get(`/api/videos/${kept.body.videoId}`)).body.status, 'queued', 'a video with its original is untouched');
    assert.equal(await chunks().countDocuments({ files_id: halfWritten }), 0, 'a half-written file older than the grace period is removed');
    assert.equal(await db().collection('tasks').countDocuments({ videoId: ghost }), 0, 'leftovers of a deleted video are removed');
    assert.equal(await db().collection('pose_frames').countDocuments({ videoId: ghost }), 0);
    await second.kill();

    // 4. Eleven minutes later (upload date and mtime moved back), a restart removes the orphan and the stale temp file.
    const past = new Date(Date.now() - 11 * 60_000);
    await files().updateOne({ _id: orphanId }, { $set: { uploadDate: past } });
    await utimes(path.join(uploadDir, staleTemp), past, past);
    const third = await start();
    await third.waitFor(/reconciliation removed 1 unreferenced media file/);
    await third.waitFor(new RegExp(`removed orphan upload ${staleTemp.replace(/[.]/g, '\\.')}`));
    assert.equal(await files().countDocuments({ _id: orphanId }), 0, 'the orphan is gone');
    assert.equal(await chunks().countDocuments({ files_id: orphanId }), 0, 'with its chunks');
    const left = await readdir(uploadDir);
    assert.ok(!left.includes(staleTemp), 'the abandoned temp file is gone');
    assert.ok(left.includes('README.txt'), 'files the API did not write are left alone');
    const keptDoc = await videos().findOne({ originalName: 'kept.mp4' });
    assert.equal(await files().countDocuments({ _id: keptDoc!.originalFileId }), 1, 'stored videos stay');
    assert.equal((await request(third.url).get(`/api/videos/${kept.body.videoId}/original`)).status, 200);
    await third.kill();
  });
});

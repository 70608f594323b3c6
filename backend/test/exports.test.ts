import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { ObjectId } from 'mongodb';
import type { Collections } from '../src/db.js';
import { csvCell, framesCsv, summaryCsv } from '../src/export/metricsFiles.js';
import { reconcileUploads } from '../src/upload/reconcile.js';
import { startHarness, type Client, type Harness } from './support/harness.js';
import { personClip, startPoseWorker, type PoseWorker } from './support/poseWorker.js';

/*
 * Exports (issue 18, item 9) through the real API, on SecantusDB, with the REAL pose worker (MediaPipe on the CPU,
 * the image's ffmpeg): the metrics CSV/JSON downloads hold the analysed frames; the skeleton MP4 is queued as an
 * `export` task, the worker renders it with progress, and the API serves it with ranges; a coach may export an
 * assigned rider's video, other riders see nothing; deleting the video removes the export and its file.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bytesOf(req: import('supertest').Test) {
  return req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
}

/** RFC 4180 CSV → rows of cells (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const endCell = () => {
    row.push(cell);
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') endCell();
    else if (ch === '\n') {
      endCell();
      rows.push(row);
      row = [];
    } else if (ch !== '\r') cell += ch;
  }
  if (cell || row.length) {
    endCell();
    rows.push(row);
  }
  return rows;
}

/** ffprobe of an MP4 held in memory: frames counted by decoding, the container's duration. */
function probeMp4(bytes: Buffer): { codec: string; frames: number; duration: number; width: number; height: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'export-probe-'));
  try {
    const file = path.join(dir, 'x.mp4');
    writeFileSync(file, bytes);
    const out = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' }),
    );
    const s = out.streams[0];
    return { codec: s.codec_name, frames: Number(s.nb_read_frames), duration: Number(out.format.duration), width: s.width, height: s.height };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls an export until it is done or failed; returns it. */
async function waitForExport(client: Client, videoId: string, exportId: string, timeoutMs = 180_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, any> = {};
  while (Date.now() < deadline) {
    last = (await client.get(`/api/videos/${videoId}/exports/${exportId}`)).body;
    if (last.state === 'done' || last.state === 'failed') return last;
    await sleep(50);
  }
  return last;
}

describe('metrics CSV/JSON and the skeleton MP4, with the real pose worker', () => {
  let h: Harness;
  let c: Collections;
  let worker: PoseWorker | null = null;
  let rider: Client;
  let coach: Client;
  let stranger: Client;
  let videoId = '';
  before(async () => {
    h = await startHarness({ env: { MAX_UPLOAD_MB: '20' } });
    c = h.api.db.collections;
    rider = (await h.addUser('rita', 'rider')).http;
    coach = (await h.addUser('carl', 'coach', { riders: ['rita'] })).http;
    stranger = (await h.addUser('otto', 'rider')).http;
  });
  after(async () => {
    if (worker && process.env.TEST_LOG) console.log(worker.output());
    await worker?.stop();
    await h?.close();
  });

  it('answers 409 not_ready before the analysis is done, and 400 for bad input', async () => {
    const up = await h.upload(await personClip(3), { name: 'jump one.mp4', as: rider });
    assert.equal(up.status, 202, JSON.stringify(up.body));
    videoId = up.body.videoId as string;
    // No worker yet: the job is queued.
    for (const res of [
      await rider.get(`/api/videos/${videoId}/metrics.csv`),
      await rider.get(`/api/videos/${videoId}/metrics.json`),
      await rider.post(`/api/videos/${videoId}/exports`).send({ kind: 'mp4' }),
    ]) {
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(res.body.error, 'not_ready');
    }
    const bad = await rider.post(`/api/videos/${videoId}/exports`).send({ kind: 'gif' });
    assert.deepEqual([bad.status, bad.body.error], [400, 'invalid_kind']);
    const badJson = await rider.post(`/api/videos/${videoId}/exports`).set('Content-Type', 'application/json').send('{"kind":');
    assert.deepEqual([badJson.status, badJson.body.error], [400, 'invalid_json']);
    assert.equal((await rider.get(`/api/videos/${videoId}/metrics.csv?table=everything`)).body.error, 'invalid_query');
    assert.equal((await rider.get(`/api/videos/${videoId}/exports/nope`)).body.error, 'invalid_id');
    assert.equal((await rider.get(`/api/videos/${videoId}/exports/${new ObjectId()}`)).status, 404);

    worker = await startPoseWorker(h.mongo.uri, h.config.mongodbDb);
    const done = await h.waitForJob(up.body.jobId, ['done', 'failed'], 240_000);
    assert.equal(done.state, 'done', JSON.stringify(done));
  });

  it('serves the per-frame CSV with units in the header and one row per analysed frame', async () => {
    const metrics = (await rider.get(`/api/videos/${videoId}/metrics`)).body;
    const pose = (await rider.get(`/api/videos/${videoId}/pose`)).body;
    const res = await coach.get(`/api/videos/${videoId}/metrics.csv`); // a coach may export: it is a read
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers['content-type']!, /^text\/csv; charset=utf-8/);
    assert.match(res.headers['content-disposition']!, /^attachment; filename="jump one-metrics\.csv"/);
    const rows = parseCsv(res.text);
    const [header, ...body] = rows;
    assert.deepEqual(header!.slice(0, 4), ['frame', 't (s)', 'left_knee_angle (deg)', 'right_knee_angle (deg)']);
    assert.ok(header!.includes('hip_height (torso lengths)') && header!.includes('stance_width (hip widths)'), header!.join());
    assert.ok(header!.includes('smoothed cumulative_rotation (deg)'), header!.join());
    assert.equal(body.length, metrics.summary.frames_analysed);
    assert.equal(body.length, 90);
    assert.ok(body.every((r) => r.length === header!.length));
    // The right frames: each row's frame number and time are the pose frame's, its values the series'.
    body.forEach((r, i) => {
      assert.equal(Number(r[0]), pose.frames[i].index, `row ${i} frame`);
      assert.equal(Number(r[1]), metrics.series.t[i], `row ${i} t`);
      const knee = metrics.series.left_knee_angle[i];
      assert.equal(r[2], knee === null ? '' : String(knee), `row ${i} left knee`);
    });

    const summary = parseCsv((await rider.get(`/api/videos/${videoId}/metrics.csv?table=summary`)).text);
    assert.deepEqual(summary[0], ['metric', 'value', 'unit', 'unavailable reason', 'meaning']);
    const byKey = new Map(summary.slice(1).map((r) => [r[0], r]));
    assert.equal(byKey.get('frames_analysed')![1], '90');
    assert.equal(byKey.get('joint_score_min')![1], String(metrics.summary.joint_score_min));
    for (const [key, why] of Object.entries(metrics.summary.unavailable as Record<string, string>)) {
      assert.equal(byKey.get(key)![3], why, `${key}'s reason`);
      assert.equal(byKey.get(key)![1], '', `${key} has no value`);
    }
    assert.equal(byKey.get('max_rotation_deg')![1], metrics.summary.max_rotation_deg === null ? '' : String(metrics.summary.max_rotation_deg));
  });

  it('serves the JSON download: the metrics, the frame numbers and the units', async () => {
    const metrics = (await rider.get(`/api/videos/${videoId}/metrics`)).body;
    const res = await rider.get(`/api/videos/${videoId}/metrics.json`).buffer(true);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-disposition']!, /^attachment; filename="jump one-metrics\.json"/);
    const doc = JSON.parse(res.text);
    assert.equal(doc.format, 'snowboarding-metrics');
    assert.deepEqual(doc.series, metrics.series);
    assert.deepEqual(doc.summary, metrics.summary);
    assert.equal(doc.frames.length, 90);
    assert.deepEqual(doc.frames, [...Array(90).keys()]);
    assert.equal(doc.units.left_knee_angle, 'deg');
    assert.equal(doc.units.hip_height, 'torso lengths');
    assert.equal(doc.video.id, videoId);
    assert.equal((await stranger.get(`/api/videos/${videoId}/metrics.json`)).status, 404);
  });

  it('renders the skeleton MP4 in a pose worker with progress, and serves it with ranges to a coach', async () => {
    const start = await coach.post(`/api/videos/${videoId}/exports`).send({ kind: 'mp4' });
    assert.equal(start.status, 202, JSON.stringify(start.body));
    const exportId = start.body.id as string;
    assert.equal(start.headers.location, `/api/videos/${videoId}/exports/${exportId}`);
    assert.equal(start.body.state, 'queued');
    assert.equal((await stranger.post(`/api/videos/${videoId}/exports`).send({})).status, 404);
    assert.equal((await stranger.get(`/api/videos/${videoId}/exports/${exportId}`)).status, 404);

    const progress: number[] = [];
    let last: Record<string, any> = {};
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      last = (await coach.get(`/api/videos/${videoId}/exports/${exportId}`)).body;
      if (progress.at(-1) !== last.progress) progress.push(last.progress);
      if (last.state === 'done' || last.state === 'failed') break;
      await sleep(40);
    }
    assert.equal(last.state, 'done', JSON.stringify(last));
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress never goes back');
    assert.equal(progress.at(-1), 1);
    assert.deepEqual([last.framesDone, last.framesTotal], [90, 90]);
    assert.equal(last.fileUrl, `/api/videos/${videoId}/exports/${exportId}/file`);
    // Asking again joins the finished export instead of rendering twice.
    const again = await rider.post(`/api/videos/${videoId}/exports`).send({});
    assert.equal(again.body.id, exportId);
    assert.equal(await c.tasks.countDocuments({ kind: 'export' as never }), 1);

    const file = await bytesOf(coach.get(last.fileUrl));
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'video/mp4');
    assert.match(file.headers['content-disposition']!, /^attachment; filename="jump one-skeleton\.mp4"/);
    const bytes = file.body as Buffer;
    assert.equal(bytes.length, last.size);
    const video = (await rider.get(`/api/videos/${videoId}`)).body;
    const probed = probeMp4(bytes);
    assert.equal(probed.codec, 'h264');
    assert.equal(probed.frames, 90);
    assert.ok(Math.abs(probed.duration - video.durationS) < 0.05, `${probed.duration} vs ${video.durationS}`);
    assert.deepEqual([probed.width, probed.height], [video.width, video.height]); // the 320×320 clip, as displayed
    const part = await bytesOf(coach.get(last.fileUrl).set('Range', 'bytes=100-199'));
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 100-199/${bytes.length}`);
    assert.deepEqual(part.body, bytes.subarray(100, 200));
  });

  it("reconciliation keeps an export's file while its record refers to it, and removes one nobody refers to", async () => {
    const vid = new ObjectId(videoId);
    const exp = await c.videos.db.collection('exports').findOne({ videoId: vid, state: 'done' });
    assert.ok(exp?.fileId);
    const stray = await h.api.media.put(Readable.from([Buffer.from('not an export of any record')]), 'stray.mp4', {
      videoId: vid, kind: 'export' as never, contentType: 'video/mp4',
    });
    await sleep(5); // older than a grace of 0 ms
    const report = await reconcileUploads(c, h.api.media, h.uploadDir, 0, () => undefined);
    assert.equal(report.mediaFilesRemoved, 1, JSON.stringify(report));
    assert.ok(await h.api.media.find(exp.fileId), 'the export record\'s file is kept');
    assert.equal(await h.api.media.find(stray.fileId), null, 'the file no record refers to is removed');
    assert.equal((await rider.get(`/api/videos/${videoId}/exports/${exp._id}/file`).set('Range', 'bytes=0-3')).status, 206);
    // A done export whose file went missing is made again on the next request.
    await h.api.media.remove(exp.fileId);
    const again = await rider.post(`/api/videos/${videoId}/exports`).send({});
    assert.equal(again.status, 202);
    assert.notEqual(again.body.id, String(exp._id));
    assert.equal((await c.videos.db.collection('exports').findOne({ _id: exp._id }))?.state, 'failed');
    const redone = await waitForExport(rider, videoId, again.body.id);
    assert.equal(redone.state, 'done', JSON.stringify(redone));
  });

  it('deleting the video removes its exports, their tasks and files', async () => {
    const exp = await c.videos.db.collection('exports').findOne({ videoId: new ObjectId(videoId) });
    assert.ok(exp?.fileId);
    assert.equal((await rider.delete(`/api/videos/${videoId}`)).status, 204);
    assert.equal(await c.videos.db.collection('exports').countDocuments({ videoId: new ObjectId(videoId) }), 0);
    assert.equal(await c.tasks.countDocuments({ videoId: new ObjectId(videoId) }), 0);
    assert.equal(await c.videos.db.collection('media.files').countDocuments({ 'metadata.videoId': new ObjectId(videoId) }), 0);
    assert.equal((await rider.get(`/api/videos/${videoId}/exports/${exp._id}`)).status, 404);
  });
});

describe('metrics files (pure)', () => {
  const m = {
    series: { t: [0, 0.033], left_knee_angle: [170.1, null], hip_height: [1.2, 1.3], smoothed: { left_knee_angle: [170, null], hip_height: [1.2, 1.3] } },
    summary: { max_rotation_deg: null, min_knee_angle_deg: 120.5, frames_analysed: 2, airborne_segments: [], unavailable: { max_rotation_deg: 'rider not seen, "really"', airtime_s: 'feet not visible' } },
  };

  it('writes units in the header, empty cells for missing values, and quotes what needs it', () => {
    assert.equal(
      framesCsv(m, [7, 8]),
      'frame,t (s),left_knee_angle (deg),hip_height (torso lengths),smoothed left_knee_angle (deg),smoothed hip_height (torso lengths)\r\n' +
        '7,0,170.1,1.2,170,1.2\r\n8,0.033,,1.3,,1.3\r\n',
    );
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell(Number.NaN), '');
    const rows = parseCsv(summaryCsv(m));
    const rot = rows.find((r) => r[0] === 'max_rotation_deg')!;
    assert.deepEqual(rot.slice(0, 4), ['max_rotation_deg', '', 'deg', 'rider not seen, "really"']);
    assert.equal(rows.find((r) => r[0] === 'airborne_segments')![3], 'feet not visible');
  });
});

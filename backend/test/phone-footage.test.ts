import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import { contentDisposition } from '../src/routes/videos.js';
import { refusalFor, summariseFfprobe } from '../src/upload/probe.js';
import { startHarness, type Harness } from './support/harness.js';
import { fakeMp4Header, ffmpegClip, minimalMp4, portraitMp4, realMp4 } from './support/fixtures.js';
import { startPoseWorker, type PoseWorker } from './support/poseWorker.js';

/*
 * Phone footage (issue 13), API side: the upload-time ffprobe check, the ingest task (probe, rendition, poster,
 * sprite, made by the real pose worker into GridFS), and the stream / original / poster / sprite endpoints.
 */

const pattern = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}:duration=${seconds}`];

/** Downloads an API file into a temp file (for ffprobe) and returns its path. */
async function saved(h: Harness, url: string, name: string): Promise<string> {
  const res = await bytesOf(h.http.get(url));
  assert.equal(res.status, 200, url);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'served-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, name);
  await writeFile(file, res.body);
  return file;
}

function ffprobeJson(file: string): any {
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', '-count_frames', '-select_streams', 'v:0', file], { encoding: 'utf8' }),
  );
}

function assertError(res: request.Response, status: number, error: string, detail?: RegExp) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error, error, JSON.stringify(res.body));
  if (detail) assert.match(res.body.detail, detail);
}

/** The response with its body as raw bytes, whatever its type. */
function bytesOf(req: request.Test) {
  return req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  });
}

/** Reads a job's SSE stream to its end and returns every progress value it carried. */
async function progressOf(url: string, headers: Record<string, string>): Promise<number[]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!)).filter((d) => typeof d.progress === 'number').map((d) => d.progress);
}

describe('upload-time probe', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ env: { MAX_DURATION_S: '2' } });
  });
  after(async () => {
    await h?.close();
  });

  async function assertNothingStored() {
    assert.equal(await h.api.db.collections.videos.countDocuments({}), 0);
    assert.deepEqual(await readdir(h.uploadDir), [], 'no file, temp file or derived folder left behind');
  }

  it('refuses a file with no video stream with 415', async () => {
    const audio = ffmpegClip('audio.m4a', ['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', '-f', 'mp4']);
    assertError(await h.upload(audio, { name: 'voice.mp4' }), 415, 'no_video_stream');
    await assertNothingStored();
  });

  it('refuses a video stream ffmpeg cannot decode with 415 naming the codec', async () => {
    const bytes = Buffer.from(realMp4());
    const at = bytes.indexOf('avc1', 40, 'latin1'); // the sample entry's fourcc in stsd
    bytes.write('zzzz', at, 'latin1');
    assertError(await h.upload(bytes, { name: 'odd.mp4' }), 415, 'unsupported_codec', /zzzz/);
    await assertNothingStored();
  });

  it('refuses a clip longer than MAX_DURATION_S with 413 naming the limit', async () => {
    const long = ffmpegClip('long.mp4', [...pattern('160x120', 5, 3), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
    assertError(await h.upload(long), 413, 'too_long', /limit is 2 s/);
    await assertNothingStored();
  });

  it('refuses a file that only looks like an mp4 from its first bytes', async () => {
    assertError(await h.upload(fakeMp4Header()), 415, 'no_video_stream');
    await assertNothingStored();
  });

  it('accepts HEVC 10-bit .mov, VP9 WebM, AV1 WebM, MPEG-4 Part 2, ProRes and Matroska, and reports the display size at once', async () => {
    const clips: [string, Buffer, string][] = [
      ['hevc10.mov', ffmpegClip('hevc10.mov', [...pattern('320x240', 10, 1), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p10le', '-tag:v', 'hvc1', '-f', 'mov']), 'hevc'],
      ['vp9.webm', ffmpegClip('vp9.webm', [...pattern('160x120', 10, 1), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8']), 'vp9'],
      ['mp4v.mp4', ffmpegClip('mp4v.mp4', [...pattern('160x120', 10, 1), '-c:v', 'mpeg4']), 'mpeg4'],
      ['prores.mov', ffmpegClip('prores.mov', [...pattern('160x120', 10, 1), '-c:v', 'prores_ks', '-profile:v', '0', '-f', 'mov']), 'prores'],
      ['clip.mkv', ffmpegClip('clip.mkv', [...pattern('160x120', 10, 1), '-c:v', 'libx264', '-preset', 'ultrafast', '-f', 'matroska']), 'h264'],
    ];
    const hasAv1 = /libaom-av1|libdav1d|libsvtav1/.test(execFileSync('ffmpeg', ['-v', 'error', '-encoders'], { encoding: 'utf8' }));
    if (hasAv1) {
      clips.push(['av1.webm', ffmpegClip('av1.webm', [...pattern('160x120', 10, 1), '-c:v', 'libaom-av1', '-cpu-used', '8', '-crf', '50']), 'av1']);
    }
    for (const [name, bytes, codec] of clips) {
      const res = await h.upload(bytes, { name });
      assert.equal(res.status, 202, `${name}: ${JSON.stringify(res.body)}`);
      const video = (await h.http.get(`/api/videos/${res.body.videoId}`)).body;
      assert.equal(video.probe.codec, codec, name);
      assert.ok(video.width > 0 && video.height > 0, name);
    }
  });

  it('decides refusals from the probe alone (pure)', () => {
    const base = summariseFfprobe({
      format: { format_name: 'mov,mp4', duration: '12.5' },
      streams: [{ codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30000/1001', side_data_list: [{ rotation: -90 }] }],
      frames: [{}],
    });
    assert.equal(base.rotation, 90, 'a -90° (counterclockwise) matrix is turned 90° clockwise for display');
    assert.deepEqual([base.displayWidth, base.displayHeight], [1080, 1920]);
    assert.ok(Math.abs(base.fps! - 29.97) < 0.01);
    assert.equal(refusalFor(base, 600), null);
    assert.equal(refusalFor(base, 10)?.status, 413);
    assert.match(refusalFor({ ...base, durationS: 700 }, 600)!.message, /600 s \(10 min\)/);
    assert.equal(refusalFor({ ...base, decodable: false }, 600)?.code, 'unsupported_codec');
    assert.equal(refusalFor({ ...base, hasVideo: false }, 600)?.code, 'no_video_stream');
  });
});

describe('ingest by the real pose worker: rendition, poster and original from the media store', () => {
  let h: Harness;
  let worker: PoseWorker | null = null;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await worker?.stop();
    await h?.close();
  });

  it('serves the original on /stream while no rendition exists', async () => {
    const bytes = minimalMp4(3);
    const res = await h.upload(bytes);
    const before = await h.http.get(`/api/videos/${res.body.videoId}/stream`).set('Range', 'bytes=0-9');
    assert.equal(before.status, 206);
    assert.equal(before.headers['content-range'], `bytes 0-9/${bytes.length}`, 'the original while no rendition exists');
    const video = (await h.http.get(`/api/videos/${res.body.videoId}`)).body;
    assert.deepEqual([video.posterUrl, video.renditionReady], [null, false]);
    assert.equal((await h.http.get(`/api/videos/${res.body.videoId}/poster`)).status, 404);
    assert.equal((await h.http.delete(`/api/videos/${res.body.videoId}`)).status, 204);
  });

  it('analyses a portrait phone clip in display orientation and serves an H.264 rendition of it', async () => {
    const bytes = portraitMp4();
    const res = await h.upload(bytes, { name: 'Piste noire – 1.mp4' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { videoId, jobId } = res.body;
    // Right after the upload the display size is known from the upload-time probe.
    const early = (await h.http.get(`/api/videos/${videoId}`)).body;
    assert.deepEqual([early.width, early.height], [480, 640]);

    const progress = progressOf(`${h.url}/api/jobs/${jobId}/events`, h.session.headers);
    worker = await startPoseWorker(h.mongo.uri, h.config.mongodbDb);
    const job = await h.waitForJob(jobId, ['done', 'failed'], 120_000);
    assert.equal(job.state, 'done', JSON.stringify(job));
    const seen = await progress;
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), `progress went backwards: ${seen}`);
    assert.equal(seen.at(-1), 1);

    const video = (await h.http.get(`/api/videos/${videoId}`)).body;
    assert.deepEqual([video.width, video.height], [480, 640], 'Video reports the display size');
    assert.equal(video.probe.codec, 'h264');
    // ffmpeg 5.1 stores rotate=90 as a matrix that turns the picture 90° counterclockwise (270° clockwise).
    assert.equal(video.probe.rotation, 270);
    assert.deepEqual([video.probe.width, video.probe.height], [480, 640]);
    assert.equal(video.probe.frameRateMode, 'cfr');
    assert.equal(video.probe.fps, 10);
    assert.equal(video.probe.durationS, 1);
    assert.equal(video.probe.source, 'ingest');
    assert.equal(video.posterUrl, `/api/videos/${videoId}/poster`);
    assert.equal(video.renditionReady, true);
    assert.equal(typeof video.timing.probeS, 'number');
    assert.equal(typeof video.timing.ingestS, 'number');
    assert.equal(typeof video.timing.poseS, 'number');
    assert.deepEqual(await readdir(h.uploadDir), [], 'nothing on the API\'s disk: the worker wrote into GridFS');

    // /stream now serves the rendition: H.264 High, yuv420p, rotation applied, every frame kept.
    const renditionPath = await saved(h, `/api/videos/${videoId}/stream`, 'rendition.mp4');
    const r = ffprobeJson(renditionPath).streams[0];
    assert.equal(r.codec_name, 'h264');
    assert.equal(r.profile, 'High');
    assert.equal(r.pix_fmt, 'yuv420p');
    assert.deepEqual([r.width, r.height], [480, 640]);
    assert.equal(Number(r.nb_read_frames), 10);
    const stream = await h.http.get(`/api/videos/${videoId}/stream`).set('Range', 'bytes=0-99').buffer(true);
    const total = String(stream.headers['content-range']);
    assert.equal(stream.status, 206);
    assert.equal(stream.headers['content-type'], 'video/mp4');
    assert.match(total, /^bytes 0-99\/\d+$/);
    assert.notEqual(Number(total.split('/')[1]), bytes.length, 'the rendition, not the original');
    const past = await h.http.get(`/api/videos/${videoId}/stream`).set('Range', 'bytes=999999999-');
    assert.equal(past.status, 416);

    // The original downloads byte for byte under its uploaded (UTF-8) name.
    const original = await bytesOf(h.http.get(`/api/videos/${videoId}/original`));
    assert.equal(original.status, 200);
    assert.equal(createHash('sha256').update(original.body).digest('hex'), createHash('sha256').update(bytes).digest('hex'));
    assert.equal(original.headers['content-disposition'], contentDisposition('Piste noire – 1.mp4'));
    assert.match(String(original.headers['content-disposition']), /filename\*=UTF-8''Piste%20noire%20%E2%80%93%201\.mp4/);

    // The poster: a real JPEG at the display size, cacheable and revalidated by ETag.
    const poster = await bytesOf(h.http.get(`/api/videos/${videoId}/poster`));
    assert.equal(poster.status, 200);
    assert.equal(poster.headers['content-type'], 'image/jpeg');
    assert.match(String(poster.headers['cache-control']), /max-age=\d+/);
    assert.deepEqual([...poster.body.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const again = await h.http.get(`/api/videos/${videoId}/poster`).set('If-None-Match', String(poster.headers.etag));
    assert.equal(again.status, 304);
    // The scrub strip: one row of tiles in display orientation, each with its frame's time.
    assert.equal(video.spriteUrl, `/api/videos/${videoId}/sprite`);
    assert.deepEqual(
      { ...video.spriteLayout, times: video.spriteLayout.times.length },
      // The pose service's sprite: thumbnails with a long side of 160 (docs/contracts.md), one per 0.1 s here.
      { columns: 9, rows: 1, tileWidth: 120, tileHeight: 160, times: 9 },
    );
    const sprite = await bytesOf(h.http.get(`/api/videos/${videoId}/sprite`));
    assert.equal(sprite.status, 200);
    assert.equal(sprite.headers['content-type'], 'image/jpeg');
    const tiles = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', await saved(h, `/api/videos/${videoId}/sprite`, 'sprite.jpg')], { encoding: 'utf8' })).streams[0];
    assert.deepEqual([tiles.width, tiles.height], [9 * 120, 160]);

    // Deleting the video removes its derived files too.
    assert.equal((await h.http.delete(`/api/videos/${videoId}`)).status, 204);
    assert.equal(await h.api.media.files.countDocuments({ 'metadata.videoId': new ObjectId(videoId as string) }), 0);
    assert.equal((await h.http.get(`/api/videos/${videoId}/poster`)).status, 404);
  });

  it('writes Content-Disposition with an ASCII fallback and the exact UTF-8 name', () => {
    assert.equal(contentDisposition('run.mp4'), `attachment; filename="run.mp4"; filename*=UTF-8''run.mp4`);
    assert.equal(contentDisposition('Ski "jump".mov'), `attachment; filename="Ski _jump_.mov"; filename*=UTF-8''Ski%20%22jump%22.mov`);
    assert.equal(contentDisposition('día.mp4'), `attachment; filename="d_a.mp4"; filename*=UTF-8''d%C3%ADa.mp4`);
  });
});

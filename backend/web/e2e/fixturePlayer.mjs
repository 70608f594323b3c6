// TEST DOUBLE, part of the fixture API (e2e/fixtureApi.mjs), for issue 18's player and drawing tools:
//  - "v-portrait": a portrait phone clip (270×480): the rider clip turned a quarter clockwise by Debian's ffmpeg
//    (started in the background when the double starts; its first stream request waits for it), its pose turned with it (x' = 270 − y, y' = x); metrics as the rider's;
//  - GET/PUT /api/videos/:id/drawings for every video, kept in memory, with the API's access rules (a coach reads,
//    PUT → 403 read_only) and its 400 on a body without a `drawings` list (the API's full validation is tested in
//    backend/test/drawings.test.ts).
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PORTRAIT_ID = 'v-portrait';
const W = 480;
const H = 270;

/** The recorded rider's pose as the portrait clip shows it: every point turned 90° clockwise in a 270×480 frame. */
export function portraitPose(dir) {
  const pose = JSON.parse(readFileSync(path.join(dir, 'pose-v-rider.json'), 'utf8'));
  const turn = (k) => ({ ...k, x: +(H - k.y).toFixed(2), y: k.x });
  return {
    ...pose, videoId: PORTRAIT_ID, width: H, height: W,
    frames: pose.frames.map((f) => ({ ...f, persons: f.persons.map((p) => ({
      ...p, keypoints: p.keypoints.map(turn), bbox: [+(H - p.bbox[3]).toFixed(2), p.bbox[0], +(H - p.bbox[1]).toFixed(2), p.bbox[2]],
    })) })),
  };
}

/** The video entry (a copy of the rider's analysed run, opened by its id only: no library list changes). */
export const portraitVideo = (rider) => ({
  ...rider, id: PORTRAIT_ID, title: 'Portrait phone clip', width: H, height: W, originalName: 'IMG_0420.MOV', _unlisted: true,
  probe: { ...rider.probe, width: H, height: W }, job: { ...rider.job, id: 'j-portrait', videoId: PORTRAIT_ID },
});

export function createPlayerDouble({ dir, find, mayRead, changeRefusal, json, fail }) {
  const drawings = new Map(); // videoId → {drawings, updatedAt}
  // Made in the background from the start: no test waits for the encode unless it asks for the clip at once.
  const clip = new Promise((resolve, reject) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'fixture-portrait-')), 'portrait.webm');
    execFile('ffmpeg', ['-v', 'error', '-y', '-i', path.join(dir, 'rider.webm'), '-vf', 'transpose=1', '-c:v', 'libvpx', '-b:v', '300k', '-g', '6', '-an', file],
      (err) => (err ? reject(err) : resolve(file)));
  });
  clip.catch(() => undefined); // reported to the request that needs it
  const readJson = (req) => new Promise((resolve) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(body || 'null'));
      } catch {
        resolve(undefined);
      }
    });
  });

  async function stream(req, res) {
    let file;
    try {
      file = await clip;
    } catch (err) {
      return fail(res, 500, 'fixture_ffmpeg_failed', String(err));
    }
    const size = statSync(file).size;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = range[1] ? Number(range[1]) : size - Number(range[2]);
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.writeHead(206, { 'content-type': 'video/webm', 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      return createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, { 'content-type': 'video/webm', 'accept-ranges': 'bytes', 'content-length': size });
    createReadStream(file).pipe(res);
  }

  /** Answers the routes above; false for anything else (the fixture API goes on). */
  function route(req, res, p, user) {
    let m;
    if (req.method === 'GET' && p === `/api/videos/${PORTRAIT_ID}/stream`) return void stream(req, res), true;
    if (req.method === 'GET' && p === `/api/videos/${PORTRAIT_ID}/pose`) return json(res, 200, portraitPose(dir)), true;
    if (!(m = /^\/api\/videos\/([^/]+)\/drawings$/.exec(p))) return false;
    const v = find(m[1]);
    if (!v || !mayRead(user, v)) return fail(res, 404, 'not_found', `No video ${m[1]}.`), true;
    if (req.method === 'GET') return json(res, 200, drawings.get(v.id) ?? { drawings: [], updatedAt: null }), true;
    if (req.method !== 'PUT') return fail(res, 405, 'method_not_allowed', req.method), true;
    const refusal = changeRefusal(user, v);
    if (refusal) return req.resume(), fail(res, ...refusal), true;
    readJson(req).then((body) => {
      if (body === undefined) return fail(res, 400, 'invalid_json', 'the body is not valid JSON');
      if (!Array.isArray(body?.drawings)) return fail(res, 400, 'invalid_drawings', 'send {"drawings": [...]}, the whole set for this video');
      const set = { drawings: body.drawings, updatedAt: new Date().toISOString() };
      drawings.set(v.id, set);
      json(res, 200, set);
    });
    return true;
  }
  return { route, drawingsOf: (id) => drawings.get(id)?.drawings ?? [] };
}

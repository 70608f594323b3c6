// TEST DOUBLE of the backend API (docs/contracts.md), for the browser tests only.
// Serves recorded, contract-shaped fixtures from e2e/fixtures/, keeps uploads and deletes in memory,
// and lets a test drive job state changes over SSE through POST /__fixture/jobs/:id (body: partial Job).
// Resumable uploads speak the tus protocol like the API (e2e/fixtureApiUploads.mjs); a test can make the next PATCH
// drop its connection part-way (POST /__fixture/drop {"atFraction": 0.5}). The recordings, and the posters Debian's
// ffmpeg makes from the fixture clips when the double starts, are e2e/fixtureApiRecordings.mjs; the contracts its
// queries are read against, e2e/fixtureApiSchemas.mjs.
// Accounts (issue 16) come from e2e/fixtureAccounts.mjs: every /api route but POST /api/session and
// /api/shared/... needs the sb_session cookie (401 otherwise) and, to change anything, X-CSRF-Token (403); videos
// are owned (ana owns the recorded ones, ben one more); share links open one analysis. Test controls:
// POST /__fixture/sessions/expire (every session ends; with {"cutUploads": true} a tus PATCH refused for it loses its
// connection instead of reading the 401, as a browser sees it through the proxy when the API refuses a large body
// early; the client then asks HEAD, whose 401 has no body), /__fixture/auth-disabled {"on"}, /__fixture/attempts/reset, /__fixture/list {"id"} (an unlisted video shows in the library lists from then on).
// Issue 14 (job stage, frames, segments, waiting, queue position, ETA, partial pose while running, retry) comes from
// e2e/fixtureQueue.mjs; tests drive it with POST /__fixture/jobs/:id ("finished": [segments]) and /__fixture/videos.
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAccounts } from './fixtureAccounts.mjs';
import { createQueue, withQueueFields } from './fixtureQueue.mjs';
import { createPlayerDouble, portraitVideo } from './fixturePlayer.mjs';
import { createExportsDouble } from './fixtureExports.mjs';
import { dir, makePosters, read, SPRITE_LAYOUT, TRIM_FRAMES, TRIM_S, trimmedReference } from './fixtureApiRecordings.mjs';
import { queryViolation } from './fixtureApiSchemas.mjs';
import { createUploads } from './fixtureApiUploads.mjs';

// The suites import these from here (the recordings live in fixtureApiRecordings.mjs).
export { SPRITE_LAYOUT, TRIM_FRAMES, trimmedReference } from './fixtureApiRecordings.mjs';

export function createFixtureApi() {
  const accounts = createAccounts();
  const videos = read('videos.json').map((v) => ({ ...v, ownerId: 'u-ana' }));
  // Another rider's analysed run: the browser tests check ana never sees it.
  videos.push({ ...videos.find((v) => v.id === 'v-rider'), id: 'v-ben', title: 'Ben — frontside 180', ownerId: 'u-ben',
    job: { ...videos.find((v) => v.id === 'v-rider').job, id: 'j-ben', videoId: 'v-ben' } });
  // Issue 18: the same run filmed from the waist up (legs guessed, not seen: pose-v-waist.json, metrics-v-waist.json),
  // opened by its id only, so every library list stays as the tests above expect it.
  videos.push({ ...videos.find((v) => v.id === 'v-rider'), id: 'v-waist', title: 'Waist-up clip', _fixture: 'v-waist', _unlisted: true,
    job: { ...videos.find((v) => v.id === 'v-rider').job, id: 'j-waist', videoId: 'v-waist' } });
  // Issue 18 (compare): the trimmed reference (above), unlisted until a test lists it (POST /__fixture/list).
  videos.push({ ...videos.find((v) => v.id === 'v-ref'), id: 'v-ref-early', title: 'Coach: clean 720, from the approach', _fixture: 'v-ref-early', _unlisted: true,
    _trimmed: true, durationS: 3 - TRIM_S, probe: { ...videos.find((v) => v.id === 'v-ref').probe, durationS: 3 - TRIM_S, frameCount: 72 - TRIM_FRAMES },
    job: { ...videos.find((v) => v.id === 'v-ref').job, id: 'j-ref-early', videoId: 'v-ref-early' } });
  // Issue 18 (player): a portrait phone clip, opened by its id only (e2e/fixturePlayer.mjs).
  videos.push(portraitVideo(videos.find((v) => v.id === 'v-rider')));
  /** Which recorded pose/metrics a video serves. */
  const fixtureOf = (v) => v._fixture ?? (v.id === 'v-ref' ? 'v-ref' : 'v-rider');
  const { posters, sprites } = makePosters();
  // Issue 18 (export): metrics CSV/JSON and the skeleton MP4 (e2e/fixtureExports.mjs).
  const exportsDouble = createExportsDouble({ dir, find: (id) => videos.find((v) => v.id === id), mayRead: (u, v) => accounts.mayRead(u, v),
    metricsOf: (v) => read(`metrics-${fixtureOf(v)}.json`), poseOf: (v) => read(`pose-${fixtureOf(v)}.json`), json: (...a) => json(...a), fail: (...a) => fail(...a) });
  // Issue 18 (player): the portrait clip's stream and pose, and every video's drawings (e2e/fixturePlayer.mjs).
  const player = createPlayerDouble({ dir, find: (id) => videos.find((v) => v.id === id), mayRead: (u, v) => accounts.mayRead(u, v),
    changeRefusal: (u, v) => accounts.changeRefusal(u, v), json: (...a) => json(...a), fail: (...a) => fail(...a) });
  // Issue 14: stages, frames, queue, partial pose and retry (e2e/fixtureQueue.mjs).
  const queue = createQueue({ videos, poseOf: (v) => read(`pose-${v._file === 'reference.webm' ? 'v-ref' : 'v-rider'}.json`) });
  let cutRefusedPatches = false; // a tus PATCH without a session loses its connection instead of reading a 401
  const streams = new Map(); // jobId → Set<res>
  let seq = 0;
  const log = [];

  const json = (res, status, body) => {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(data) });
    res.end(data);
  };
  const fail = (res, status, error, detail) => json(res, status, { error, detail });
  const publicVideo = ({ _file, _fixture, _unlisted, _trimmed, ownerId, ...v }) => {
    const ingested = v.status === 'done' || queue.ingested(v);
    return {
      ...v,
      owner: accounts.ownerOf(ownerId),
      posterUrl: ingested ? `/api/videos/${v.id}/poster` : null,
      spriteUrl: ingested ? `/api/videos/${v.id}/sprite` : null,
      spriteLayout: ingested ? SPRITE_LAYOUT : null,
    };
  };
  /** The share page's view of a video: no owner, media under /api/shared/<token>/. */
  const sharedVideo = (v, t) => {
    const { owner, ...rest } = publicVideo(v);
    const ingested = v.status === 'done';
    return { ...rest, posterUrl: ingested ? `/api/shared/${t}/poster` : null, spriteUrl: ingested ? `/api/shared/${t}/sprite` : null };
  };
  const find = (id) => videos.find((v) => v.id === id);
  const findJob = (jobId) => videos.find((v) => v.job?.id === jobId);

  const sendEvent = (res, job) => res.write(`event: job\ndata: ${JSON.stringify(job)}\n\n`);

  function stream(req, res, v) {
    const file = v._trimmed ? trimmedReference() : path.join(dir, v._file);
    const size = statSync(file).size;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (req.headers.range && range) {
      const start = range[1] ? Number(range[1]) : size - Number(range[2]);
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        return res.end();
      }
      res.writeHead(206, { 'content-type': 'video/webm', 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
      return createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, { 'content-type': 'video/webm', 'accept-ranges': 'bytes', 'content-length': size });
    createReadStream(file).pipe(res);
  }

  function addVideo({ name, role, title, size, ownerId }) {
    const now = new Date().toISOString();
    const id = `v-up-${++seq}`;
    const ext = path.extname(name).toLowerCase().slice(1);
    const job = withQueueFields({ id: `j-up-${seq}`, videoId: id, state: 'queued', progress: 0, attempts: 0, error: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null });
    videos.unshift({ id, title, role, originalName: name, size, sha256: '0'.repeat(64), container: ext, createdAt: now, status: 'queued', job, fps: null, durationS: null, width: null, height: null, probe: null, _file: 'rider.webm', ownerId });
    queue.renumber();
    return { videoId: id, jobId: job.id };
  }

  // Resumable (tus) and multipart uploads (e2e/fixtureApiUploads.mjs).
  const uploads = createUploads({ addVideo, json: (...a) => json(...a), fail: (...a) => fail(...a) });

  const readBody = (req) => new Promise((resolve) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });
  const parseJson = (text) => {
    try {
      return JSON.parse(text || 'null');
    } catch {
      return null;
    }
  };

  /** Test controls: not part of the API, never behind the session gate. */
  function control(req, res, p) {
    let m;
    if (req.method === 'POST' && (m = /^\/__fixture\/jobs\/([^/]+)$/.exec(p))) {
      readBody(req).then((body) => {
        const v = findJob(m[1]);
        if (!v) return fail(res, 404, 'not_found', 'no such job');
        queue.applyJobPatch(v, JSON.parse(body || '{}'));
        v.status = v.job.state;
        if (v.status === 'done') Object.assign(v, { fps: 24, durationS: 3, width: 480, height: 270 });
        for (const s of streams.get(v.job.id) ?? []) {
          sendEvent(s, v.job);
          if (v.status === 'done' || v.status === 'failed') s.end();
        }
        json(res, 200, { listeners: streams.get(v.job.id)?.size ?? 0 });
      });
      return true;
    }
    if (req.method === 'POST' && p === '/__fixture/list') {
      readBody(req).then((body) => {
        const v = find(JSON.parse(body || '{}').id);
        if (!v) return fail(res, 404, 'not_found', 'no such video');
        v._unlisted = false;
        json(res, 200, { listed: v.id });
      });
      return true;
    }
    if (req.method === 'POST' && p === '/__fixture/drop') {
      readBody(req).then((body) => {
        json(res, 200, { dropNext: uploads.dropAt(JSON.parse(body || '{}').atFraction ?? 0.5) });
      });
      return true;
    }
    if (req.method === 'POST' && p === '/__fixture/videos') {
      readBody(req).then((body) => json(res, 201, queue.addFixtureVideo(JSON.parse(body || '{}'))));
      return true;
    }
    if (req.method === 'GET' && p === '/__fixture/uploads') {
      json(res, 200, uploads.list());
      return true;
    }
    if (req.method === 'POST' && p === '/__fixture/sessions/expire') {
      readBody(req).then((body) => {
        accounts.expireSessions();
        cutRefusedPatches = JSON.parse(body || '{}').cutUploads === true;
        json(res, 200, { sessions: 0, cutRefusedPatches });
      });
      return true;
    }
    if (req.method === 'POST' && p === '/__fixture/auth-disabled') {
      readBody(req).then((body) => json(res, 200, { authDisabled: accounts.setAuthDisabled(JSON.parse(body || '{}').on) }));
      return true;
    }
    if (req.method === 'POST' && p === '/__fixture/attempts/reset') {
      accounts.resetAttempts();
      json(res, 200, {});
      return true;
    }
    return false;
  }

  /**
   * A done video's /metrics as the API answers it (docs/contracts.md): `?series=0` the summary alone, `series=1`, empty
   * or none the whole recording; the query is read against docs/schemas/api-metrics-query.schema.json, as the API
   * reads it (anything else: its 400 invalid_query line).
   */
  function metrics(res, url, v) {
    const bad = queryViolation('api-metrics-query', url.searchParams);
    if (bad) return fail(res, 400, 'invalid_query', bad);
    const whole = read(`metrics-${fixtureOf(v)}.json`);
    return json(res, 200, url.searchParams.get('series') === '0' ? { summary: whole.summary } : whole);
  }

  /** GET /api/shared/:token[/stream|poster|sprite|pose|metrics]: public, read-only, one analysis. */
  function shared(req, res, url, t, what) {
    const id = accounts.sharedVideoId(t);
    const v = id && find(id);
    if (!v || req.method !== 'GET') return fail(res, 404, 'not_found', 'This share link does not exist or was revoked.');
    if (!what) return json(res, 200, { video: sharedVideo(v, t) });
    if (what === 'stream') return stream(req, res, v);
    if (what === 'poster' || what === 'sprite') {
      if (v.status !== 'done') return fail(res, 404, 'not_found', `no ${what} yet`);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=86400' });
      return createReadStream((what === 'poster' ? posters : sprites)[v._file]).pipe(res);
    }
    if (v.status !== 'done') return fail(res, 409, 'not_ready', 'The analysis of this video is not finished.');
    if (what === 'metrics') return metrics(res, url, v);
    return json(res, 200, read(`${what}-${fixtureOf(v)}.json`));
  }

  /** The video, job and upload routes, scoped by owner like the API: another rider's id is a 404. */
  function api(req, res, url, p, user, body) {
    let m;
    if (player.route(req, res, p, user)) return;
    if (exportsDouble.route(req, res, p, user)) return;
    if (req.method === 'GET' && p === '/api/videos') {
      const role = url.searchParams.get('role');
      const status = url.searchParams.get('status');
      const owner = url.searchParams.get('owner');
      const page = Number(url.searchParams.get('page') ?? 1);
      const limit = Number(url.searchParams.get('limit') ?? 20);
      const ownerId = owner ? accounts.users.find((u) => u.username === owner)?.id ?? '-' : null;
      const sort = url.searchParams.get('sort') || 'date';
      if (!['date', 'duration'].includes(sort)) return fail(res, 400, 'invalid_query', '`sort` must be one of date, duration');
      // As the API: a literal, case-insensitive substring of the title (of the upload's name when untitled).
      const q = (url.searchParams.get('q') ?? '').trim().toLowerCase();
      const all = videos.filter((v) => !v._unlisted && accounts.mayRead(user, v) && (!ownerId || v.ownerId === ownerId) && (!role || v.role === role) && (!status || v.status === status)
        && (!q || (v.title ?? v.originalName ?? '').toLowerCase().includes(q)));
      const newest = (a, b) => String(b.createdAt).localeCompare(String(a.createdAt));
      all.sort(sort === 'duration' ? (a, b) => (b.durationS ?? -1) - (a.durationS ?? -1) || newest(a, b) : newest);
      return json(res, 200, { items: all.slice((page - 1) * limit, page * limit).map(publicVideo), page, limit, total: all.length });
    }
    if ((m = /^\/api\/uploads(?:\/([^/]+))?$/.exec(p))) return uploads.tus(req, res, m[1], user);
    if (req.method === 'POST' && p === '/api/videos') return uploads.upload(req, res, user);
    if ((m = /^\/api\/videos\/([^/]+)\/shares(?:\/([^/]+))?$/.exec(p))) {
      const v = find(m[1]);
      if (!v || !accounts.mayRead(user, v)) return fail(res, 404, 'not_found', `No video ${m[1]}.`);
      const refusal = accounts.changeRefusal(user, v);
      if (refusal) return fail(res, ...refusal);
      if (req.method === 'POST' && !m[2]) return json(res, 201, accounts.createShare(v, v.ownerId));
      if (req.method === 'GET' && !m[2]) return json(res, 200, { items: accounts.sharesOf(v.id).map((s) => ({ id: s.id, prefix: s.prefix, url: null, createdAt: s.createdAt })) });
      if (req.method === 'DELETE' && m[2]) {
        if (!accounts.revoke(v.id, m[2])) return fail(res, 404, 'not_found', `No share ${m[2]}.`);
        res.writeHead(204);
        return res.end();
      }
      return fail(res, 405, 'method_not_allowed', req.method);
    }
    if ((m = /^\/api\/videos\/([^/]+)\/(poster|sprite)$/.exec(p))) {
      const v = find(m[1]);
      if (!v || !accounts.mayRead(user, v) || !publicVideo(v).posterUrl) return fail(res, 404, 'not_found', `no ${m[2]} yet`);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'private, max-age=86400' });
      return createReadStream((m[2] === 'poster' ? posters : sprites)[v._file]).pipe(res);
    }
    if (req.method === 'POST' && (m = /^\/api\/videos\/([^/]+)\/retry$/.exec(p))) {
      const v = find(m[1]);
      if (!v || !accounts.mayRead(user, v)) return fail(res, 404, 'not_found', `No video ${m[1]}.`);
      const refusal = accounts.changeRefusal(user, v);
      if (refusal) return fail(res, ...refusal);
      const r = queue.retry(v);
      return json(res, r.status, r.body);
    }
    if ((m = /^\/api\/videos\/([^/]+)(\/stream|\/pose|\/metrics)?$/.exec(p))) {
      const v = find(m[1]);
      if (!v || !accounts.mayRead(user, v)) return fail(res, 404, 'not_found', `No video ${m[1]}.`);
      if (req.method === 'DELETE' && !m[2]) {
        const refusal = accounts.changeRefusal(user, v);
        if (refusal) return fail(res, ...refusal);
        videos.splice(videos.indexOf(v), 1);
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'PATCH' && !m[2]) {
        const refusal = accounts.changeRefusal(user, v);
        if (refusal) return fail(res, ...refusal);
        const title = typeof body?.title === 'string' ? body.title.trim() : '';
        if (!title || title.length > 120) return fail(res, 400, 'invalid_title', 'the title must be 1 to 120 characters (not counting spaces at either end)');
        v.title = title;
        return json(res, 200, publicVideo(v));
      }
      if (!m[2]) return json(res, 200, publicVideo(v));
      if (m[2] === '/stream') return stream(req, res, v);
      if (m[2] === '/pose' && v.status !== 'done') {
        const r = queue.partialPose(v, url);
        return json(res, r.status, r.body);
      }
      if (v.status !== 'done') return fail(res, 409, 'not_ready', 'The analysis of this video is not finished.');
      if (m[2] === '/metrics') return metrics(res, url, v);
      return json(res, 200, read(`${m[2].slice(1)}-${fixtureOf(v)}.json`));
    }
    if ((m = /^\/api\/jobs\/([^/]+)(\/events)?$/.exec(p))) {
      const v = findJob(m[1]);
      if (!v || !accounts.mayRead(user, v)) return fail(res, 404, 'not_found', `No job ${m[1]}.`);
      if (!m[2]) return json(res, 200, v.job);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      sendEvent(res, v.job);
      if (v.status === 'done' || v.status === 'failed') return res.end();
      if (!streams.has(v.job.id)) streams.set(v.job.id, new Set());
      streams.get(v.job.id).add(res);
      req.on('close', () => streams.get(v.job.id)?.delete(res));
      return;
    }
    fail(res, 404, 'not_found', `No route ${req.method} ${p} in the fixture API.`);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://fixture');
    const p = url.pathname;
    log.push(`${req.method} ${p}`);
    if (control(req, res, p)) return;
    let m;
    if ((m = /^\/api\/shared\/([^/]+)(?:\/(stream|poster|sprite|pose|metrics))?$/.exec(p))) return shared(req, res, url, m[1], m[2]);
    const helpers = { json, fail };
    if (cutRefusedPatches && req.method === 'PATCH' && p.startsWith('/api/uploads/') && !accounts.signedIn(req)) {
      cutRefusedPatches = false;
      return req.socket.destroy();
    }
    // Session routes read a JSON body; the rest stream theirs (tus), so the gate runs before any body is read.
    const jsonBody = p.startsWith('/api/session') || (p === '/api/users' && req.method !== 'GET') || (req.method === 'PATCH' && /^\/api\/videos\/[^/]+$/.test(p));
    const body = jsonBody ? parseJson(await readBody(req)) : null;
    if (accounts.sessionRoute(req, res, p, body, helpers) !== null) return;
    const user = accounts.gate(req, res, p, helpers);
    if (!user) return req.resume();
    if (accounts.accountRoute(req, res, p, user, body, helpers) !== null) return;
    api(req, res, url, p, user, body);
  });
  return { server, log, accounts, queue, listeners: (jobId) => streams.get(jobId)?.size ?? 0, uploads: uploads.values };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 3001);
  createFixtureApi().server.listen(port, '127.0.0.1', () => console.log(`fixture API (test double) on http://127.0.0.1:${port}`));
}

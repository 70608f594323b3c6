// TEST DOUBLE of issue 14's side of the API (docs/contracts.md, "API additions"), for the browser tests only: the
// job's stage, frames, segments, waiting, queue position, ETA and partial flag; GET /pose while the job runs (the
// frames of the finished segments); POST /api/videos/:id/retry. fixtureApi.mjs calls in here; the state a test
// drives (which segments finished, whether the ingest made the rendition) is kept here, off the public JSON.
//
// Test controls, through POST /__fixture/jobs/:id (a partial Job as before) plus:
//   "finished": [k, ...]  the segments (0-based, of segments.total equal parts of the clip) whose frames are stored;
//                          sets segments.done, partial and (unless given) framesDone from them
//   "updatedAt": iso       an event that is older than the one before (out of order delivery)
// and POST /__fixture/videos {id, title, status, job, ingested} to add a video of ana's in any state.

/** Fields every job carries since issue 14, as the API fills them for a job that has not reached them. */
export function withQueueFields(job) {
  const final = job.state === 'done' || job.state === 'failed';
  return {
    stage: final ? null : 'ingest', framesDone: 0, framesTotal: null, segments: { total: null, done: 0, running: 0 },
    waiting: null, queuePosition: null, etaS: null, partial: false, ...job,
  };
}

/** The fixture clips' shape once the ingest probed them (both are 72 frames at 24 fps, 480×270). */
const INGESTED = { fps: 24, durationS: 3, width: 480, height: 270, renditionReady: true };

export function createQueue({ videos, poseOf }) {
  const state = new Map(); // videoId → {ingested, finished: number[], fixedQueue}
  const poseRequests = []; // {videoId, from, to, frames} per GET /pose while running
  let retries = 0;
  const of = (v) => {
    if (!state.has(v.id)) state.set(v.id, { ingested: false, finished: [], fixedQueue: false });
    return state.get(v.id);
  };

  /** queuePosition: 1 = next to start, among queued jobs (not yet past the ingest) by createdAt. */
  function renumber() {
    const queued = videos
      .filter((v) => v.job && v.job.state === 'queued' && (v.job.stage ?? 'ingest') === 'ingest' && !of(v).fixedQueue)
      .sort((a, b) => Date.parse(a.job.createdAt) - Date.parse(b.job.createdAt));
    queued.forEach((v, i) => (v.job.queuePosition = i + 1));
    for (const v of videos) if (v.job && v.job.state !== 'queued' && !of(v).fixedQueue) v.job.queuePosition = null;
  }

  /** Frame ordinals [start, end) of segment k of `total` over n frames (equal parts, as the workers plan them). */
  const segmentRange = (k, total, n) => [Math.floor((k * n) / total), Math.floor(((k + 1) * n) / total)];

  function markIngested(v) {
    of(v).ingested = true;
    Object.assign(v, INGESTED);
  }

  /** A test's POST /__fixture/jobs/:id: the job fields it sets, the segments it says are finished. */
  function applyJobPatch(v, patch) {
    const { finished, ...fields } = patch ?? {};
    const s = of(v);
    if ('queuePosition' in fields) s.fixedQueue = true;
    const job = withQueueFields({ ...v.job, ...fields, updatedAt: fields.updatedAt ?? new Date().toISOString() });
    if ((job.state === 'done' || job.state === 'failed') && !('stage' in fields)) job.stage = null;
    if (finished) {
      s.finished = [...finished];
      const total = job.segments?.total ?? 1;
      const n = poseOf(v).frames.length;
      job.segments = { ...job.segments, total, done: finished.length };
      job.partial = finished.length > 0;
      if (!('framesDone' in fields)) job.framesDone = finished.reduce((sum, k) => sum + segmentRange(k, total, n)[1] - segmentRange(k, total, n)[0], 0);
    }
    // progress = framesDone / framesTotal once known, never lower (the workers keep it so).
    if (job.framesTotal && !('progress' in fields)) job.progress = Math.max(v.job.progress ?? 0, Math.min(1, job.framesDone / job.framesTotal));
    v.job = job;
    v.status = job.state;
    if ((job.stage && job.stage !== 'ingest') || job.state === 'done') markIngested(v);
    renumber();
  }

  /**
   * GET /api/videos/:id/pose?from&to before the job is done: the finished segments' frames in the window, as
   * {status, body}; 409 not_ready while the job is queued or after it failed (as the API answers).
   */
  function partialPose(v, url) {
    if (v.status === 'queued' || v.status === 'failed') {
      return { status: 409, body: { error: 'not_ready', detail: `analysis is ${v.status}; pose frames appear as its segments finish` } };
    }
    const pose = poseOf(v);
    const s = of(v);
    const total = v.job.segments?.total || 1;
    const n = pose.frames.length;
    const from = Number(url.searchParams.get('from') ?? 0);
    const to = url.searchParams.has('to') ? Number(url.searchParams.get('to')) : Number.MAX_VALUE;
    const stored = (i) => s.finished.some((k) => {
      const [a, b] = segmentRange(k, total, n);
      return i >= a && i < b;
    });
    const frames = pose.frames.filter((f, i) => stored(i) && f.t >= from && f.t <= to);
    poseRequests.push({ videoId: v.id, from, to: url.searchParams.has('to') ? to : null, frames: frames.length });
    // The rider's track is chosen when the segments are joined (finish): null until then.
    return { status: 200, body: { videoId: v.id, fps: v.fps, width: v.width, height: v.height, riderTrackId: null, partial: true, frames } };
  }

  /** POST /api/videos/:id/retry: a failed video gets a new job from its upload; anything else is 409 not_failed. */
  function retry(v) {
    if (v.status !== 'failed') return { status: 409, body: { error: 'not_failed', detail: `the analysis of this video is ${v.status}, not failed` } };
    const now = new Date().toISOString();
    const job = withQueueFields({ id: `${v.job.id}-retry${++retries}`, videoId: v.id, state: 'queued', progress: 0, attempts: 0, error: null, errorDetail: null,
      createdAt: now, updatedAt: now, startedAt: null, finishedAt: null });
    v.job = job;
    v.status = 'queued';
    state.set(v.id, { ingested: of(v).ingested, finished: [], fixedQueue: false });
    renumber();
    return { status: 202, body: { videoId: v.id, jobId: job.id } };
  }

  /** POST /__fixture/videos: one more video of ana's, in the state the test asks for. */
  function addFixtureVideo({ id, title, status = 'queued', job = {}, ingested = false, file = 'rider.webm', ownerId = 'u-ana' }) {
    const now = new Date().toISOString();
    const v = {
      id, title, role: 'rider', originalName: `${id}.webm`, size: 113861, sha256: '0'.repeat(64), container: 'webm', createdAt: now, status,
      job: withQueueFields({ id: `j-${id}`, videoId: id, state: status, progress: 0, attempts: 0, error: null, createdAt: now, updatedAt: now, startedAt: null, finishedAt: null, ...job }),
      fps: null, durationS: null, width: null, height: null, probe: null, renditionReady: false, _file: file, ownerId,
    };
    videos.unshift(v);
    if ('queuePosition' in job) of(v).fixedQueue = true;
    if (ingested) markIngested(v);
    renumber();
    return { videoId: v.id, jobId: v.job.id };
  }

  for (const v of videos) if (v.job) v.job = withQueueFields(v.job);
  renumber();
  return { applyJobPatch, partialPose, retry, addFixtureVideo, renumber, ingested: (v) => of(v).ingested, poseRequests };
}

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config.js';
import { buildSnapshot, queueFields } from '../src/jobs/queueView.js';
import { riderError } from '../src/jobs/riderErrors.js';
import { parseRange } from '../src/routes/videos.js';
import { cleanOriginalName } from '../src/upload/receive.js';
import { detectContainer } from '../src/upload/sniff.js';
import { ObjectId } from 'mongodb';
import { startHarness, type Harness } from './support/harness.js';
import { heifBytes, minimalEbml, minimalMov, minimalMp4, minimalWebm, pngBytes } from './support/fixtures.js';

describe('health', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h?.close();
  });

  it('reports liveness', async () => {
    const res = await request(h.url).get('/health');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  it('reports ready when MongoDB and the pose service both answer', async () => {
    const res = await request(h.url).get('/health/ready');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ready', checks: { mongodb: { ok: true, detail: null }, pose: { ok: true, detail: null } } });
  });

  it('reports not_ready with 503 and says which check failed', async () => {
    h.pose.ready = false;
    const warming = await request(h.url).get('/health/ready');
    assert.equal(warming.status, 503);
    assert.equal(warming.body.status, 'not_ready');
    assert.equal(warming.body.checks.mongodb.ok, true);
    assert.equal(warming.body.checks.pose.ok, false);
    assert.match(warming.body.checks.pose.detail, /503/);
    h.pose.ready = true;

    await h.mongo.stop();
    try {
      const down = await request(h.url).get('/health/ready');
      assert.equal(down.status, 503);
      assert.equal(down.body.checks.mongodb.ok, false);
      assert.equal(typeof down.body.checks.mongodb.detail, 'string');
      assert.equal(down.body.checks.pose.ok, true);
      assert.equal((await request(h.url).get('/health')).status, 200, 'liveness does not depend on MongoDB');
    } finally {
      await h.mongo.restart();
    }
  });
});

describe('container sniffing', () => {
  it('recognises mp4, mov and webm from their first bytes', () => {
    assert.equal(detectContainer(minimalMp4()), 'mp4');
    assert.equal(detectContainer(minimalMov()), 'mov');
    assert.equal(detectContainer(minimalWebm()), 'webm');
    assert.equal(detectContainer(minimalEbml('matroska')), 'mkv');
  });
  it('rejects images, other EBML documents, truncated headers and text', () => {
    assert.equal(detectContainer(pngBytes()), null);
    assert.equal(detectContainer(heifBytes()), null);
    assert.equal(detectContainer(minimalEbml('notwebm')), null);
    assert.equal(detectContainer(minimalMp4().subarray(0, 10)), null);
    assert.equal(detectContainer(minimalWebm().subarray(0, 12)), null);
    assert.equal(detectContainer(Buffer.from('ftypisom but not at offset 4')), null);
    assert.equal(detectContainer(Buffer.alloc(0)), null);
  });
});

describe('range parsing', () => {
  it('resolves single ranges and flags unsatisfiable ones', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-5', 100), { start: 95, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=50-500', 100), { start: 50, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange(undefined, 100), null);
    assert.equal(parseRange('bytes=9-1', 100), null);
    assert.equal(parseRange('bytes=0-1,3-4', 100), null);
  });
});

describe('configuration', () => {
  const base = { MONGODB_URI: 'mongodb://db:27017/snow', POSE_SERVICE_URL: 'http://pose-service:5000/' };
  it('applies defaults and reads the database from the URI', () => {
    const c = loadConfig(base);
    assert.equal(c.port, 3001);
    assert.equal(c.mongodbDb, 'snow');
    assert.equal(c.poseServiceUrl, 'http://pose-service:5000');
    assert.equal(c.uploadDir, '/data/uploads');
    assert.equal(c.maxUploadBytes, 500 * 1024 * 1024);
    assert.equal(loadConfig({ ...base, MONGODB_URI: 'mongodb://db:27017' }).mongodbDb, 'snowboarding');
  });
  it('refuses missing or malformed values with one line naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ POSE_SERVICE_URL: base.POSE_SERVICE_URL }, /^MONGODB_URI is required/],
      [{ ...base, MONGODB_URI: 'postgres://x' }, /^MONGODB_URI=.*must use mongodb:/],
      [{ ...base, POSE_SERVICE_URL: 'not a url' }, /^POSE_SERVICE_URL=.*not a valid URL/],
      [{ ...base, PORT: '70000' }, /^PORT=70000 is out of range/],
      [{ ...base, SSE_POLL_MS: 'two' }, /^SSE_POLL_MS="two" is not an integer/],
      [{ ...base, MAX_UPLOAD_MB: '-1' }, /^MAX_UPLOAD_MB="-1" is not an integer/],
      [{ ...base, UPLOAD_DIR: 'relative/dir' }, /^UPLOAD_DIR=.*absolute/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'));
    }
  });
});

describe('job decisions', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const job = (n: number, state: 'queued' | 'running' | 'done' | 'failed', framesTotal: number | null = null, framesDone = 0) => ({
    _id: new ObjectId(n.toString(16).padStart(24, '0')),
    state,
    createdAt: at(n),
    framesTotal,
    framesDone,
    segmentsTotal: framesTotal === null ? null : 4,
    segmentsDone: framesDone === 0 ? 0 : 1,
  });

  it('puts queued jobs in line by age and estimates their wait from the live workers and the frames ahead', () => {
    // Oldest first: a running job with 300 of 1,000 frames done, a planned queued one (500), an unplanned one.
    const jobs = [job(3, 'queued'), job(1, 'running', 1000, 300), job(2, 'queued', 500), job(4, 'done', 900, 900)];
    const snap = buildSnapshot([{ framesPerSecond: 30 }, { framesPerSecond: 20 }, { framesPerSecond: null }], jobs, [
      { jobId: jobs[1]!._id, kind: 'segment' },
      { jobId: jobs[1]!._id, kind: 'segment' },
      { jobId: jobs[1]!._id, kind: 'finish' },
    ]);
    const running = queueFields(jobs[1]!, snap);
    assert.deepEqual(running, { segments: { total: 4, done: 1, running: 2 }, waiting: null, queuePosition: null, etaS: 14 }); // 700 / 50
    const second = queueFields(jobs[2]!, snap);
    assert.equal(second.queuePosition, 1);
    assert.equal(second.etaS, 24); // (700 + 500) / 50
    const unplanned = queueFields(jobs[0]!, snap);
    assert.equal(unplanned.queuePosition, 2);
    // Not planned yet: counts as the typical planned job ((1,000 + 500 ) / 2 frames).
    assert.equal(unplanned.etaS, 39); // (700 + 500 + 750) / 50
    assert.deepEqual(queueFields(jobs[3]!, snap), { segments: { total: 4, done: 1, running: 0 }, waiting: null, queuePosition: null, etaS: null });
  });

  it('says a job waits for workers when none is live, and has no ETA without a measured rate', () => {
    const jobs = [job(1, 'queued', 100)];
    assert.deepEqual(queueFields(jobs[0]!, buildSnapshot([], jobs, [])), {
      segments: { total: 4, done: 0, running: 0 }, waiting: 'workers', queuePosition: 1, etaS: null,
    });
    assert.equal(queueFields(jobs[0]!, buildSnapshot([{ framesPerSecond: null }], jobs, [])).etaS, null);
    assert.equal(queueFields(jobs[0]!, buildSnapshot([{ framesPerSecond: null }], jobs, [])).waiting, null);
  });

  it('words failures for the rider from the workers\' errorKind', () => {
    assert.match(String(riderError({ state: 'failed', error: null, errorKind: 'undecodable' })), /^This file is damaged/);
    assert.match(String(riderError({ state: 'queued', error: null, errorKind: 'undecodable' })), /tried once more automatically/);
    assert.equal(riderError({ state: 'running', error: null, errorKind: null }), null);
    assert.equal(riderError({ state: 'done', error: null, errorKind: 'internal' }), null);
    assert.equal(riderError({ state: 'failed', error: 'Stored words.', errorKind: 'internal' }), 'Stored words.', 'an older stored sentence wins');
    assert.equal(riderError({ state: 'failed', error: null, errorKind: 'something-new' }), null);
    for (const kind of ['undecodable', 'unsupported', 'no_frames', 'ingest_failed', 'internal', 'cancelled']) {
      assert.doesNotMatch(String(riderError({ state: 'failed', error: null, errorKind: kind })), /\b[45]\d\d\b|Error|errno|_/, kind);
    }
  });
  it('keeps only a display name from the client file name', () => {
    assert.equal(cleanOriginalName('../../etc/passwd'), 'passwd');
    assert.equal(cleanOriginalName('C:\\Users\\me\\run.mp4'), 'run.mp4');
    assert.equal(cleanOriginalName('a\u0001b.mp4'), 'ab.mp4');
    assert.equal(cleanOriginalName('..'), '..');
    assert.equal(cleanOriginalName(''), null);
  });
});

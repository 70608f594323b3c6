import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ConfigError, loadConfig } from '../src/config.js';
import { nextStateAfterFailure, retryDelayMs } from '../src/jobs/backoff.js';
import { chunkFrames } from '../src/jobs/worker.js';
import { parseRange } from '../src/routes/videos.js';
import { cleanOriginalName } from '../src/upload/receive.js';
import { detectContainer } from '../src/upload/sniff.js';
import { ObjectId } from 'mongodb';
import { frameFor } from './support/fakePoseService.js';
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
      [{ ...base, JOB_CONCURRENCY: 'two' }, /^JOB_CONCURRENCY="two" is not an integer/],
      [{ ...base, MAX_UPLOAD_MB: '-1' }, /^MAX_UPLOAD_MB="-1" is not an integer/],
      [{ ...base, UPLOAD_DIR: 'relative/dir' }, /^UPLOAD_DIR=.*absolute/],
      [{ ...base, JOB_HEARTBEAT_MS: '5000', JOB_STALE_MS: '1000' }, /^JOB_STALE_MS/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'));
    }
  });
});

describe('job decisions', () => {
  it('backs off exponentially, capped', () => {
    assert.deepEqual([1, 2, 3, 4].map((a) => retryDelayMs(1000, a)), [1000, 2000, 4000, 8000]);
    assert.equal(retryDelayMs(1000, 30), 300_000);
  });
  it('retries retryable failures until the last attempt', () => {
    assert.equal(nextStateAfterFailure(1, 3, true), 'queued');
    assert.equal(nextStateAfterFailure(3, 3, true), 'failed');
    assert.equal(nextStateAfterFailure(1, 3, false), 'failed');
  });
  it('chunks frames with their time span', () => {
    const frames = Array.from({ length: 250 }, (_, i) => frameFor(i, 25));
    const chunks = chunkFrames(new ObjectId(), frames);
    assert.deepEqual(chunks.map((c) => [c.chunk, c.frames.length, c.tStart, c.tEnd]), [
      [0, 100, 0, 99 / 25],
      [1, 100, 4, 199 / 25],
      [2, 50, 8, 249 / 25],
    ]);
    assert.deepEqual(chunkFrames(new ObjectId(), []), []);
  });
  it('keeps only a display name from the client file name', () => {
    assert.equal(cleanOriginalName('../../etc/passwd'), 'passwd');
    assert.equal(cleanOriginalName('C:\\Users\\me\\run.mp4'), 'run.mp4');
    assert.equal(cleanOriginalName('a\u0001b.mp4'), 'ab.mp4');
    assert.equal(cleanOriginalName('..'), '..');
    assert.equal(cleanOriginalName(''), null);
  });
});

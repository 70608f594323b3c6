// @vitest-environment node
// The browser tests' TEST DOUBLE of the API (e2e/fixtureApi.mjs, its recordings in e2e/fixtures/ and the issue 18
// doubles it mounts) held to the same JSON Schemas as the real API (docs/schemas, issue 17/5): every Video, Job,
// pose and metrics answer it gives, and its error bodies, are fetched over HTTP from the running double and
// validated with ajv. A recording that drifts from the contract fails here instead of teaching the web app a shape
// the real API never sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtureApi } from './fixtureApi.mjs';
import { violations } from './fixtureApiSchemas.mjs';

describe('the e2e API double answers what docs/schemas describes', () => {
  let api;
  let base;
  let cookie;
  const get = async (p) => {
    const res = await fetch(`${base}${p}`, { headers: { cookie } });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    api = createFixtureApi();
    await new Promise((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${api.server.address().port}`;
    const res = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin-pass-1' }) });
    expect(res.status).toBe(200);
    cookie = res.headers.get('set-cookie').split(';')[0];
  });
  afterAll(async () => {
    api?.server.closeAllConnections();
    await new Promise((resolve) => api?.server.close(resolve));
  });

  it('every Video and Job, listed or opened by id', async () => {
    const list = await get('/api/videos?limit=100');
    expect(list.status).toBe(200);
    const ids = [...list.body.items.map((v) => v.id), 'v-waist', 'v-ref-early', 'v-portrait'];
    expect(ids.length).toBeGreaterThan(6);
    const bad = {};
    for (const item of list.body.items) {
      const why = violations('video', item);
      if (why) bad[`list item ${item.id}`] = why;
    }
    for (const id of ids) {
      const video = await get(`/api/videos/${id}`);
      expect(video.status, id).toBe(200);
      const why = violations('video', video.body);
      if (why) bad[`video ${id}`] = why;
      if (video.body.job) {
        const job = await get(`/api/jobs/${video.body.job.id}`);
        const whyJob = violations('job', job.body);
        if (whyJob) bad[`job ${video.body.job.id}`] = whyJob;
      }
    }
    expect(bad).toEqual({});
  });

  it('every recorded pose and metrics answer', async () => {
    const bad = {};
    let served = 0;
    for (const id of ['v-rider', 'v-ref', 'v-waist', 'v-ref-early', 'v-portrait']) {
      for (const [route, schema] of [['pose', 'api-pose'], ['metrics', 'metrics'], ['metrics?series=0', 'api-metrics-summary']]) {
        const res = await get(`/api/videos/${id}/${route}`);
        expect(res.status, `${id}/${route}`).toBe(200);
        served++;
        const why = violations(schema, res.body);
        if (why) bad[`${id}/${route}`] = why;
      }
    }
    expect(served).toBe(15);
    expect(bad).toEqual({});
  });

  it('error bodies', async () => {
    for (const p of ['/api/videos/nope', '/api/videos/v-failed/pose', '/api/nothing', '/api/videos/v-rider/metrics?series=2', '/api/videos/v-rider/metrics?from=0']) {
      const res = await get(p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(violations('error', res.body), p).toBeNull();
    }
  });

  it('the metrics query: what docs/schemas/api-metrics-query.schema.json allows, refused with the API\'s lines', async () => {
    // The same lines backend/test/query-contract.test.ts holds the API to (both read the one schema file).
    for (const [q, keys] of [['series=0', ['summary']], ['series=1', ['series', 'summary']], ['series=', ['series', 'summary']], ['', ['series', 'summary']]]) {
      const res = await get(`/api/videos/v-rider/metrics?${q}`);
      expect(res.status, q).toBe(200);
      expect(Object.keys(res.body).sort(), q).toEqual(keys);
    }
    const refused = {};
    for (const q of ['series=2', 'series=%20', 'series=0&series=1', 'serie=0', 'SERIES=0', 'series=2&from=1', 'series=0&series=1&from=1', 'from=1&series=0&series=1', 'a%2Fb=1']) {
      const res = await get(`/api/videos/v-rider/metrics?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error, q).toBe('invalid_query');
      refused[q] = res.body.detail;
    }
    expect(refused).toEqual({
      'series=2': '`series` must be one of 0, 1',
      'series=%20': '`series` must be one of 0, 1',
      'series=0&series=1': 'query parameter `series` must be given once, as a plain value',
      'serie=0': 'unknown query parameter `serie`; allowed: series',
      'SERIES=0': 'unknown query parameter `SERIES`; allowed: series',
      'series=2&from=1': 'unknown query parameter `from`; allowed: series',
      'series=0&series=1&from=1': 'query parameter `series` must be given once, as a plain value',
      'from=1&series=0&series=1': 'unknown query parameter `from`; allowed: series',
      'a%2Fb=1': 'unknown query parameter `a/b`; allowed: series',
    });
  });

  it('the check can fail: a recorded frame with 16 keypoints is caught, naming the field', async () => {
    const pose = (await get('/api/videos/v-rider/pose')).body;
    const frame = pose.frames.find((f) => f.persons.length);
    const broken = { ...pose, frames: [{ ...frame, persons: [{ ...frame.persons[0], keypoints: frame.persons[0].keypoints.slice(1) }] }] };
    expect(violations('api-pose', broken)?.join()).toMatch(/\/frames\/0\/persons\/0\/keypoints/);
  });
});

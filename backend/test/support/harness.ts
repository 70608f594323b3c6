import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { startApi, type RunningApi } from '../../src/server.js';
import { FakePoseService, type FakePoseOptions } from './fakePoseService.js';
import { startTestMongo, type TestMongo } from './secantus.js';

/** Test settings: short heartbeats and backoff so recovery and retries happen in test time. */
export const FAST_ENV: Record<string, string> = {
  PORT: '0',
  MAX_UPLOAD_MB: '2',
  JOB_CONCURRENCY: '2',
  POSE_TIMEOUT_MS: '5000',
  JOB_MAX_ATTEMPTS: '3',
  JOB_BACKOFF_MS: '50',
  JOB_HEARTBEAT_MS: '100',
  JOB_STALE_MS: '600',
  JOB_POLL_MS: '50',
  SSE_POLL_MS: '200',
  READY_TIMEOUT_MS: '1000',
};

const quiet = () => undefined;

export interface Harness {
  mongo: TestMongo;
  pose: FakePoseService;
  uploadDir: string;
  config: Config;
  api: RunningApi;
  url: string;
  http: ReturnType<typeof request>;
  /** Starts another API process-equivalent (its own server, worker, MongoDB client) against the same database. */
  startAnotherApi(env?: Record<string, string>): Promise<RunningApi>;
  upload(bytes: Buffer, opts?: { name?: string; role?: string; title?: string }): Promise<request.Response>;
  waitForJob(jobId: string, states: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startHarness(opts: { env?: Record<string, string>; pose?: FakePoseOptions; mongo?: TestMongo } = {}): Promise<Harness> {
  const mongo = opts.mongo ?? (await startTestMongo());
  const pose = await new FakePoseService(opts.pose).start();
  const uploadDir = await mkdtemp(path.join(os.tmpdir(), 'uploads-'));
  const dbName = `test_${randomUUID().replace(/-/g, '')}`;
  const env = (extra: Record<string, string> = {}) => ({
    ...FAST_ENV,
    MONGODB_URI: mongo.uri,
    MONGODB_DB: dbName,
    POSE_SERVICE_URL: pose.url,
    UPLOAD_DIR: uploadDir,
    ...opts.env,
    ...extra,
  });
  const config = loadConfig(env());
  const apis: RunningApi[] = [];
  const startAnotherApi = async (extra: Record<string, string> = {}) => {
    const api = await startApi(loadConfig(env(extra)), { logger: process.env.TEST_LOG ? undefined : quiet });
    apis.push(api);
    return api;
  };
  const api = await startAnotherApi();
  const url = `http://127.0.0.1:${api.port}`;
  const http = request(url);
  const h: Harness = {
    mongo,
    pose,
    uploadDir,
    config,
    api,
    url,
    http,
    startAnotherApi,
    upload(bytes, { name = 'clip.mp4', role = 'rider', title } = {}) {
      const req = request(url).post('/api/videos').field('role', role);
      if (title !== undefined) req.field('title', title);
      return req.attach('video', bytes, name);
    },
    async waitForJob(jobId, states, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        const target = apis.find((a) => a.server.listening) ?? api;
        const res = await request(`http://127.0.0.1:${target.port}`).get(`/api/jobs/${jobId}`);
        last = res.body;
        if (res.status === 200 && states.includes(res.body.state)) return res.body;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`job ${jobId} did not reach ${states.join('/')} in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    },
    async close() {
      for (const a of apis) await a.close().catch(() => undefined);
      await pose.stop();
      if (!opts.mongo) await mongo.dispose();
      await rm(uploadDir, { recursive: true, force: true });
    },
  };
  return h;
}

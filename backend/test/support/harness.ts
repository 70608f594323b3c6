import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { loadConfig, type Config } from '../../src/config.js';
import { startApi, type RunningApi } from '../../src/server.js';
import { FakePoseService } from './fakePoseService.js';
import { startTestMongo, type TestMongo } from './secantus.js';

/** Test settings: small uploads, a fast SSE poll. */
export const FAST_ENV: Record<string, string> = {
  PORT: '0',
  MAX_UPLOAD_MB: '2',
  SSE_POLL_MS: '200',
  READY_TIMEOUT_MS: '1000',
};

const quiet = () => undefined;

/** The first admin every harness API creates at start-up (ADMIN_USERNAME / ADMIN_PASSWORD). */
export const TEST_ADMIN = { username: 'admin', password: `admin-${randomBytes(9).toString('base64url')}` };

/** A signed-in session as a client holds it: the cookie and the CSRF token, ready to send as headers. */
export interface Session {
  cookie: string;
  csrfToken: string;
  /** `Cookie` + `X-CSRF-Token`, for fetch() and raw http.request calls. */
  headers: Record<string, string>;
  user: { id: string; username: string; role: string };
}

/** supertest's request(url), with a session's cookie and CSRF token on every request. */
export type Client = Record<'get' | 'post' | 'put' | 'patch' | 'delete' | 'head', (path: string) => request.Test>;

export function clientFor(url: string, session: Pick<Session, 'headers'>): Client {
  const base = request(url);
  const signed = (t: request.Test) => t.set(session.headers);
  return {
    get: (p) => signed(base.get(p)),
    post: (p) => signed(base.post(p)),
    put: (p) => signed(base.put(p)),
    patch: (p) => signed(base.patch(p)),
    delete: (p) => signed(base.delete(p)),
    head: (p) => signed(base.head(p)),
  };
}

/** Signs in over HTTP (POST /api/session) and returns the session; throws with the answer if refused. */
export async function signIn(url: string, username: string, password: string): Promise<Session> {
  const res = await request(url).post('/api/session').send({ username, password });
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  if (res.body.authDisabled) {
    // AUTH_DISABLED=true: no cookie; every request acts as the local admin.
    return { cookie: '', csrfToken: res.body.csrfToken, headers: { 'X-CSRF-Token': res.body.csrfToken }, user: res.body.user };
  }
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('sb_session='));
  if (!cookie) throw new Error(`sign-in as ${username} set no sb_session cookie: ${JSON.stringify(setCookie)}`);
  return { cookie, csrfToken: res.body.csrfToken, headers: { Cookie: cookie, 'X-CSRF-Token': res.body.csrfToken }, user: res.body.user };
}

export interface Harness {
  mongo: TestMongo;
  pose: FakePoseService;
  uploadDir: string;
  config: Config;
  api: RunningApi;
  url: string;
  /** Signed in as the first admin (TEST_ADMIN): sees and may change every video. */
  http: Client;
  /** The admin's session (headers for fetch() and raw requests). */
  session: Session;
  /** Creates an account through the API (as the admin) and signs it in. */
  addUser(username: string, role: 'rider' | 'coach' | 'admin', opts?: { riders?: string[] }): Promise<{ password: string; session: Session; http: Client }>;
  /** Starts another API process-equivalent (its own server and MongoDB client) against the same database. */
  startAnotherApi(env?: Record<string, string>): Promise<RunningApi>;
  /** A multipart upload as the admin, or as `as` (another client). */
  upload(bytes: Buffer, opts?: { name?: string; role?: string; title?: string; as?: Client }): Promise<request.Response>;
  waitForJob(jobId: string, states: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startHarness(opts: { env?: Record<string, string>; mongo?: TestMongo } = {}): Promise<Harness> {
  const mongo = opts.mongo ?? (await startTestMongo());
  const pose = await new FakePoseService().start();
  const uploadDir = await mkdtemp(path.join(os.tmpdir(), 'uploads-'));
  const dbName = `test_${randomUUID().replace(/-/g, '')}`;
  const env = (extra: Record<string, string> = {}) => ({
    ...FAST_ENV,
    MONGODB_URI: mongo.uri,
    MONGODB_DB: dbName,
    POSE_SERVICE_URL: pose.url,
    UPLOAD_DIR: uploadDir,
    ADMIN_USERNAME: TEST_ADMIN.username,
    ADMIN_PASSWORD: TEST_ADMIN.password,
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
  const session = await signIn(url, TEST_ADMIN.username, TEST_ADMIN.password);
  const http = clientFor(url, session);
  const h: Harness = {
    mongo,
    pose,
    uploadDir,
    config,
    api,
    url,
    http,
    session,
    startAnotherApi,
    async addUser(username, role, { riders } = {}) {
      const res = await http.post('/api/users').send({ username, role, ...(riders ? { riders } : {}) });
      if (res.status !== 201) throw new Error(`creating ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      const userSession = await signIn(url, username, res.body.password);
      return { password: res.body.password, session: userSession, http: clientFor(url, userSession) };
    },
    upload(bytes, { name = 'clip.mp4', role = 'rider', title, as = http } = {}) {
      const req = as.post('/api/videos').field('role', role);
      if (title !== undefined) req.field('title', title);
      return req.attach('video', bytes, name);
    },
    async waitForJob(jobId, states, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: Record<string, unknown> = {};
      while (Date.now() < deadline) {
        const target = apis.find((a) => a.server.listening) ?? api;
        const res = await request(`http://127.0.0.1:${target.port}`).get(`/api/jobs/${jobId}`).set(session.headers);
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

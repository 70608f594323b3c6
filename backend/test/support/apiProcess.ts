import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Db } from 'mongodb';
import { FakePoseService } from './fakePoseService.js';
import { FAST_ENV } from './harness.js';
import { startTestMongo, type TestMongo } from './secantus.js';

/*
 * The API as its own process (`node --import tsx src/server.ts`), for tests that need a real crash (SIGKILL) at a
 * point a TEST_ONLY_* hook holds it, or a start-up that must stop by itself (runToExit).
 */

const backendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ApiProcess {
  child: ChildProcess;
  /** Set once the API printed its port (null when started with `listening: false` and not there yet). */
  url: string | null;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Waits for "listening on :port" and returns the base URL. */
  listening(timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

/** Starts the API with exactly `env` (plus PATH); by default waits until it listens. */
export async function spawnApi(env: Record<string, string>, opts: { listening?: boolean } = {}): Promise<ApiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: backendDir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const waitFor = async (pattern: RegExp, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = pattern.exec(out);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode} before printing ${pattern}: ${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`API did not print ${pattern} within ${timeoutMs} ms: ${out.slice(-2000)}`);
  };
  const api: ApiProcess = {
    child,
    url: null,
    output: () => out,
    waitFor,
    async listening(timeoutMs) {
      api.url = `http://127.0.0.1:${(await waitFor(/listening on :(\d+)/, timeoutMs))[1]}`;
      return api.url;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
  if (opts.listening !== false) await api.listening();
  return api;
}

/** How a process that stops by itself ended: its exit code (null when a signal ended it) and all it printed. */
export interface ApiExit {
  code: number | null;
  output: string;
}

/**
 * Starts the API with exactly `env` (plus PATH) and waits for it to exit: for a start-up that must refuse its
 * configuration. A start that does not end within `timeoutMs` is killed and fails, naming what it printed.
 */
export async function runToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<ApiExit> {
  const api = await spawnApi(env, { listening: false });
  // 'close', not 'exit': it comes once stdout and stderr are read to the end, so the output is whole. (No event can
  // have fired yet: spawnApi awaited nothing.)
  const closed = new Promise<number | null>((resolve) => api.child.once('close', (code: number | null) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const code = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (code === 'timeout') {
    await api.kill();
    throw new Error(`API still running after ${timeoutMs} ms (it should have exited): ${api.output().slice(-2000)}`);
  }
  return { code, output: api.output() };
}

/**
 * What an API process needs around it: a SecantusDB with a fresh database, a fake pose service, an empty uploads
 * folder, and the environment naming them (sign-in off: loopback only; these tests are about files and documents,
 * auth.test.ts covers accounts). Every process started through `spawn` is killed by `dispose`.
 */
export class ApiProcessBed {
  private readonly running: ApiProcess[] = [];

  private constructor(
    private readonly mongo: TestMongo,
    private readonly pose: FakePoseService,
    readonly client: MongoClient,
    readonly uploadDir: string,
    readonly env: Record<string, string>,
  ) {}

  /** `prefix` names the uploads folder, so a leftover one says which test made it. */
  static async start(prefix: string): Promise<ApiProcessBed> {
    const mongo = await startTestMongo();
    const pose = await new FakePoseService().start();
    const uploadDir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
    const env = {
      ...FAST_ENV, MONGODB_URI: mongo.uri, MONGODB_DB: `test_${randomUUID().replace(/-/g, '')}`, POSE_SERVICE_URL: pose.url,
      UPLOAD_DIR: uploadDir, AUTH_DISABLED: 'true',
    };
    const client = await new MongoClient(mongo.uri).connect();
    return new ApiProcessBed(mongo, pose, client, uploadDir, env);
  }

  get db(): Db {
    return this.client.db(this.env.MONGODB_DB);
  }

  /** Starts the API with the bed's environment plus `extra`; see spawnApi for `opts`. */
  async spawn(extra: Record<string, string> = {}, opts: { listening?: boolean } = {}): Promise<ApiProcess> {
    const api = await spawnApi({ ...this.env, ...extra }, opts);
    this.running.push(api);
    return api;
  }

  async dispose(): Promise<void> {
    for (const api of this.running) await api.kill();
    await this.client.close();
    await this.pose.stop();
    await this.mongo.dispose();
    await rm(this.uploadDir, { recursive: true, force: true });
  }
}

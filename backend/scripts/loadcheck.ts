/**
 * Load check: concurrent uploads of a large clip while many clients poll job status and the library list.
 * Prints p50/p99 per request kind and the API's resident memory over the run; exits 1 on any error or a missed target.
 *
 *   npm run loadcheck -- --local                      # SecantusDB + the pose-service test double + the API as its own process
 *   npm run loadcheck -- --url http://127.0.0.1:3001  # an API that is already running (--api-pid PID to sample its memory)
 *
 * Every request is signed in (one session, its cookie and CSRF token on each request, as a browser tab sends them):
 * --local creates its own admin; with --url give --username/--password (default: ADMIN_USERNAME / ADMIN_PASSWORD
 * from the environment, as `invoke up` writes them to backend/.env).
 *
 * Options: --uploads 50 --upload-mb 20 --pollers 200 --interval-ms 1000 --seed 20 --tail-s 5
 *          --p99-ms 200 (target for both polls) --rss-growth-mb 150 (target) --json
 *          --pose-nice 10: with --local, the pose double (and the ffmpeg it runs) gets this nice level, as the pose
 *          container's CPU limit would keep it off the API's share; 0 lets it compete equally.
 *          --api-cpu-prof DIR: with --local, the API writes a V8 CPU profile there (open it in Chrome DevTools).
 * Each poller, once per interval (with jitter), reads one job's status and the first library page, like an open
 * browser tab. The clip is a real 1 s H.264 MP4 (made by ffmpeg, so the upload-time probe accepts it) followed by a
 * `free` box that pads it to --upload-mb: the bytes are streamed and hashed in full, the analysis stays short.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

interface Sample {
  ms: number;
  status: number;
  at: number;
  error?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

function summarise(name: string, samples: Sample[], wallMs: number) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const failed = samples.filter((s) => s.status >= 400 || s.status === 0);
  const reasons = [...new Set(failed.map((s) => s.error ?? `HTTP ${s.status}`))].slice(0, 3).join('; ');
  return {
    name,
    requests: samples.length,
    errors: failed.length,
    ...(reasons ? { error_kinds: reasons } : {}),
    p50_ms: +percentile(ms, 50).toFixed(1),
    p95_ms: +percentile(ms, 95).toFixed(1),
    p99_ms: +percentile(ms, 99).toFixed(1),
    max_ms: +(ms.at(-1) ?? NaN).toFixed(1),
    per_s: +((samples.length / wallMs) * 1000).toFixed(1),
  };
}

/** A real 1 s H.264 MP4 from ffmpeg's test pattern, padded with a `free` box to `bytes`. */
async function sampleClip(bytes: number): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'loadcheck-clip-'));
  try {
    const out = path.join(dir, 'clip.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x480:rate=10:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out]);
    const clip = await readFile(out);
    const pad = Math.max(8, bytes - clip.length);
    const free = Buffer.alloc(pad, 0x5a);
    free.writeUInt32BE(pad, 0);
    free.write('free', 4, 'latin1');
    return Buffer.concat([clip, free]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function timed(fn: () => Promise<Response>): Promise<Sample> {
  const at = performance.now();
  try {
    const res = await fn();
    await res.arrayBuffer();
    return { ms: performance.now() - at, status: res.status, at };
  } catch (err) {
    const e = err as Error & { cause?: Error & { code?: string } };
    return { ms: performance.now() - at, status: 0, at, error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

/*
 * The uploads run in a worker thread: building and sending 50 multipart bodies of 20 MB keeps an event loop busy,
 * and that must not delay (and so inflate) the pollers' timings measured on the main thread.
 */
const UPLOADER = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, clip, count, headers } = workerData;
const body = new Blob([clip], { type: 'video/mp4' });
Promise.all(Array.from({ length: count }, async (_, i) => {
  const form = new FormData();
  form.append('role', 'rider');
  form.append('title', 'loadcheck ' + (i + 1));
  form.append('video', body, 'loadcheck-' + (i + 1) + '.mp4');
  const at = performance.now();
  try {
    const res = await fetch(url + '/api/videos', { method: 'POST', body: form, headers });
    const text = await res.text();
    let jobId = null;
    try { jobId = JSON.parse(text).jobId ?? null; } catch {}
    parentPort.postMessage({ ms: performance.now() - at, status: res.status, jobId, error: res.status >= 400 ? text.slice(0, 200) : undefined });
  } catch (err) {
    parentPort.postMessage({ ms: performance.now() - at, status: 0, jobId: null, error: (err.cause && (err.cause.code || err.cause.message)) || err.message });
  }
})).then(() => parentPort.postMessage('done'));
`;

function uploadInWorker(url: string, headers: SignedIn, clip: Buffer, count: number, onSample: (s: Sample & { jobId: string | null }) => void): Promise<void> {
  if (count === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const worker = new Worker(UPLOADER, { eval: true, workerData: { url, clip, count, headers } });
    worker.on('message', (m: 'done' | (Sample & { jobId: string | null })) => {
      if (m === 'done') {
        void worker.terminate();
        resolve();
      } else {
        onSample({ ...m, at: 0 });
      }
    });
    worker.on('error', reject);
  });
}

function upload(url: string, headers: SignedIn, body: Blob, i: number) {
  const form = new FormData();
  form.append('role', 'rider');
  form.append('title', `loadcheck ${i}`);
  form.append('video', body, `loadcheck-${i}.mp4`);
  return fetch(`${url}/api/videos`, { method: 'POST', body: form, headers });
}

/** The session cookie and CSRF token every request carries. */
type SignedIn = Record<string, string>;

/** Signs in (POST /api/session) and returns the headers a signed-in browser tab sends; exits with one line if refused. */
async function signIn(url: string, username: string, password: string): Promise<SignedIn> {
  const res = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const body = (await res.json().catch(() => ({}))) as { csrfToken?: string; authDisabled?: boolean; detail?: string };
  if (res.status !== 200 || !body.csrfToken) {
    throw new Error(`signing in as ${username} at ${url} failed: HTTP ${res.status} ${body.detail ?? ''}; pass --username/--password (or ADMIN_USERNAME/ADMIN_PASSWORD)`);
  }
  if (body.authDisabled) return { 'X-CSRF-Token': body.csrfToken };
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('sb_session='));
  if (!cookie) throw new Error(`signing in at ${url} set no session cookie`);
  return { Cookie: cookie, 'X-CSRF-Token': body.csrfToken };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux; 100 clock ticks per second). */
async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Resident set size of a process in MB, from /proc (Linux). */
async function rssMb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

interface RunOptions {
  uploads: number;
  uploadBytes: number;
  pollers: number;
  intervalMs: number;
  seed: number;
  tailMs: number;
  apiPid: number | null;
  mongoUri: string | null;
  headers: SignedIn;
}

async function run(url: string, o: RunOptions) {
  const clipBytes = await sampleClip(o.uploadBytes);
  const small = new Blob([await sampleClip(64 * 1024)], { type: 'video/mp4' });
  // A library to list and jobs to poll, there before the load starts.
  const jobIds: string[] = [];
  for (let i = 0; i < Math.max(1, o.seed); i++) {
    const res = await upload(url, o.headers, small, -i);
    if (res.status !== 202) throw new Error(`seed upload answered ${res.status}: ${await res.text()}`);
    jobIds.push(((await res.json()) as { jobId: string }).jobId);
  }

  const rss: { t: number; mb: number }[] = [];
  const sampleRss = async () => {
    if (o.apiPid === null) return;
    const mb = await rssMb(o.apiPid);
    if (mb !== null) rss.push({ t: performance.now(), mb });
  };
  await sampleRss();
  const rssTimer = setInterval(() => void sampleRss(), 250);
  const cpuBefore = o.apiPid === null ? null : await cpuSeconds(o.apiPid);
  const loadBefore = os.loadavg()[0]!;

  const statusSamples: Sample[] = [];
  const listSamples: Sample[] = [];
  const uploadSamples: Sample[] = [];
  let polling = true;
  // Where a stall comes from: /health answers without MongoDB (the API's own event loop), a direct ping is MongoDB alone.
  const healthSamples: Sample[] = [];
  const dbPings: number[] = [];
  const probes = (async () => {
    const { MongoClient } = await import('mongodb');
    const client = o.mongoUri ? await new MongoClient(o.mongoUri, { maxPoolSize: 1 }).connect() : null;
    while (polling) {
      healthSamples.push(await timed(() => fetch(`${url}/health`)));
      if (client) {
        const t = performance.now();
        await client.db('admin').command({ ping: 1 });
        dbPings.push(performance.now() - t);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await client?.close();
  })();
  // The load generator's own stalls would show up as slow polls: measured, so they can be told apart.
  const loaderLag = monitorEventLoopDelay({ resolution: 10 });
  loaderLag.enable();
  const start = performance.now();
  const pollers = Array.from({ length: o.pollers }, async (_, i) => {
    // Spread the first polls over one interval, as tabs opened at different times would be.
    await new Promise((r) => setTimeout(r, (i / o.pollers) * o.intervalMs));
    while (polling) {
      const next = performance.now() + o.intervalMs * (0.9 + Math.random() * 0.2);
      const jobId = jobIds[Math.floor(Math.random() * jobIds.length)]!;
      const [s, l] = await Promise.all([timed(() => fetch(`${url}/api/jobs/${jobId}`, { headers: o.headers })), timed(() => fetch(`${url}/api/videos?page=1&limit=20`, { headers: o.headers }))]);
      statusSamples.push(s);
      listSamples.push(l);
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  });
  await uploadInWorker(url, o.headers, clipBytes, o.uploads, (s) => {
    uploadSamples.push(s);
    if (s.jobId) jobIds.push(s.jobId);
  });
  const uploadsDone = performance.now();
  // Keep polling while the analyses of the new uploads run.
  await new Promise((r) => setTimeout(r, o.tailMs));
  polling = false;
  await Promise.all([...pollers, probes]);
  const wall = performance.now() - start;
  loaderLag.disable();
  clearInterval(rssTimer);
  const cpuAfter = o.apiPid === null ? null : await cpuSeconds(o.apiPid);
  await sampleRss();

  const jobStates: Record<string, number> = {};
  for (const id of jobIds) {
    const state = ((await (await fetch(`${url}/api/jobs/${id}`, { headers: o.headers })).json()) as { state?: string }).state ?? 'missing';
    jobStates[state] = (jobStates[state] ?? 0) + 1;
  }
  // When the slow polls happened (seconds since the start, worst latency in that second): stalls show as runs.
  const worstBySecond = new Map<number, number>();
  for (const s of [...statusSamples, ...listSamples]) {
    const sec = Math.floor((s.at - start) / 1000);
    worstBySecond.set(sec, Math.max(worstBySecond.get(sec) ?? 0, Math.round(s.ms)));
  }
  const timeline = [...worstBySecond].sort((a, b) => a[0] - b[0]).map(([sec, ms]) => `${sec}s:${ms}`).join(' ');
  const mbs = rss.map((r) => r.mb);
  const memory = mbs.length
    ? {
        rss_start_mb: +mbs[0]!.toFixed(1),
        rss_max_mb: +Math.max(...mbs).toFixed(1),
        rss_end_mb: +mbs.at(-1)!.toFixed(1),
        rss_growth_mb: +(Math.max(...mbs) - mbs[0]!).toFixed(1),
        samples: mbs.length,
      }
    : null;
  return {
    rows: [
      summarise(`job status polls (${o.pollers} clients, every ${o.intervalMs} ms)`, statusSamples, wall),
      summarise(`library list polls (${o.pollers} clients, every ${o.intervalMs} ms)`, listSamples, wall),
      summarise(`uploads (${o.uploads} concurrent, ${(o.uploadBytes / 1024 / 1024).toFixed(1)} MB each)`, uploadSamples, uploadsDone - start),
    ],
    memory,
    jobStates,
    timeline,
    apiCpuS: cpuBefore !== null && cpuAfter !== null ? +(cpuAfter - cpuBefore).toFixed(1) : null,
    machine: { cores: os.availableParallelism(), loadavg1Start: +loadBefore.toFixed(1), loadavg1End: +os.loadavg()[0]!.toFixed(1) },
    apiHealthMaxMs: +Math.max(...healthSamples.map((s) => s.ms)).toFixed(1),
    mongoPingMaxMs: dbPings.length ? +Math.max(...dbPings).toFixed(1) : null,
    loaderLagMs: { p99: +(loaderLag.percentile(99) / 1e6).toFixed(1), max: +(loaderLag.max / 1e6).toFixed(1) },
    wallS: +(wall / 1000).toFixed(1),
    uploadsS: +((uploadsDone - start) / 1000).toFixed(1),
  };
}

interface LocalStack {
  url: string;
  apiPid: number;
  mongoUri: string;
  close(): Promise<void>;
}

/** SecantusDB, the pose-service test double and the API as its own process (so its memory is its own). */
async function firstMatch(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(out);
    if (m) return m[1]!;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} from child: ${out.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The admin a --local API creates at start-up, and loadcheck signs in as. */
const LOCAL_ADMIN = { username: 'loadcheck', password: randomUUID() };

async function startLocal(poseNice: number, cpuProfDir: string | undefined): Promise<LocalStack> {
  const { startTestMongo } = await import('../test/support/secantus.js');
  const mongo = await startTestMongo();
  const backendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const poseChild = spawn('nice', ['-n', String(poseNice), process.execPath, '--import', 'tsx', 'scripts/pose-double.ts'], {
    cwd: backendDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pose = { url: await firstMatch(poseChild, /pose-double listening at (\S+)/) };
  const uploadDir = await mkdtemp(path.join(os.tmpdir(), 'loadcheck-uploads-'));
  const env = {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    MONGODB_URI: mongo.uri,
    MONGODB_DB: `loadcheck_${randomUUID().replace(/-/g, '')}`,
    POSE_SERVICE_URL: pose.url,
    UPLOAD_DIR: uploadDir,
    MAX_UPLOAD_MB: '100',
    ADMIN_USERNAME: LOCAL_ADMIN.username,
    ADMIN_PASSWORD: LOCAL_ADMIN.password,
  };
  const profile = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/server.ts'], { cwd: backendDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  let port: string | undefined;
  while (!(port = /listening on :(\d+)/.exec(out)?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the API did not start: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  console.error(`loadcheck: local API pid ${child.pid} at http://127.0.0.1:${port} (SecantusDB ${mongo.uri}, pose-service test double ${pose.url})`);
  return {
    url: `http://127.0.0.1:${port}`,
    apiPid: child.pid!,
    mongoUri: mongo.uri,
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      poseChild.kill('SIGTERM');
      await mongo.dispose();
      await rm(uploadDir, { recursive: true, force: true });
      const errors = out.split('\n').filter((l) => l.includes('"level":"error"'));
      if (errors.length) console.error(`loadcheck: the API logged ${errors.length} errors, e.g. ${errors[0]!.slice(0, 500)}`);
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      local: { type: 'boolean', default: false },
      'api-pid': { type: 'string' },
      uploads: { type: 'string', default: '50' },
      'upload-mb': { type: 'string', default: '20' },
      pollers: { type: 'string', default: '200' },
      'interval-ms': { type: 'string', default: '1000' },
      seed: { type: 'string', default: '20' },
      'tail-s': { type: 'string', default: '5' },
      'p99-ms': { type: 'string', default: '200' },
      'rss-growth-mb': { type: 'string', default: '150' },
      'pose-nice': { type: 'string', default: '10' },
      'api-cpu-prof': { type: 'string' },
      username: { type: 'string', default: process.env.ADMIN_USERNAME || 'admin' },
      password: { type: 'string', default: process.env.ADMIN_PASSWORD },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.url && !values.local) {
    console.error('loadcheck: give --url http://host:3001 (a running API) or --local (start everything here)');
    process.exit(2);
  }
  let url = values.url?.replace(/\/+$/, '') ?? '';
  let apiPid = values['api-pid'] ? Number(values['api-pid']) : null;
  let mongoUri: string | null = null;
  let close = async () => undefined as void;
  let credentials = { username: values.username, password: values.password ?? '' };
  if (values.local) {
    const stack = await startLocal(Number(values['pose-nice']), values['api-cpu-prof']);
    ({ url, apiPid, mongoUri } = stack);
    close = () => stack.close();
    credentials = LOCAL_ADMIN;
  } else if (!credentials.password) {
    console.error('loadcheck: give --password (or set ADMIN_PASSWORD) to sign in to the API at --url');
    process.exit(2);
  }
  try {
    const headers = await signIn(url, credentials.username, credentials.password);
    const result = await run(url, {
      uploads: Number(values.uploads),
      uploadBytes: Math.round(Number(values['upload-mb']) * 1024 * 1024),
      pollers: Number(values.pollers),
      intervalMs: Number(values['interval-ms']),
      seed: Number(values.seed),
      tailMs: Number(values['tail-s']) * 1000,
      apiPid,
      mongoUri,
      headers,
    });
    const p99Target = Number(values['p99-ms']);
    const rssTarget = Number(values['rss-growth-mb']);
    const missed: string[] = [];
    for (const r of result.rows) if (r.errors > 0) missed.push(`${r.name}: ${r.errors} errors`);
    for (const r of result.rows.slice(0, 2)) if (!(r.p99_ms <= p99Target)) missed.push(`${r.name}: p99 ${r.p99_ms} ms > ${p99Target} ms`);
    if (result.memory && result.memory.rss_growth_mb > rssTarget) missed.push(`API RSS grew ${result.memory.rss_growth_mb} MB > ${rssTarget} MB`);
    if (values.json) {
      console.log(JSON.stringify({ ...result, targets: { p99Ms: p99Target, rssGrowthMb: rssTarget }, missed }, null, 2));
    } else {
      console.table(result.rows);
      if (result.memory) console.table([result.memory]);
      console.log(`wall ${result.wallS} s (uploads done after ${result.uploadsS} s); jobs: ${JSON.stringify(result.jobStates)}`);
      console.log(`worst poll latency by second of the run (s:ms): ${result.timeline}`);
      console.log(`API CPU ${result.apiCpuS ?? '-'} s over the run; machine: ${result.machine.cores} cores, 1-min load average ${result.machine.loadavg1Start} → ${result.machine.loadavg1End}`);
      console.log(`load generator event-loop delay: p99 ${result.loaderLagMs.p99} ms, max ${result.loaderLagMs.max} ms; slowest API /health ${result.apiHealthMaxMs} ms, slowest MongoDB ping ${result.mongoPingMaxMs ?? '-'} ms`);
      console.log(missed.length ? `MISSED: ${missed.join('; ')}` : `all targets met (p99 ≤ ${p99Target} ms, RSS growth ≤ ${rssTarget} MB, no errors)`);
    }
    if (missed.length) process.exitCode = 1;
  } finally {
    await close();
  }
}

void main();

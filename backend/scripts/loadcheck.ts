/**
 * Load check: 50 concurrent status pollers and 5 concurrent uploads against a running API; prints p50/p99.
 *
 *   npm run loadcheck -- --url http://127.0.0.1:3001        # an API that is already running
 *   npm run loadcheck -- --local                            # starts SecantusDB, the fake pose service and the API here
 * Options: --pollers 50 --polls 20 --uploads 5 --upload-mb 5 --json
 */
import { parseArgs } from 'node:util';

interface Sample {
  ms: number;
  status: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

function summarise(name: string, samples: Sample[], wallMs: number) {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const errors = samples.filter((s) => s.status >= 400 || s.status === 0).length;
  return {
    name,
    requests: samples.length,
    errors,
    p50_ms: +percentile(ms, 50).toFixed(1),
    p99_ms: +percentile(ms, 99).toFixed(1),
    max_ms: +(ms.at(-1) ?? NaN).toFixed(1),
    per_s: +((samples.length / wallMs) * 1000).toFixed(1),
  };
}

/** A playable-header mp4 (ftyp isom + moov) padded to the requested size. */
function sampleMp4(bytes: number): Buffer {
  const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d6d703431', 'hex'); // ftyp isom 0x200 isom mp41
  const moov = Buffer.from('000000086d6f6f76', 'hex');
  const mdatSize = Math.max(8, bytes - ftyp.length - moov.length);
  const mdat = Buffer.alloc(mdatSize, 1);
  mdat.writeUInt32BE(mdatSize, 0);
  mdat.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, moov, mdat]);
}

async function timed(fn: () => Promise<Response>): Promise<Sample> {
  const start = performance.now();
  try {
    const res = await fn();
    await res.arrayBuffer();
    return { ms: performance.now() - start, status: res.status };
  } catch {
    return { ms: performance.now() - start, status: 0 };
  }
}

function upload(url: string, body: Buffer, i: number) {
  const form = new FormData();
  form.append('role', 'rider');
  form.append('title', `loadcheck ${i}`);
  form.append('video', new Blob([body], { type: 'video/mp4' }), `loadcheck-${i}.mp4`);
  return fetch(`${url}/api/videos`, { method: 'POST', body: form });
}

async function run(url: string, opts: { pollers: number; polls: number; uploads: number; uploadBytes: number }) {
  const video = sampleMp4(opts.uploadBytes);
  // A job to poll: created up front so the pollers have something real to read.
  const seed = await upload(url, video, 0);
  if (seed.status !== 202) throw new Error(`seed upload answered ${seed.status}: ${await seed.text()}`);
  const { jobId } = (await seed.json()) as { jobId: string };

  const pollSamples: Sample[] = [];
  const uploadSamples: Sample[] = [];
  const start = performance.now();
  const pollers = Array.from({ length: opts.pollers }, async () => {
    for (let i = 0; i < opts.polls; i++) pollSamples.push(await timed(() => fetch(`${url}/api/jobs/${jobId}`)));
  });
  const uploads = Array.from({ length: opts.uploads }, async (_, i) => {
    uploadSamples.push(await timed(() => upload(url, video, i + 1)));
  });
  await Promise.all([...pollers, ...uploads]);
  const wall = performance.now() - start;
  return [
    summarise(`status polls (${opts.pollers} concurrent x ${opts.polls})`, pollSamples, wall),
    summarise(`uploads (${opts.uploads} concurrent, ${(opts.uploadBytes / 1024 / 1024).toFixed(1)} MB each)`, uploadSamples, wall),
  ];
}

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      local: { type: 'boolean', default: false },
      pollers: { type: 'string', default: '50' },
      polls: { type: 'string', default: '20' },
      uploads: { type: 'string', default: '5' },
      'upload-mb': { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.url && !values.local) {
    console.error('loadcheck: give --url http://host:3001 (a running API) or --local (start everything here)');
    process.exit(2);
  }
  const opts = {
    pollers: Number(values.pollers),
    polls: Number(values.polls),
    uploads: Number(values.uploads),
    uploadBytes: Math.round(Number(values['upload-mb']) * 1024 * 1024),
  };
  let url = values.url?.replace(/\/+$/, '') ?? '';
  let close = async () => undefined as void;
  if (values.local) {
    const { startHarness } = await import('../test/support/harness.js');
    // Production-like job settings; the fake pose service answers at once.
    const h = await startHarness({ env: { MAX_UPLOAD_MB: '100', JOB_HEARTBEAT_MS: '5000', JOB_STALE_MS: '30000', JOB_POLL_MS: '500' } });
    url = h.url;
    close = () => h.close();
    console.error(`loadcheck: local API at ${url} (SecantusDB ${h.mongo.uri}, fake pose service ${h.pose.url})`);
  }
  try {
    const rows = await run(url, opts);
    if (values.json) console.log(JSON.stringify(rows, null, 2));
    else console.table(rows);
    if (rows.some((r) => r.errors > 0)) process.exitCode = 1;
  } finally {
    await close();
  }
}

void main();

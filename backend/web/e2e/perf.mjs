// Issue 18/10's goals, measured: Debian's Chromium, the BUILT app behind server/serve.mjs (brotli), the fixture API
// test double, and a 2-minute clip in front of it (the 3-second fixture clip looped 40 times, its pose tiled over
// the 120 s: 2,880 frames, its metrics' series likewise). The clip's /pose honours from/to as the API does (docs/contracts.md), so the app may
// fetch it whole or by window; what it does is what is measured.
//   1. first load: bytes transferred before the video (encoded, CDP), per kind, and time to first skeleton on
//      screen (navigation start → the overlay canvas reports drawn joints), for the 3 s and the 120 s clip.
//      "Before the video" is every request (but the video's own) SENT before the first skeleton was on screen;
//      what the app asks for after it (the 3D view's three.js, the export menu) is reported apart as deferred,
//      and the sum of both (all until the network is idle) too;
//   2. playback of the 120 s clip at 1× across window edges (from 8 s and from 58 s, 12 s each): animation-frame
//      intervals (p50/p95/p99, share over 20 ms, fps), overlay draws vs frames presented, presented frames with
//      no skeleton drawn, long tasks, and the /pose requests made.
// Run: npm run build && node e2e/perf.mjs [--json]
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { launchChromium, pageFactory } from './chromiumPage.mjs';
import { root, shots, startServers } from './servers.mjs';

const LOOPS = 40;
const CLIP = path.join(shots, `perf-long-${LOOPS * 3}s.webm`);
if (!existsSync(CLIP)) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-stream_loop', String(LOOPS - 1), '-i', path.join(root, 'e2e/fixtures/rider.webm'), '-c', 'copy', CLIP]);
}
const DURATION = LOOPS * 3;
const base3 = JSON.parse(readFileSync(path.join(root, 'e2e/fixtures/pose-v-rider.json'), 'utf8'));
// Each loop's joints moved by a deterministic sub-pixel jitter (and scores by a little), as a real model's output
// varies frame to frame: a plain repeat would compress 30× better than real pose JSON and flatter the weight.
let seed = 18;
const jitter = (scale) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return ((seed / 2147483648) - 0.5) * scale;
};
const shake = (px, digits) => (k) => ({
  ...k, x: +(k.x + jitter(px)).toFixed(digits), y: +(k.y + jitter(px)).toFixed(digits), ...(k.z !== undefined ? { z: +(k.z + jitter(px)).toFixed(digits) } : {}),
  ...(k.score !== undefined ? { score: +Math.min(1, Math.max(0, k.score + jitter(0.1))).toFixed(2) } : {}),
});
const FRAMES = [];
for (let i = 0; i < base3.frames.length * LOOPS; i++) {
  const f = base3.frames[i % base3.frames.length];
  FRAMES.push({ ...f, index: i, t: +(i / 24).toFixed(4), persons: f.persons.map((p) => ({ ...p, keypoints: p.keypoints.map(shake(3, 2)), ...(p.keypoints_3d ? { keypoints_3d: p.keypoints_3d.map(shake(0.02, 3)) } : {}) })) });
}

/** The 3 s metrics' series over the 120 s (jittered like the pose): the charts' data is as long as a real clip's. */
function tileMetrics(m) {
  const tile = (xs, step) => Array.from({ length: xs.length * LOOPS }, (_, i) => {
    const x = xs[i % xs.length];
    return x == null ? null : +(x + jitter(step)).toFixed(3);
  });
  const series = { t: Array.from({ length: m.series.t.length * LOOPS }, (_, i) => +(i / 24).toFixed(4)) };
  for (const [k, v] of Object.entries(m.series)) if (k !== 't' && Array.isArray(v)) series[k] = tile(v, 1);
  if (m.series.smoothed) series.smoothed = Object.fromEntries(Object.entries(m.series.smoothed).map(([k, v]) => [k, tile(v, 0.2)]));
  return { ...m, series };
}

/** The long clip 'v-long', answered here; its record, metrics and access come from the double's v-rider. */
function longClipFront(apiBase) {
  const forward = (req, res, pathOverride, edit) => {
    const r = http.request(`${apiBase}${pathOverride ?? req.url}`, { method: req.method, headers: req.headers }, (up) => {
      if (!edit || up.statusCode !== 200) {
        res.writeHead(up.statusCode, up.headers);
        return up.pipe(res);
      }
      let body = '';
      up.setEncoding('utf8');
      up.on('data', (c) => (body += c));
      up.on('end', () => {
        const out = edit(JSON.parse(body));
        if (out === undefined) return;
        const text = JSON.stringify(out);
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    req.pipe(r);
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const m = /^\/api\/videos\/v-long(\/stream|\/pose|\/metrics|\/poster|\/sprite)?$/.exec(url.pathname);
    if (!m) return forward(req, res);
    if (!m[1]) {
      return forward(req, res, '/api/videos/v-rider', (v) => ({
        ...v, id: 'v-long', title: 'Two-minute run', durationS: DURATION, posterUrl: null, spriteUrl: null, spriteLayout: null,
        probe: { ...v.probe, durationS: DURATION, frameCount: FRAMES.length },
      }));
    }
    // `?series=0` (the summary alone, what the analysis page reads first) passes through; the whole metrics are tiled.
    if (m[1] === '/metrics') return forward(req, res, `/api/videos/v-rider/metrics${url.search}`, (body) => (body.series ? tileMetrics(body) : body));
    if (m[1] === '/pose') {
      const from = Number(url.searchParams.get('from') ?? 0);
      const to = url.searchParams.has('to') ? Number(url.searchParams.get('to')) : Infinity;
      return forward(req, res, '/api/videos/v-rider/pose', (p) => ({ ...p, videoId: 'v-long', partial: false, frames: FRAMES.filter((f) => f.t >= from && f.t <= to) }));
    }
    if (m[1] === '/stream') {
      const size = statSync(CLIP).size;
      const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
      if (range && range[1]) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, { 'content-type': 'video/webm', 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
        return createReadStream(CLIP, { start, end }).pipe(res);
      }
      res.writeHead(200, { 'content-type': 'video/webm', 'accept-ranges': 'bytes', 'content-length': size });
      return createReadStream(CLIP).pipe(res);
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not_found', detail: 'no poster or sprite for the benchmark clip' }));
  });
}

// In every page, from its first script on: the time the overlay first reports drawn joints, and animation-frame
// samples while window.__perf.sampling is set.
function probe() {
  const perf = { firstSkeletonMs: null, sampling: false, intervals: [], draws: 0, presented: 0, bare: 0, longTasks: 0 };
  window.__perf = perf;
  let last = 0;
  let lastMedia = '';
  const tick = (now) => {
    const c = document.querySelector('[data-testid="skeleton-canvas"]');
    if (perf.firstSkeletonMs === null && c?.dataset.joints) perf.firstSkeletonMs = now;
    if (perf.sampling && c) {
      if (last) perf.intervals.push(now - last);
      if (c.dataset.mediaTime !== lastMedia) {
        lastMedia = c.dataset.mediaTime;
        perf.draws++;
        if (!c.dataset.joints) perf.bare++;
      }
    }
    last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  // The draw itself, seen as it sets the canvas's joints (a microtask after it, before anything React renders in
  // answer): the split of requests into before/after the first skeleton does not depend on which rAF ran first.
  new MutationObserver(() => {
    if (perf.firstSkeletonMs === null && document.querySelector('[data-testid="skeleton-canvas"]')?.dataset.joints) perf.firstSkeletonMs = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-joints'] });
  try {
    new PerformanceObserver((l) => { if (perf.sampling) perf.longTasks += l.getEntries().length; }).observe({ type: 'longtask', buffered: false });
  } catch { /* no long-task timing in this browser */ }
}

const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);

const servers = await startServers({ front: longClipFront });
const browser = await launchChromium();
const report = { load: {}, playback: [], loadavg: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)) };
try {
  const newPage = pageFactory(browser, servers.base);
  for (const id of ['v-rider', 'v-long']) {
    const { page, context, close } = await newPage(1280, 800);
    await context.addInitScript(probe);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const seen = new Map();
    const sentAt = new Map();
    cdp.on('Network.requestWillBeSent', (e) => { if (!sentAt.has(e.requestId)) sentAt.set(e.requestId, e.wallTime * 1000); });
    cdp.on('Network.responseReceived', (e) => seen.set(e.requestId, { url: e.response.url, type: e.type, bytes: 0, sentAt: sentAt.get(e.requestId) ?? 0 }));
    cdp.on('Network.loadingFinished', (e) => { const r = seen.get(e.requestId); if (r) r.bytes = e.encodedDataLength; });
    await page.goto(`${servers.base}/#/videos/${id}`);
    await page.waitForFunction(() => window.__perf.firstSkeletonMs !== null, null, { timeout: 30000 });
    await page.waitForLoadState('networkidle');
    const firstSkeletonMs = await page.evaluate(() => window.__perf.firstSkeletonMs);
    const firstSkeletonWall = await page.evaluate(() => performance.timeOrigin + window.__perf.firstSkeletonMs);
    const rows = [...seen.values()].map((r) => ({ ...r, path: new URL(r.url).pathname + new URL(r.url).search }));
    const notVideo = rows.filter((r) => !(r.type === 'Media' || /\/stream$/.test(new URL(r.url).pathname)));
    const before = notVideo.filter((r) => r.sentAt <= firstSkeletonWall);
    const deferred = notVideo.filter((r) => r.sentAt > firstSkeletonWall);
    const pose = rows.filter((r) => /\/pose/.test(r.path));
    report.load[id] = {
      firstSkeletonMs: r1(firstSkeletonMs),
      bytesBeforeVideo: before.reduce((a, r) => a + r.bytes, 0),
      js: before.filter((r) => /\.js$/.test(r.path)).reduce((a, r) => a + r.bytes, 0),
      deferred: { bytes: deferred.reduce((a, r) => a + r.bytes, 0), paths: deferred.map((r) => r.path) },
      untilIdle: notVideo.reduce((a, r) => a + r.bytes, 0),
      pose: { requests: pose.map((r) => r.path.replace(/^.*\/pose/, '/pose')), bytes: pose.reduce((a, r) => a + r.bytes, 0) },
      metrics: before.filter((r) => /\/metrics(\?|$)/.test(r.path)).reduce((a, r) => a + r.bytes, 0),
    };
    if (id === 'v-long') {
      for (const from of [8, 58]) {
        await page.evaluate(async (t) => {
          const v = document.querySelector('video');
          v.pause();
          v.currentTime = t;
          await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
        }, from);
        await page.waitForTimeout(1500); // the windows around the new position arrive
        const requestsBefore = [...seen.values()].filter((r) => /\/pose/.test(r.url)).length;
        await cdp.send('Performance.enable');
        const cpu0 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
        const q0 = await page.evaluate(() => { const q = document.querySelector('video').getVideoPlaybackQuality(); return { total: q.totalVideoFrames, dropped: q.droppedVideoFrames }; });
        await page.evaluate(() => {
          Object.assign(window.__perf, { intervals: [], draws: 0, bare: 0, longTasks: 0, sampling: true });
          return document.querySelector('video').play();
        });
        await page.waitForTimeout(12000);
        const s = await page.evaluate(() => {
          const p = window.__perf;
          p.sampling = false;
          const v = document.querySelector('video');
          v.pause();
          const q = v.getVideoPlaybackQuality();
          return { intervals: p.intervals, draws: p.draws, bare: p.bare, longTasks: p.longTasks, t: v.currentTime, total: q.totalVideoFrames, dropped: q.droppedVideoFrames };
        });
        const cpu1 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
        // Main-thread time the page spent per second of playback (script; style + layout; all tasks): what the app
        // costs, less sensitive to the machine's load than frame intervals are.
        const perS = (k) => r1(((cpu1[k] - cpu0[k]) * 1000) / ((cpu1.Timestamp - cpu0.Timestamp) || 1));
        const iv = s.intervals;
        const span = iv.reduce((a, x) => a + x, 0);
        report.playback.push({
          from, to: r1(s.t),
          rafFps: r1((iv.length / span) * 1000),
          rafMs: { p50: r1(pct(iv, 50)), p95: r1(pct(iv, 95)), p99: r1(pct(iv, 99)), max: r1(Math.max(...iv)) },
          over20ms: `${iv.filter((x) => x > 20).length}/${iv.length}`,
          overlayDraws: s.draws, videoFramesPresented: s.total - q0.total, videoFramesDropped: s.dropped - q0.dropped,
          drawsWithoutSkeleton: s.bare, longTasks: s.longTasks,
          mainThreadMsPerS: { script: perS('ScriptDuration'), styleLayout: r1(perS('RecalcStyleDuration') + perS('LayoutDuration')), tasks: perS('TaskDuration') },
          poseRequestsDuringPlayback: [...seen.values()].filter((r) => /\/pose/.test(r.url)).length - requestsBefore,
        });
      }
    }
    await close();
  }
} finally {
  await browser.close();
  await servers.stop();
}
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 1));
else {
  for (const [id, l] of Object.entries(report.load)) {
    console.log(`${id}: first skeleton ${l.firstSkeletonMs} ms · ${l.bytesBeforeVideo} B before the video (JS ${l.js} B, metrics ${l.metrics} B) · deferred after it ${l.deferred.bytes} B (${l.deferred.paths.join(' ')}; ${l.untilIdle} B in all until idle) · pose ${l.pose.bytes} B in ${l.pose.requests.length} request(s): ${l.pose.requests.join(' ')}`);
  }
  for (const p of report.playback) {
    console.log(`play ${p.from}→${p.to} s: ${p.rafFps} fps (rAF p50 ${p.rafMs.p50} / p95 ${p.rafMs.p95} / p99 ${p.rafMs.p99} / max ${p.rafMs.max} ms, ${p.over20ms} over 20 ms) · overlay draws ${p.overlayDraws} for ${p.videoFramesPresented} frames presented (${p.videoFramesDropped} dropped) · ${p.drawsWithoutSkeleton} without skeleton · ${p.longTasks} long tasks · ${p.poseRequestsDuringPlayback} pose requests · main thread per s: script ${p.mainThreadMsPerS.script} ms, style+layout ${p.mainThreadMsPerS.styleLayout} ms, all tasks ${p.mainThreadMsPerS.tasks} ms`);
  }
  console.log(`load average at start: ${report.loadavg.join(' ')}`);
}

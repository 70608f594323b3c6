// Browser-side checks shared by the Chromium (playwright-core) and Firefox (puppeteer-core) tests and the
// whole-stack test: both drivers run `page.evaluate(fn, arg)` with one serialisable argument.

/** Hip and shoulder keypoints (COCO-17 indices): the points that must land on the body. */
export const TORSO = [5, 6, 11, 12];

/**
 * In the page: where the given frame-pixel points land on screen over the <video> (object-fit: contain), whether
 * the overlay canvas is painted there, and whether each lies inside `box` (frame pixels, x1 y1 x2 y2) on screen.
 * Also the player's state: which pose frame it drew, for which media time, the decoded size, any MediaError.
 */
export function overlayAt({ points, box, W, H, nth = 0 }) {
  const v = document.querySelectorAll('video')[nth];
  const c = document.querySelectorAll('[data-testid="skeleton-canvas"]')[nth];
  const s = Math.min(v.clientWidth / W, v.clientHeight / H);
  const ox = (v.clientWidth - W * s) / 2;
  const oy = (v.clientHeight - H * s) / 2;
  const k = c.width / v.clientWidth;
  const ctx = c.getContext('2d');
  const screen = (x, y) => ({ x: ox + x * s, y: oy + y * s });
  const [b1, b2] = [screen(box[0], box[1]), screen(box[2], box[3])];
  // The brightest alpha within 2 px: the dots are drawn centred on the point, antialiased at their edge.
  const alphaNear = (p) => {
    const d = ctx.getImageData(Math.round(p.x * k) - 2, Math.round(p.y * k) - 2, 5, 5).data;
    let a = 0;
    for (let i = 3; i < d.length; i += 4) a = Math.max(a, d[i]);
    return a;
  };
  return {
    frameIndex: Number(c.dataset.frameIndex),
    mediaTime: Number(c.dataset.mediaTime),
    clock: c.dataset.clock ?? null,
    videoWidth: v.videoWidth,
    videoHeight: v.videoHeight,
    mediaError: v.error ? v.error.code : null,
    points: points.map((p) => {
      const q = screen(p.x, p.y);
      return { x: q.x, y: q.y, alpha: alphaNear(q), inside: q.x >= b1.x && q.x <= b2.x && q.y >= b1.y && q.y <= b2.y };
    }),
  };
}

/** In the page: pause, seek the nth video to t and resolve once the seeked frame has been drawn. */
export function seekTo({ t, nth = 0 }) {
  return new Promise((resolve) => {
    const v = document.querySelectorAll('video')[nth];
    v.pause();
    v.addEventListener('seeked', () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(v.currentTime))), { once: true });
    v.currentTime = t;
  });
}

/** In the page: true once the nth video has a decoded frame and its overlay drew a pose frame. */
export function playerReady(nth = 0) {
  const v = document.querySelectorAll('video')[nth];
  const c = document.querySelectorAll('[data-testid="skeleton-canvas"]')[nth];
  return Boolean(v && v.readyState >= 2 && c && Number(c.dataset.frameIndex) >= 0);
}

/** Polls `fn(arg)` in the page until it returns something truthy; the same call in playwright and puppeteer. */
export async function waitInPage(page, fn, arg, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await page.evaluate(fn, arg);
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${fn.name || 'a page condition'} (${JSON.stringify(arg)})`);
}

/** The index of the frame on screen at media time t (last presentation time ≤ t), as the player must pick it. */
export function expectedFrameAt(frames, t) {
  let found = -1;
  frames.forEach((f, i) => {
    if (f.t <= t + 0.002) found = i;
  });
  return found;
}

/**
 * The analysis-view check both browsers run against the fixture API: the clip plays at its display size with no
 * MediaError; at three seek times the overlay drew the pose of the frame on screen (by media time, not nearest),
 * and the drawn hip and shoulder points lie inside the person's box on screen.
 */
export async function checkOverlayAtThreeTimes(page, pose, times, assert) {
  await waitInPage(page, playerReady, 0);
  const seen = [];
  for (const t of times) {
    await page.evaluate(seekTo, { t });
    const want = expectedFrameAt(pose.frames, t);
    const rider = pose.frames[want].persons[0];
    const state = await page.evaluate(overlayAt, { points: TORSO.map((i) => rider.keypoints[i]), box: rider.bbox, W: pose.width, H: pose.height });
    assert.equal(state.mediaError, null, `no MediaError at ${t} s`);
    assert.deepEqual([state.videoWidth, state.videoHeight], [pose.width, pose.height], 'plays at the display size');
    assert.equal(state.frameIndex, want, `at ${t} s the frame on screen is ${want}`);
    for (const p of state.points) {
      assert.ok(p.alpha > 200, `a hip/shoulder point is drawn at (${p.x.toFixed(1)}, ${p.y.toFixed(1)}) at ${t} s (alpha ${p.alpha})`);
      assert.ok(p.inside, `a hip/shoulder point lies inside the person's box at ${t} s`);
    }
    seen.push(state);
  }
  return seen;
}

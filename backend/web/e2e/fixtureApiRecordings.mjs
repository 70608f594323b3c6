// The recordings the e2e API TEST DOUBLE (e2e/fixtureApi.mjs) serves: the contract-shaped JSON in e2e/fixtures/
// (written by e2e/fixtures/generate.mjs), the ones derived from them, and the posters, sprites and trimmed clip that
// Debian's ffmpeg makes from the fixture clips.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const read = (name) => DERIVED[name]?.() ?? JSON.parse(readFileSync(path.join(dir, name), 'utf8'));

// Issue 18 (compare): the reference clip with its first TRIM_FRAMES cut off ("v-ref-early"), so its take-off comes
// 0.5 s earlier than the rider's and syncing on take-off is not the same as syncing on the start. Its pose and
// metrics are the reference's recordings with those frames dropped and every time moved back by as much.
export const TRIM_FRAMES = 12;
export const TRIM_S = TRIM_FRAMES / 24;
const shiftT = (t) => +(t - TRIM_S).toFixed(4);
const DERIVED = {
  'pose-v-ref-early.json': () => {
    const pose = read('pose-v-ref.json');
    return { ...pose, videoId: 'v-ref-early', frames: pose.frames.slice(TRIM_FRAMES).map((f) => ({ ...f, index: f.index - TRIM_FRAMES, t: shiftT(f.t) })) };
  },
  'metrics-v-ref-early.json': () => {
    const m = read('metrics-v-ref.json');
    const cut = (series) => Object.fromEntries(Object.entries(series).filter(([k]) => k !== 'smoothed' && k !== 't').map(([k, v]) => [k, v.slice(TRIM_FRAMES)]));
    return {
      series: { ...cut(m.series), t: m.series.t.slice(TRIM_FRAMES).map(shiftT), smoothed: cut(m.series.smoothed) },
      summary: { ...m.summary, frames_analysed: m.summary.frames_analysed - TRIM_FRAMES, frames_with_rider: m.summary.frames_with_rider - TRIM_FRAMES,
        airborne_segments: m.summary.airborne_segments.map((s) => ({ start_s: shiftT(s.start_s), end_s: shiftT(s.end_s) })) },
    };
  },
};
/** The trimmed clip, cut (and re-encoded, frame-accurate) by Debian's ffmpeg the first time it is streamed (a suite
 * that uses it calls this first, so a slow machine does not stall its first page). */
let trimmedClip = null;
export function trimmedReference() {
  if (!trimmedClip) {
    trimmedClip = path.join(mkdtempSync(path.join(os.tmpdir(), 'fixture-trim-')), 'reference-early.webm');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(dir, 'reference.webm'), '-vf', `select='gte(n\\,${TRIM_FRAMES})',setpts=PTS-STARTPTS`,
      '-r', '24', '-c:v', 'libvpx', '-b:v', '300k', '-g', '6', '-an', trimmedClip]);
  }
  return trimmedClip;
}

/** The fixture clips: 72 frames at 24 fps, 480×270. The sprite shows 6 of them, 80×45 each, one row. */
export const SPRITE_LAYOUT = { columns: 6, rows: 1, tileWidth: 80, tileHeight: 45, times: [6, 18, 30, 42, 54, 66].map((i) => +(i / 24).toFixed(4)) };

/** A poster JPEG (the first frame) and a scrub sprite per fixture clip, as the API's ingest stage makes them. */
export function makePosters() {
  const out = mkdtempSync(path.join(os.tmpdir(), 'fixture-posters-'));
  const posters = {};
  const sprites = {};
  const pick = [6, 18, 30, 42, 54, 66].map((i) => `eq(n\\,${i})`).join('+');
  for (const clip of ['rider.webm', 'reference.webm']) {
    const file = path.join(out, clip.replace('.webm', '.jpg'));
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(dir, clip), '-frames:v', '1', '-q:v', '4', file]);
    posters[clip] = file;
    const sprite = path.join(out, clip.replace('.webm', '-sprite.jpg'));
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(dir, clip), '-vf', `select='${pick}',scale=80:45,tile=6x1`, '-frames:v', '1', '-q:v', '5', sprite]);
    sprites[clip] = sprite;
  }
  return { posters, sprites };
}

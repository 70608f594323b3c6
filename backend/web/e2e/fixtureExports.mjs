// TEST DOUBLE of the API's export routes (docs/contracts.md "Exports", issue 18 item 9), for the browser tests only;
// e2e/fixtureApi.mjs hands it every request first. Metrics files are made from the recorded metrics and pose
// fixtures (the real CSV/JSON builders are tested against the real API in backend/test/exports.test.ts). The MP4
// export goes queued → running (FRAMES_PER_READ more frames at each read of the export, so a polling client sees
// progress) → done; its file is the fixture clip re-encoded to H.264 MP4 by Debian's ffmpeg on first download.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FRAMES_PER_READ = 24;

const UNITS = {
  left_knee_angle: 'deg', right_knee_angle: 'deg', left_hip_angle: 'deg', right_hip_angle: 'deg', stance_width: 'hip widths',
  upper_body_rotation: 'deg', body_tilt: 'deg', hip_height: 'torso lengths', cumulative_rotation: 'deg',
};
const cell = (v) => (v === null || v === undefined ? '' : /[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const disposition = (name) => `attachment; filename="${name}"`;

/** `{route(req, res, p, user) → handled?}` over the double's videos (find, mayRead) and recordings (metricsOf, poseOf). */
export function createExportsDouble({ dir, find, mayRead, metricsOf, poseOf, json, fail }) {
  const exports = new Map(); // id → export
  const mp4s = new Map(); // clip file → encoded mp4
  let seq = 0;

  function mp4Of(v) {
    if (!mp4s.has(v._file)) {
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'fixture-export-')), 'skeleton.mp4');
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', path.join(dir, v._file), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', out]);
      mp4s.set(v._file, out);
    }
    return mp4s.get(v._file);
  }

  const view = (e) => ({ ...e, waiting: null, error: null, errorDetail: null, fileUrl: e.state === 'done' ? `/api/videos/${e.videoId}/exports/${e.id}/file` : null });

  function framesCsv(v) {
    const m = metricsOf(v);
    const frames = poseOf(v).frames;
    const keys = Object.keys(UNITS).filter((k) => Array.isArray(m.series[k]));
    const header = ['frame', 't (s)', ...keys.map((k) => `${k} (${UNITS[k]})`), ...keys.map((k) => `smoothed ${k} (${UNITS[k]})`)];
    const rows = m.series.t.map((t, i) => [frames[i]?.index ?? null, t, ...keys.map((k) => m.series[k][i]), ...keys.map((k) => m.series.smoothed?.[k]?.[i])]);
    return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
  }

  function summaryCsv(v) {
    const s = metricsOf(v).summary;
    const why = s.unavailable ?? {};
    const rows = [['metric', 'value', 'unit', 'unavailable reason', 'meaning'],
      ...['max_rotation_deg', 'rotation_direction', 'airtime_s', 'stance', 'min_knee_angle_deg', 'frames_analysed', 'frames_with_rider', 'joint_score_min']
        .map((k) => [k, s[k], k.endsWith('_deg') ? 'deg' : k.endsWith('_s') ? 's' : '', why[k] ?? null, ''])];
    return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
  }

  function route(req, res, p, user) {
    const m = /^\/api\/videos\/([^/]+)\/(metrics\.csv|metrics\.json|exports)(?:\/([^/]+)(\/file)?)?$/.exec(p);
    if (!m) return false;
    const v = find(m[1]);
    if (!v || !mayRead(user, v)) return fail(res, 404, 'not_found', `No video ${m[1]}.`), true;
    if (v.status !== 'done') return fail(res, 409, 'not_ready', 'The analysis of this video is not finished.'), true;
    const base = (v.title || v.originalName || v.id).replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[^\x20-\x7e]|["\\/:*?<>|]/g, '_');
    if (req.method === 'GET' && m[2] === 'metrics.csv') {
      const summary = new URL(req.url, 'http://fixture').searchParams.get('table') === 'summary';
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': disposition(`${base}-${summary ? 'summary' : 'metrics'}.csv`) });
      return res.end(summary ? summaryCsv(v) : framesCsv(v)), true;
    }
    if (req.method === 'GET' && m[2] === 'metrics.json') {
      const metrics = metricsOf(v);
      const body = JSON.stringify({ format: 'snowboarding-metrics', version: 1, video: { id: v.id, title: v.title }, units: { t: 's', ...UNITS },
        frames: poseOf(v).frames.map((f) => f.index), series: metrics.series, summary: metrics.summary });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-disposition': disposition(`${base}-metrics.json`) });
      return res.end(body), true;
    }
    if (m[2] !== 'exports') return false;
    if (req.method === 'POST' && !m[3]) {
      req.resume();
      let e = [...exports.values()].find((x) => x.videoId === v.id && x.state !== 'failed');
      if (!e) {
        e = { id: `x-${++seq}`, videoId: v.id, kind: 'mp4', state: 'queued', progress: 0, framesDone: 0, framesTotal: poseOf(v).frames.length, size: null };
        exports.set(e.id, e);
      }
      return json(res, 202, view(e)), true;
    }
    const e = m[3] && exports.get(m[3]);
    if (!e || e.videoId !== v.id) return fail(res, 404, 'not_found', `No export ${m[3]}.`), true;
    if (req.method === 'GET' && !m[4]) {
      const shown = view(e);
      // The next read sees the render further on.
      if (e.state === 'queued') e.state = 'running';
      else if (e.state === 'running') {
        e.framesDone = Math.min(e.framesTotal, e.framesDone + FRAMES_PER_READ);
        e.progress = +(e.framesDone / e.framesTotal).toFixed(4);
        if (e.framesDone === e.framesTotal && shown.framesDone === e.framesTotal) Object.assign(e, { state: 'done', progress: 1, size: statSync(mp4Of(v)).size });
      }
      return json(res, 200, shown), true;
    }
    if (req.method === 'GET' && m[4]) {
      if (e.state !== 'done') return fail(res, 409, 'not_ready', `the export is ${e.state}`), true;
      const file = mp4Of(v);
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': statSync(file).size, 'content-disposition': disposition(`${base}-skeleton.mp4`) });
      return createReadStream(file).pipe(res), true;
    }
    return fail(res, 405, 'method_not_allowed', req.method), true;
  }

  return { route };
}

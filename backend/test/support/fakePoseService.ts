import { execFile } from 'node:child_process';
import { mkdir, rename, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A test double of the pose service (docs/contracts.md). POST /v1/probe and POST /v1/ingest do the real work with
 * Debian's ffprobe and ffmpeg (display size after rotation, true frame times, an H.264 rendition and a JPEG
 * poster that browsers can use); POST /v1/pose/video answers a contract-shaped result computed from the request
 * (frame count from the file size, keypoints from the frame number, display size from the real probe), and GET
 * /ready. Failures, delays and readiness are configurable per test.
 */

export const COCO17 = [
  'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle',
];

export interface FakePoseOptions {
  /** Frames per analysed video; default: 120 + (file size mod 100), so chunking is exercised. */
  frames?: (size: number) => number;
  fps?: number;
  /** Milliseconds to wait before answering a video request. */
  delayMs?: number;
}

/** A status, a status with the pose service's own error body, or 'drop' (destroy the socket). */
export type Failure = number | 'drop' | { status: number; error: string; detail: string };

export interface PoseCall {
  path: string;
  at: number;
  outDir?: string;
}

interface FfStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  pix_fmt?: string;
  bits_per_raw_sample?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  side_data_list?: { rotation?: number }[];
}

/** The pose service's /v1/probe answer for a file, from real ffprobe output; null when there is no decodable video. */
export async function probeWithFfprobe(file: string) {
  let out: { streams?: FfStream[]; frames?: { best_effort_timestamp_time?: string }[]; format?: { format_name?: string; duration?: string } };
  try {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams',
      '-show_entries', 'frame=best_effort_timestamp_time', '-show_frames', file], { maxBuffer: 64 * 1024 * 1024 });
    out = JSON.parse(stdout);
  } catch {
    return null;
  }
  const v = out.streams?.find((st) => st.codec_type === 'video');
  const frames = (out.frames ?? []).map((f) => Number(f.best_effort_timestamp_time)).filter((t) => Number.isFinite(t));
  if (!v || !v.width || !v.height || frames.length === 0) return null;
  // Clockwise display rotation, as the real service reports it (ffprobe prints the matrix's counterclockwise angle).
  const ccw = v.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? 0;
  const rotation = ((-Math.round(ccw / 90) * 90) % 360 + 360) % 360;
  const swap = rotation % 180 === 90;
  const [n, d] = (v.avg_frame_rate ?? '0/1').split('/').map(Number);
  const deltas = frames.slice(1).map((t, i) => t - frames[i]!);
  const vfr = deltas.length > 1 && Math.max(...deltas) - Math.min(...deltas) > 0.002;
  return {
    container: out.format?.format_name ?? 'unknown',
    video_codec: v.codec_name ?? null,
    profile: v.profile ?? null,
    pix_fmt: v.pix_fmt ?? null,
    bit_depth: v.bits_per_raw_sample ? Number(v.bits_per_raw_sample) : 8,
    coded_width: v.width,
    coded_height: v.height,
    rotation,
    mirrored: false,
    display_width: swap ? v.height : v.width,
    display_height: swap ? v.width : v.height,
    fps: n && d ? n / d : null,
    frame_rate_mode: vfr ? 'vfr' : 'cfr',
    frame_count: frames.length,
    duration_s: Number(out.format?.duration ?? frames.at(-1)),
    has_audio: Boolean(out.streams?.some((st) => st.codec_type === 'audio')),
    frame_times: frames,
  };
}

export function frameFor(index: number, fps: number) {
  const t = index / fps;
  return {
    index,
    t,
    persons: [
      {
        track_id: 1,
        bbox: [100 + index, 50, 300 + index, 450],
        score: 0.9,
        keypoints: COCO17.map((name, k) => ({ name, x: 100 + index + k * 10, y: 50 + k * 20, score: 0.95 })),
        keypoints_3d: COCO17.map((name, k) => ({ name, x: k * 0.01, y: 1 - k * 0.05, z: 0 })),
      },
    ],
  };
}

function metricsFor(frames: { t: number }[]) {
  const t = frames.map((f) => f.t);
  const series = (v: number) => t.map(() => v);
  const keys = ['left_knee_angle', 'right_knee_angle', 'left_hip_angle', 'right_hip_angle', 'stance_width',
    'upper_body_rotation', 'body_tilt', 'hip_height', 'cumulative_rotation'];
  const base = Object.fromEntries(keys.map((k, i) => [k, series(100 + i)]));
  return {
    series: { t, ...base, smoothed: Object.fromEntries(keys.map((k, i) => [k, series(100 + i)])) },
    summary: {
      max_rotation_deg: 360.0, rotation_direction: 'clockwise', airtime_s: 0.5,
      airborne_segments: [{ start_s: 1.0, end_s: 1.5 }], stance: 'regular', min_knee_angle_deg: 100.0,
      frames_analysed: frames.length, frames_with_rider: frames.length,
    },
  };
}

export class FakePoseService {
  readonly calls: PoseCall[] = [];
  readonly probeCalls: PoseCall[] = [];
  readonly ingestCalls: PoseCall[] = [];
  ready = true;
  delayMs: number;
  /** Milliseconds to wait before answering an ingest request. */
  ingestDelayMs = 0;
  /** Each queued status answers one ingest request with that error. */
  ingestFailures: number[] = [];
  /** Each queued failure answers one video request with that status (or 'drop' to destroy the socket). */
  private failures: Failure[] = [];
  private server: http.Server;
  private sockets = new Set<import('node:net').Socket>();
  url = '';

  constructor(private readonly opts: FakePoseOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        // The folder may be deleted under a running request (video deleted mid-job): answer like a server would.
        if (!res.headersSent) this.json(res, 500, { error: 'internal', detail: String((err as Error).message).slice(0, 300) });
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  failNext(...failures: Failure[]): void {
    this.failures.push(...failures);
  }

  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async probe(res: http.ServerResponse, file: string) {
    this.probeCalls.push({ path: file, at: Date.now() });
    const probe = await probeWithFfprobe(file);
    if (!probe) return this.json(res, 415, { error: 'unsupported_media', detail: `ffprobe found no decodable video stream in ${path.basename(file)}` });
    this.json(res, 200, probe);
  }

  /** Like the real service: an H.264 High yuv420p faststart rendition (rotation applied, long side ≤ 1080) and a poster. */
  private async ingest(res: http.ServerResponse, file: string, outDir: unknown) {
    if (typeof outDir !== 'string' || !path.isAbsolute(outDir)) return this.json(res, 400, { error: 'bad_request', detail: 'out_dir is required' });
    this.ingestCalls.push({ path: file, outDir, at: Date.now() });
    if (this.ingestDelayMs) await new Promise((r) => setTimeout(r, this.ingestDelayMs));
    const failure = this.ingestFailures.shift();
    if (failure) return this.json(res, failure, { error: 'injected_failure', detail: `fake pose service told to answer ${failure}` });
    const probe = await probeWithFfprobe(file);
    if (!probe) return this.json(res, 415, { error: 'unsupported_media', detail: `no decodable video stream in ${path.basename(file)}` });
    await mkdir(outDir, { recursive: true });
    const rendition = path.join(outDir, 'rendition.mp4');
    const poster = path.join(outDir, 'poster.jpg');
    const sprite = path.join(outDir, 'sprite.jpg');
    let spriteInfo: Record<string, unknown> = {};
    const started = Date.now();
    const scale = "scale='if(gt(iw,ih),min(1080,iw),-2)':'if(gt(iw,ih),-2,min(1080,ih))'";
    // Written under temporary names and renamed, so an abandoned earlier attempt never leaves half a file.
    const tmp = `.${process.hrtime.bigint()}`;
    try {
      await run('ffmpeg', ['-v', 'error', '-y', '-i', file, '-map', '0:v:0', '-an', '-vf', scale, '-c:v', 'libx264', '-preset', 'veryfast',
        '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-fps_mode', 'passthrough', '-movflags', '+faststart', '-f', 'mp4', rendition + tmp]);
      await run('ffmpeg', ['-v', 'error', '-y', '-i', rendition + tmp, '-frames:v', '1', '-q:v', '4', '-f', 'image2', poster + tmp]);
      // A scrub strip: up to 5 frames spread over the clip, one row of tiles, long side 80 px.
      const n = probe.frame_count;
      const picks = [...new Set(Array.from({ length: Math.min(5, n) }, (_, i) => Math.floor(((i + 0.5) * n) / Math.min(5, n))))];
      const tileW = probe.display_width >= probe.display_height ? 80 : Math.round((80 * probe.display_width) / probe.display_height / 2) * 2;
      const tileH = probe.display_width >= probe.display_height ? Math.round((80 * probe.display_height) / probe.display_width / 2) * 2 : 80;
      await run('ffmpeg', ['-v', 'error', '-y', '-i', rendition + tmp, '-vf', `select='${picks.map((i) => `eq(n\\,${i})`).join('+')}',scale=${tileW}:${tileH},tile=${picks.length}x1`,
        '-frames:v', '1', '-q:v', '5', '-f', 'image2', sprite + tmp]);
      spriteInfo = { path: sprite, size: 0, columns: picks.length, rows: 1, count: picks.length, tile_width: tileW, tile_height: tileH, times: picks.map((i) => probe.frame_times[i]) };
      await rename(rendition + tmp, rendition);
      await rename(poster + tmp, poster);
      await rename(sprite + tmp, sprite);
      spriteInfo.size = (await stat(sprite)).size;
    } catch (err) {
      return this.json(res, 500, { error: 'ingest_failed', detail: String((err as Error).message).slice(0, 300) });
    }
    const out = await probeWithFfprobe(rendition);
    this.json(res, 200, {
      probe,
      rendition: { path: rendition, width: out?.display_width ?? null, height: out?.display_height ?? null, codec: 'h264', frame_count: out?.frame_count ?? null, size: (await stat(rendition)).size },
      poster: { path: poster, width: out?.display_width ?? null, height: out?.display_height ?? null, size: (await stat(poster)).size },
      sprite: spriteInfo,
      timing: { seconds: (Date.now() - started) / 1000 },
    });
  }

  private json(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method === 'GET' && req.url === '/ready') {
      return this.ready ? this.json(res, 200, { ready: true }) : this.json(res, 503, { error: 'not_ready', detail: 'warming up' });
    }
    if (req.method === 'GET' && req.url === '/health') return this.json(res, 200, { status: 'ready', backend: 'mediapipe', device: 'cpu', detail: null });
    const routes = ['/v1/pose/video', '/v1/probe', '/v1/ingest'];
    if (req.method !== 'POST' || !routes.includes(req.url ?? '')) return this.json(res, 404, { error: 'not_found', detail: req.url ?? '' });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: { path?: unknown; out_dir?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return this.json(res, 400, { error: 'bad_request', detail: 'body is not JSON' });
    }
    if (typeof body.path !== 'string') return this.json(res, 400, { error: 'bad_request', detail: 'path is required' });
    if (req.url === '/v1/probe') return this.probe(res, body.path);
    if (req.url === '/v1/ingest') return this.ingest(res, body.path, body.out_dir);
    this.calls.push({ path: body.path, at: Date.now() });
    const failure = this.failures.shift();
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (failure === 'drop') return req.socket.destroy();
    if (typeof failure === 'object') return this.json(res, failure.status, { error: failure.error, detail: failure.detail });
    if (failure) return this.json(res, failure, { error: 'injected_failure', detail: `fake pose service told to answer ${failure}` });
    let size: number;
    try {
      size = (await stat(body.path)).size;
    } catch {
      return this.json(res, 404, { error: 'file_not_found', detail: `no file at ${body.path}` });
    }
    const fps = this.opts.fps ?? 30;
    const count = this.opts.frames ? this.opts.frames(size) : 120 + (size % 100);
    const frames = Array.from({ length: count }, (_, i) => frameFor(i, fps));
    const probe = await probeWithFfprobe(body.path);
    if (!probe) return this.json(res, 415, { error: 'unsupported_media', detail: 'no decodable video stream' });
    this.json(res, 200, {
      backend: 'mediapipe',
      device: 'cpu',
      video: {
        fps, frame_count: count, width: probe.display_width, height: probe.display_height, duration_s: count / fps,
        rotation: probe.rotation, mirrored: probe.mirrored, frame_rate_mode: probe.frame_rate_mode, codec: probe.video_codec,
      },
      rider_track_id: 1,
      frames,
      metrics: metricsFor(frames),
      timing: { seconds: 0.01, frames_per_second: count / 0.01 },
    });
  }
}

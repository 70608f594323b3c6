import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A test double of the pose service (docs/contracts.md): answers POST /v1/pose/video {path} with a
 * contract-shaped result computed from the request (frame count from the file size, keypoints from the
 * frame number), and GET /ready. Failures, delays and readiness are configurable per test.
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
  ready = true;
  delayMs: number;
  /** Each queued failure answers one video request with that status (or 'drop' to destroy the socket). */
  private failures: Failure[] = [];
  private server: http.Server;
  private sockets = new Set<import('node:net').Socket>();
  url = '';

  constructor(private readonly opts: FakePoseOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
    this.server = http.createServer((req, res) => void this.handle(req, res));
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

  private json(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    if (req.method === 'GET' && req.url === '/ready') {
      return this.ready ? this.json(res, 200, { ready: true }) : this.json(res, 503, { error: 'not_ready', detail: 'warming up' });
    }
    if (req.method === 'GET' && req.url === '/health') return this.json(res, 200, { status: 'ready', backend: 'mediapipe', device: 'cpu', detail: null });
    if (req.method !== 'POST' || req.url !== '/v1/pose/video') return this.json(res, 404, { error: 'not_found', detail: req.url ?? '' });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    let body: { path?: unknown };
    try {
      body = JSON.parse(raw);
    } catch {
      return this.json(res, 400, { error: 'bad_request', detail: 'body is not JSON' });
    }
    if (typeof body.path !== 'string') return this.json(res, 400, { error: 'bad_request', detail: 'path is required' });
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
    this.json(res, 200, {
      backend: 'mediapipe',
      device: 'cpu',
      video: { fps, frame_count: count, width: 640, height: 480, duration_s: count / fps },
      rider_track_id: 1,
      frames,
      metrics: metricsFor(frames),
      timing: { seconds: 0.01, frames_per_second: count / 0.01 },
    });
  }
}

import type { PoseFrame } from '../db.js';
import { truncateForLog } from '../text.js';
import { kindForPoseStatus, type FailureKind, type RiderFacing } from './riderErrors.js';

/** The parts of the pose service's POST /v1/pose/video answer the API stores (see docs/contracts.md). */
export interface PoseVideoResult {
  video: { fps: number; frame_count: number; width: number; height: number; duration_s: number };
  rider_track_id: number | null;
  frames: PoseFrame[];
  metrics: unknown;
}

/** A failed pose call; `retryable` says whether another attempt could succeed, `kind` what the rider is told. */
export class PoseError extends Error implements RiderFacing {
  override name = 'PoseError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly kind: FailureKind = 'server_error',
  ) {
    super(message);
  }
}

export interface PoseClient {
  analyseVideo(filePath: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<PoseVideoResult>;
  ready(timeoutMs: number): Promise<{ ok: boolean; detail: string | null }>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the answer has the contract's shape before anything is stored. */
export function parsePoseVideoResult(body: unknown): PoseVideoResult {
  if (!isObject(body) || !isObject(body.video) || !Array.isArray(body.frames)) {
    throw new PoseError('pose service answered without `video` and `frames`', true);
  }
  const v = body.video;
  for (const key of ['fps', 'width', 'height']) {
    if (typeof v[key] !== 'number') throw new PoseError(`pose service answer has no numeric video.${key}`, true);
  }
  for (const f of body.frames) {
    if (!isObject(f) || typeof f.index !== 'number' || typeof f.t !== 'number' || !Array.isArray(f.persons)) {
      throw new PoseError('pose service answered a frame without index, t and persons', true);
    }
  }
  return {
    video: {
      fps: v.fps as number,
      width: v.width as number,
      height: v.height as number,
      frame_count: typeof v.frame_count === 'number' ? v.frame_count : body.frames.length,
      duration_s: typeof v.duration_s === 'number' ? v.duration_s : 0,
    },
    rider_track_id: typeof body.rider_track_id === 'number' ? body.rider_track_id : null,
    frames: body.frames as PoseFrame[],
    metrics: body.metrics ?? null,
  };
}

/** HTTP client for the pose service. */
export function httpPoseClient(baseUrl: string): PoseClient {
  return {
    async analyseVideo(filePath, { timeoutMs, signal }) {
      const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
      let res: Response;
      try {
        res = await fetch(`${baseUrl}/v1/pose/video`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ path: filePath }),
          signal: AbortSignal.any(signals),
        });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError') throw new PoseError(`pose service did not answer within ${timeoutMs} ms`, true, 'timeout');
        if (e.name === 'AbortError') throw new PoseError('pose call aborted', true, 'interrupted');
        const cause = (e.cause as Error | undefined)?.message;
        throw new PoseError(`pose service unreachable: ${cause ?? e.message}`, true, 'unreachable');
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        body = null;
      }
      if (!res.ok) {
        const code = isObject(body) && typeof body.error === 'string' ? body.error : null;
        // The error body is the pose service's to fill: cut it before it reaches the job document and the log.
        const detail = isObject(body) ? truncateForLog(`${String(body.error ?? '')}: ${String(body.detail ?? '')}`, 500) : 'no JSON body';
        // 4xx means the request or the video is wrong: repeating it cannot help (timeouts and throttling aside).
        const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
        throw new PoseError(`pose service answered ${res.status} (${detail})`, retryable, kindForPoseStatus(res.status, code));
      }
      return parsePoseVideoResult(body);
    },

    async ready(timeoutMs) {
      try {
        const res = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
        if (res.ok) return { ok: true, detail: null };
        const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
        return { ok: false, detail: `pose service /ready answered ${res.status}${body?.detail ? `: ${String(body.detail)}` : ''}` };
      } catch (err) {
        const e = err as Error;
        return { ok: false, detail: `pose service unreachable: ${(e.cause as Error | undefined)?.message ?? e.message}` };
      }
    },
  };
}

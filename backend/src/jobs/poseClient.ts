import type { PoseFrame, SpriteLayout } from '../db.js';
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
    /** The pose service's HTTP status and error code, when it answered with an error. */
    readonly status: number | null = null,
    readonly code: string | null = null,
    /** For failures without an answer (unreachable, timeout, aborted). */
    private readonly failureKind: FailureKind | null = null,
  ) {
    super(message);
  }

  get kind(): FailureKind {
    return this.failureKind ?? (this.status !== null ? kindForPoseStatus(this.status, this.code) : 'server_error');
  }
}

/** The pose service's POST /v1/probe answer (docs/contracts.md), in its own snake_case. */
export interface ServiceProbe {
  container: string;
  video_codec: string | null;
  profile: string | null;
  pix_fmt: string | null;
  bit_depth: number | null;
  coded_width: number | null;
  coded_height: number | null;
  rotation: number;
  mirrored: boolean;
  display_width: number;
  display_height: number;
  fps: number | null;
  frame_rate_mode: 'cfr' | 'vfr' | null;
  frame_count: number | null;
  duration_s: number | null;
  has_audio: boolean | null;
}

export interface ServiceFile {
  path: string;
  width: number | null;
  height: number | null;
  size: number | null;
  codec?: string | null;
  /** Sprite only: tile grid and the frame time each tile shows. */
  layout?: SpriteLayout | null;
}

/** The pose service's POST /v1/ingest answer: the rendition, poster and optional sprite it wrote into out_dir. */
export interface IngestResult {
  probe: ServiceProbe;
  rendition: ServiceFile;
  poster: ServiceFile;
  sprite: ServiceFile | null;
  timing: unknown;
}

interface CallOpts {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface PoseClient {
  analyseVideo(filePath: string, opts: CallOpts): Promise<PoseVideoResult>;
  /** Container, codec, display orientation and size, frame-rate mode and duration of an uploaded file. */
  probe(filePath: string, opts: CallOpts): Promise<ServiceProbe>;
  /** Writes the browser-safe rendition, poster (and maybe sprite) for filePath into outDir. */
  ingest(filePath: string, outDir: string, opts: CallOpts): Promise<IngestResult>;
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

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Checks a /v1/probe answer (also the `probe` inside /v1/ingest's). */
export function parseServiceProbe(body: unknown): ServiceProbe {
  if (!isObject(body) || typeof body.display_width !== 'number' || typeof body.display_height !== 'number') {
    throw new PoseError('pose service probe answered without display_width and display_height', true);
  }
  const mode = body.frame_rate_mode;
  return {
    container: str(body.container) ?? 'unknown',
    video_codec: str(body.video_codec),
    profile: str(body.profile),
    pix_fmt: str(body.pix_fmt),
    bit_depth: num(body.bit_depth),
    coded_width: num(body.coded_width),
    coded_height: num(body.coded_height),
    rotation: num(body.rotation) ?? 0,
    mirrored: body.mirrored === true,
    display_width: body.display_width,
    display_height: body.display_height,
    fps: num(body.fps),
    frame_rate_mode: mode === 'cfr' || mode === 'vfr' ? mode : null,
    frame_count: num(body.frame_count),
    duration_s: num(body.duration_s),
    has_audio: typeof body.has_audio === 'boolean' ? body.has_audio : null,
  };
}

function parseServiceFile(v: unknown, what: string): ServiceFile {
  if (!isObject(v) || typeof v.path !== 'string') throw new PoseError(`pose service ingest answered without ${what}.path`, true);
  const columns = num(v.columns);
  const tileWidth = num(v.tile_width);
  const tileHeight = num(v.tile_height);
  const times = Array.isArray(v.times) && v.times.every((t) => typeof t === 'number') ? (v.times as number[]) : null;
  const layout = columns && tileWidth && tileHeight && times ? { columns, rows: num(v.rows) ?? 1, tileWidth, tileHeight, times } : null;
  return { path: v.path, width: num(v.width), height: num(v.height), size: num(v.size), codec: str(v.codec), layout };
}

/** Checks a /v1/ingest answer. */
export function parseIngestResult(body: unknown): IngestResult {
  if (!isObject(body)) throw new PoseError('pose service ingest answered no JSON object', true);
  return {
    probe: parseServiceProbe(body.probe),
    rendition: parseServiceFile(body.rendition, 'rendition'),
    poster: parseServiceFile(body.poster, 'poster'),
    sprite: body.sprite == null ? null : parseServiceFile(body.sprite, 'sprite'),
    timing: body.timing ?? null,
  };
}

/** HTTP client for the pose service. */
export function httpPoseClient(baseUrl: string): PoseClient {
  /** POSTs JSON and returns the parsed 2xx body; failures become PoseErrors that say whether a retry can help. */
  async function post(route: string, payload: unknown, { timeoutMs, signal }: CallOpts): Promise<unknown> {
    const signals = [AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])];
    let res: Response;
    try {
      res = await fetch(`${baseUrl}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.any(signals),
      });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError') throw new PoseError(`pose service did not answer within ${timeoutMs} ms`, true, null, null, 'timeout');
      if (e.name === 'AbortError') throw new PoseError('pose call aborted', true, null, null, 'interrupted');
      const cause = (e.cause as Error | undefined)?.message;
      throw new PoseError(`pose service unreachable: ${cause ?? e.message}`, true, null, null, 'unreachable');
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      // The error body is the pose service's to fill: cut it before it reaches the job document and the log.
      const detail = isObject(body) ? truncateForLog(`${String(body.error ?? '')}: ${String(body.detail ?? '')}`, 500) : 'no JSON body';
      // 4xx means the request or the video is wrong: repeating it cannot help (timeouts and throttling aside).
      const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new PoseError(`pose service answered ${res.status} (${detail})`, retryable, res.status, isObject(body) ? str(body.error) : null);
    }
    return body;
  }

  return {
    async analyseVideo(filePath, opts) {
      return parsePoseVideoResult(await post('/v1/pose/video', { path: filePath }, opts));
    },

    async probe(filePath, opts) {
      return parseServiceProbe(await post('/v1/probe', { path: filePath }, opts));
    },

    async ingest(filePath, outDir, opts) {
      return parseIngestResult(await post('/v1/ingest', { path: filePath, out_dir: outDir }, opts));
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

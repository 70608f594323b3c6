import { execFile } from 'node:child_process';
import os from 'node:os';
import { Slots } from '../slots.js';
import { HttpError } from '../errors.js';

/**
 * The upload-time look at a file with Debian's ffprobe: container, the first video stream's codec, sizes,
 * display rotation, frame rate, duration, and whether its first frames actually decode. The pose service's
 * /v1/probe (run by the job's ingest stage) is the fuller, authoritative probe; this one only decides whether
 * the upload is worth storing.
 */
export interface UploadProbe {
  formatName: string;
  hasVideo: boolean;
  /** ffmpeg's codec name (h264, hevc, vp9, av1, mpeg4, prores…), or the stream's fourcc when ffmpeg has no name for it. */
  codec: string | null;
  profile: string | null;
  pixFmt: string | null;
  codedWidth: number | null;
  codedHeight: number | null;
  /** Degrees the stored picture is turned clockwise for display (0, 90, 180, 270), as the pose service's probe reports it. */
  rotation: number;
  displayWidth: number | null;
  displayHeight: number | null;
  fps: number | null;
  durationS: number | null;
  /** True when ffmpeg decoded at least one frame of the video stream. */
  decodable: boolean;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  profile?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
  tags?: { rotate?: string };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  frames?: unknown[];
  format?: { format_name?: string; duration?: string };
}

/** The file could not be opened as media at all (not a container ffmpeg reads, or truncated). */
export class NotMediaError extends Error {
  override name = 'NotMediaError';
}

const ratio = (r: string | undefined): number | null => {
  if (!r) return null;
  const [n, d] = r.split('/').map(Number);
  if (!n || !d || !Number.isFinite(n / d)) return null;
  return n / d;
};

const positive = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
};

/** Turns ffprobe's JSON into an UploadProbe (pure; unit-tested). */
export function summariseFfprobe(out: FfprobeOutput): UploadProbe {
  const v = out.streams?.find((s) => s.codec_type === 'video') ?? null;
  // ffprobe prints the display matrix's counterclockwise angle; viewers turn the picture the other way.
  const ccw = v?.side_data_list?.find((s) => typeof s.rotation === 'number')?.rotation ?? -Number(v?.tags?.rotate ?? 0);
  const rotation = ((-Math.round((Number(ccw) || 0) / 90) * 90) % 360 + 360) % 360;
  const w = positive(v?.width);
  const h = positive(v?.height);
  const swap = rotation === 90 || rotation === 270;
  const codecName = v?.codec_name && v.codec_name !== 'none' ? v.codec_name : null;
  const tag = v?.codec_tag_string && !/^\[\d+\]/.test(v.codec_tag_string) ? v.codec_tag_string : null;
  return {
    formatName: out.format?.format_name ?? 'unknown',
    hasVideo: v !== null,
    codec: codecName ?? tag,
    profile: v?.profile ?? null,
    pixFmt: v?.pix_fmt ?? null,
    codedWidth: w,
    codedHeight: h,
    rotation,
    displayWidth: swap ? h : w,
    displayHeight: swap ? w : h,
    fps: ratio(v?.avg_frame_rate) ?? ratio(v?.r_frame_rate),
    durationS: positive(out.format?.duration) ?? positive(v?.duration),
    decodable: codecName !== null && (out.frames?.length ?? 0) > 0,
  };
}

/*
 * Fifty uploads finishing together would start fifty ffprobe processes at once and starve the API (and MongoDB)
 * of CPU for seconds; a few at a time keeps polls answered meanwhile (scripts/loadcheck.ts measures it).
 */
const probeSlots = new Slots(Math.max(2, Math.min(4, os.availableParallelism())));

/** Runs ffprobe on `file`: the streams, the format, and the first few decoded frames of the first video stream. */
export function probeUpload(file: string, opts: { ffprobe?: string; timeoutMs?: number } = {}): Promise<UploadProbe> {
  const args = [
    '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams',
    // Decoding a few packets is what tells "ffmpeg knows this codec" from "ffmpeg can decode this file".
    '-show_frames', '-show_entries', 'frame=pts_time', '-read_intervals', '%+#5', '-select_streams', 'v:0',
    file,
  ];
  return probeSlots.run(() => new Promise<UploadProbe>((resolve, reject) => {
    execFile(opts.ffprobe ?? 'ffprobe', args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('ffprobe is not installed (Debian package ffmpeg); the API needs it to check uploads'));
        return;
      }
      let parsed: FfprobeOutput | null = null;
      try {
        parsed = JSON.parse(stdout) as FfprobeOutput;
      } catch {
        parsed = null;
      }
      if (err || !parsed || !parsed.format) {
        const why = String(stderr || (err as Error | null)?.message || 'no output').trim().split('\n').pop();
        reject(new NotMediaError(`ffprobe could not read the file: ${why}`));
        return;
      }
      resolve(summariseFfprobe(parsed));
    });
  }));
}

/** Whether a probed upload may be stored: an HttpError to refuse it with, or null (pure; unit-tested). */
export function refusalFor(probe: UploadProbe, maxDurationS: number): HttpError | null {
  if (!probe.hasVideo) return new HttpError(415, 'no_video_stream', 'the file has no video stream (audio only?); upload a video clip');
  if (!probe.decodable) {
    const codec = probe.codec ?? 'an unknown codec';
    return new HttpError(415, 'unsupported_codec', `the video stream is ${codec}, which cannot be decoded here; export the clip as H.264 or HEVC and upload it again`);
  }
  if (probe.durationS !== null && probe.durationS > maxDurationS) {
    return new HttpError(413, 'too_long', `the video is ${Math.round(probe.durationS)} s long; the limit is ${maxDurationS} s (${formatLimit(maxDurationS)}): trim the clip and upload it again`);
  }
  return null;
}

function formatLimit(s: number): string {
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/**
 * Upload fixtures. Real clips are made here by Debian's ffmpeg (no committed binaries), once per test process;
 * the byte-built headers below stand in for things that only look like containers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let clipDir: string | null = null;
const clipCache = new Map<string, Buffer>();

/** A real clip written by ffmpeg from its test pattern; cached by name for the life of the test process. */
export function ffmpegClip(name: string, args: string[]): Buffer {
  const cached = clipCache.get(name);
  if (cached) return cached;
  if (!clipDir) {
    clipDir = mkdtempSync(path.join(os.tmpdir(), 'clips-'));
    const dir = clipDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const out = path.join(clipDir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const bytes = readFileSync(out);
  clipCache.set(name, bytes);
  return bytes;
}

const pattern = (size: string, rate: number, seconds: number) => ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}:duration=${seconds}`];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

/** A 1 s, 10 fps, 640×480 H.264 MP4. */
export const realMp4 = () => ffmpegClip('base.mp4', [...pattern('640x480', 10, 1), ...h264]);
/** The same clip stored with a 90° display matrix, as phones store portrait video. */
export const portraitMp4 = () => ffmpegClip('portrait.mp4', ['-i', ffmpegClipPath('base.mp4', realMp4), '-c', 'copy', '-metadata:s:v:0', 'rotate=90']);

function ffmpegClipPath(name: string, make: () => Buffer): string {
  make();
  return path.join(clipDir!, name);
}

function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

function ftyp(major: string, compatible: string[]): Buffer {
  const minor = Buffer.alloc(4);
  minor.writeUInt32BE(0x200, 0);
  return box('ftyp', Buffer.concat([Buffer.from(major, 'latin1'), minor, ...compatible.map((b) => Buffer.from(b, 'latin1'))]));
}

/**
 * A real 1 s H.264 MP4 followed by a `free` box of 64 + extraBytes bytes: still a valid file, and each extraBytes
 * gives different bytes (and SHA-256), so tests can upload distinct videos cheaply.
 */
export function minimalMp4(extraBytes = 0): Buffer {
  return Buffer.concat([realMp4(), box('free', Buffer.alloc(64 + extraBytes, 7))]);
}

/** A real QuickTime .mov (H.264). */
export function minimalMov(): Buffer {
  return ffmpegClip('base.mov', [...pattern('320x240', 10, 1), ...h264, '-f', 'mov']);
}

/** ftyp (isom) + an mvhd-only moov + a little mdat: looks like an mp4 from its first bytes, but holds no stream. */
export function fakeMp4Header(): Buffer {
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(3000, 16); // duration
  const moov = box('moov', box('mvhd', mvhd));
  return Buffer.concat([ftyp('isom', ['isom', 'iso2', 'avc1', 'mp41']), moov, box('mdat', Buffer.alloc(64, 7))]);
}

function ebmlElement(id: number[], data: Buffer): Buffer {
  if (data.length > 126) throw new Error('fixture element too long for a 1-byte size');
  return Buffer.concat([Buffer.from(id), Buffer.from([0x80 | data.length]), data]);
}

/** An EBML header with the given DocType followed by the start of a Segment. */
export function minimalEbml(docType: string): Buffer {
  const header = Buffer.concat([
    ebmlElement([0x42, 0x86], Buffer.from([1])), // EBMLVersion
    ebmlElement([0x42, 0xf7], Buffer.from([1])), // EBMLReadVersion
    ebmlElement([0x42, 0xf2], Buffer.from([4])), // EBMLMaxIDLength
    ebmlElement([0x42, 0xf3], Buffer.from([8])), // EBMLMaxSizeLength
    ebmlElement([0x42, 0x82], Buffer.from(docType, 'latin1')), // DocType
    ebmlElement([0x42, 0x87], Buffer.from([4])), // DocTypeVersion
    ebmlElement([0x42, 0x85], Buffer.from([2])), // DocTypeReadVersion
  ]);
  const segment = Buffer.concat([Buffer.from([0x18, 0x53, 0x80, 0x67, 0x01, 0, 0, 0, 0, 0, 0, 0x40]), Buffer.alloc(64, 0)]);
  return Buffer.concat([ebmlElement([0x1a, 0x45, 0xdf, 0xa3], header), segment]);
}

/** A real VP8 WebM. */
export const minimalWebm = () => ffmpegClip('base.webm', [...pattern('160x120', 10, 1), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k']);

/** A real PNG signature + IHDR: what a spoofed "video.mp4" really is. */
export function pngBytes(): Buffer {
  return Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f0bd8e0000000049454e44ae426082',
    'hex',
  );
}

/** An HEIF image: an ftyp box, but not a video. */
export function heifBytes(): Buffer {
  return Buffer.concat([ftyp('heic', ['mif1', 'heic']), box('meta', Buffer.alloc(32))]);
}

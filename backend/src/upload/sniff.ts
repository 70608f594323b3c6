import type { Container } from '../db.js';

/** How many leading bytes detectContainer needs to decide. */
export const SNIFF_BYTES = 4096;

const MOV_BRANDS = new Set(['qt  ']);
// ISO base media brands used by video files (not HEIF/AVIF images, which share the ftyp box).
const MP4_BRANDS = new Set([
  'isom', 'iso2', 'iso3', 'iso4', 'iso5', 'iso6', 'iso8', 'iso9',
  'mp41', 'mp42', 'mp71', 'avc1', 'M4V ', 'M4VH', 'M4VP', 'f4v ', 'dash', 'msnv', 'MSNV', 'ndas', 'mmp4', 'XAVC',
  '3gp4', '3gp5', '3gp6', '3g2a',
]);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

/** mp4 or mov from an ISO-BMFF `ftyp` box: major brand first, then the compatible brands. */
function detectIsoBmff(b: Uint8Array): Container | null {
  if (b.length < 16 || ascii(b, 4, 8) !== 'ftyp') return null;
  const boxSize = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
  if (boxSize < 16 || boxSize > SNIFF_BYTES || (boxSize - 16) % 4 !== 0) return null;
  const major = ascii(b, 8, 12);
  if (MOV_BRANDS.has(major)) return 'mov';
  if (MP4_BRANDS.has(major)) return 'mp4';
  const end = Math.min(boxSize, b.length);
  for (let i = 16; i + 4 <= end; i += 4) {
    const brand = ascii(b, i, i + 4);
    if (MOV_BRANDS.has(brand)) return 'mov';
    if (MP4_BRANDS.has(brand)) return 'mp4';
  }
  return null;
}

/** An EBML variable-length integer at `pos`: its length in bytes and value (marker bit removed unless keepMarker). */
function readVint(b: Uint8Array, pos: number, keepMarker: boolean): { length: number; value: number } | null {
  const first = b[pos];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23; // leading zeros within the byte, plus one
  if (length > 8 || pos + length > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  for (let i = 1; i < length; i++) value = value * 256 + b[pos + i]!;
  return { length, value };
}

const EBML_ID = 0x1a45dfa3;
const DOCTYPE_ID = 0x4282;

/** webm or mkv from the EBML header's DocType element. */
function detectWebm(b: Uint8Array): Container | null {
  const id = readVint(b, 0, true);
  if (!id || id.value !== EBML_ID) return null;
  const size = readVint(b, id.length, false);
  if (!size) return null;
  let pos = id.length + size.length;
  const end = Math.min(b.length, pos + size.value);
  while (pos < end) {
    const childId = readVint(b, pos, true);
    if (!childId) return null;
    const childSize = readVint(b, pos + childId.length, false);
    if (!childSize) return null;
    const dataStart = pos + childId.length + childSize.length;
    if (dataStart + childSize.value > b.length) return null;
    if (childId.value === DOCTYPE_ID) {
      const docType = ascii(b, dataStart, dataStart + childSize.value).replace(/\0+$/, '');
      return docType === 'webm' ? 'webm' : docType === 'matroska' ? 'mkv' : null;
    }
    pos = dataStart + childSize.value;
  }
  return null;
}

/** The real container of a file from its first bytes, whatever its name or declared type says; null if unsupported. */
export function detectContainer(head: Uint8Array): Container | null {
  return detectIsoBmff(head) ?? detectWebm(head);
}

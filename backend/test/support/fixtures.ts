/** Small real container headers, built byte by byte, for upload tests. */

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

/** ftyp (isom) + an mvhd-only moov + a little mdat: a minimal ISO-BMFF mp4. */
export function minimalMp4(extraBytes = 0): Buffer {
  const mvhd = Buffer.alloc(100);
  mvhd.writeUInt32BE(1000, 12); // timescale
  mvhd.writeUInt32BE(3000, 16); // duration
  const moov = box('moov', box('mvhd', mvhd));
  return Buffer.concat([ftyp('isom', ['isom', 'iso2', 'avc1', 'mp41']), moov, box('mdat', Buffer.alloc(64 + extraBytes, 7))]);
}

export function minimalMov(): Buffer {
  return Buffer.concat([ftyp('qt  ', ['qt  ']), box('moov', Buffer.alloc(16)), box('mdat', Buffer.alloc(64, 1))]);
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

export const minimalWebm = () => minimalEbml('webm');

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

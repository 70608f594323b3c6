import type { ObjectId } from 'mongodb';

/**
 * Where the ingest stage writes a video's rendition, poster and sprite: a folder of its own next to the upload
 * (`<uploads>/<videoId>.derived/`), so deleting the video is one recursive remove and nothing else shares it.
 */
export function derivedDirName(videoId: ObjectId | string): string {
  return `${typeof videoId === 'string' ? videoId : videoId.toHexString()}.derived`;
}

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, ObjectId, type Collection, type Db } from 'mongodb';

/*
 * The media store: every upload and every file derived from it lives in MongoDB's GridFS, bucket `media`
 * (collections `media.files`, `media.chunks`), so the API and any number of pose workers on any machine read
 * and write the same files without sharing a disk. Metadata names the video and the kind of file.
 */

export const MEDIA_BUCKET = 'media';
export type MediaKind = 'original' | 'rendition' | 'poster' | 'sprite';

export interface MediaMetadata {
  videoId: ObjectId;
  kind: MediaKind;
  contentType: string;
  /** Original uploads: the SHA-256 the bytes were checked against on the way in. */
  sha256?: string;
}

export interface MediaFileDoc {
  _id: ObjectId;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata?: MediaMetadata;
}

export interface StoredFile {
  fileId: ObjectId;
  size: number;
  sha256: string;
}

export class MediaStore {
  readonly bucket: GridFSBucket;
  readonly files: Collection<MediaFileDoc>;
  readonly chunks: Collection<{ _id: ObjectId; files_id: ObjectId; n: number; data: unknown }>;

  constructor(db: Db) {
    this.bucket = new GridFSBucket(db, { bucketName: MEDIA_BUCKET });
    this.files = db.collection<MediaFileDoc>(`${MEDIA_BUCKET}.files`);
    this.chunks = db.collection(`${MEDIA_BUCKET}.chunks`);
  }

  /** The bucket's own indexes (the driver makes them lazily on a first write) plus lookups by video. */
  async ensureIndexes(): Promise<void> {
    await Promise.all([
      this.chunks.createIndex({ files_id: 1, n: 1 }, { unique: true }),
      this.files.createIndex({ filename: 1, uploadDate: 1 }),
      this.files.createIndex({ 'metadata.videoId': 1 }),
    ]);
  }

  /**
   * Streams `source` into a new GridFS file (under `fileId` if given, so a caller can record the id before the
   * write and clean up after a crash) and returns its id, size and SHA-256 as written. On failure the partial
   * file is removed.
   */
  async put(source: Readable, name: string, metadata: MediaMetadata, fileId = new ObjectId()): Promise<StoredFile> {
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    const upload = this.bucket.openUploadStreamWithId(fileId, name, { metadata });
    try {
      await pipeline(source, meter, upload);
    } catch (err) {
      await this.remove(fileId).catch(() => undefined);
      throw err;
    }
    return { fileId, size, sha256: hash.digest('hex') };
  }

  /** Copies a local file into GridFS (see put). */
  putFile(file: string, name: string, metadata: MediaMetadata, fileId?: ObjectId): Promise<StoredFile> {
    return this.put(createReadStream(file, { highWaterMark: 1024 * 1024 }), name, metadata, fileId);
  }

  find(fileId: ObjectId): Promise<MediaFileDoc | null> {
    return this.files.findOne({ _id: fileId });
  }

  /** Bytes [start, end] (inclusive, as HTTP ranges count) of a stored file. */
  read(fileId: ObjectId, start: number, end: number): Readable {
    return this.bucket.openDownloadStream(fileId, { start, end: end + 1 });
  }

  /** SHA-256 and length of a stored file, read back from the database. */
  async digest(fileId: ObjectId): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of this.bucket.openDownloadStream(fileId) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { size, sha256: hash.digest('hex') };
  }

  /** Removes a file and its chunks; also a half-written one (chunks without a files document). Idempotent. */
  async remove(fileId: ObjectId): Promise<void> {
    await this.files.deleteOne({ _id: fileId });
    await this.chunks.deleteMany({ files_id: fileId });
  }

  /** Removes every file of a video; returns how many. */
  async removeVideo(videoId: ObjectId): Promise<number> {
    const files = await this.files.find({ 'metadata.videoId': videoId }, { projection: { _id: 1 } }).toArray();
    for (const f of files) await this.remove(f._id);
    return files.length;
  }
}

import busboy from 'busboy';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request } from 'express';
import type { Container } from '../db.js';
import { HttpError, badRequest } from '../errors.js';
import { cleanDisplayText } from '../text.js';
import { SNIFF_BYTES, detectContainer } from './sniff.js';

/*
 * busboy rather than multer: multer's disk storage writes the file for us, so hashing while streaming
 * and sniffing the first bytes would each need a custom storage engine anyway.
 * With busboy we own the stream: one pass computes SHA-256, size and the header bytes, the byte limit
 * aborts the request as soon as it is crossed, and nothing is ever held in memory beyond one chunk.
 */

export interface ReceivedUpload {
  /** The temp file; the intake copies it into the media store and removes it. */
  tempPath: string;
  size: number;
  sha256: string;
  container: Container;
  role: 'rider' | 'reference';
  title: string | null;
  originalName: string | null;
}

export interface ReceiveOptions {
  uploadDir: string;
  maxBytes: number;
}

const ROLES = new Set(['rider', 'reference']);
const MAX_TITLE = 200;

/** A display-only version of the client's file name: never used to build a path. */
export function cleanOriginalName(name: string | undefined): string | null {
  if (!name) return null;
  const base = name.split(/[\\/]/).pop() ?? '';
  return cleanDisplayText(base, 255) || null;
}

export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'too_large', `the video is larger than the ${Math.round(maxBytes / 1024 / 1024)} MB limit`, {
    Connection: 'close',
  });
}

async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined);
}

/**
 * Streams the multipart body's `video` part to a temp file in uploadDir, hashing and sniffing it on the way,
 * and validates the fields. Rejects with an HttpError; the temp file is removed on any failure.
 */
export function receiveUpload(req: Request, opts: ReceiveOptions): Promise<ReceivedUpload> {
  return new Promise((resolve, reject) => {
    const contentType = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data\b/i.test(contentType)) {
      reject(new HttpError(415, 'unsupported_media_type', 'send multipart/form-data with a `video` file and a `role` field'));
      return;
    }
    // Refuse an announced oversize body before reading any of it (multipart overhead gets 1 MB of slack).
    const announced = Number(req.headers['content-length']);
    if (Number.isFinite(announced) && announced > opts.maxBytes + 1024 * 1024) {
      reject(tooLarge(opts.maxBytes));
      return;
    }

    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        // Browsers send the file name as raw UTF-8 in `filename="..."`; busboy's default reads it as latin1.
        defParamCharset: 'utf8',
        limits: { fileSize: opts.maxBytes, files: 1, fields: 10, fieldSize: 4 * 1024, parts: 12 },
      });
    } catch (err) {
      reject(badRequest('invalid_multipart', (err as Error).message));
      return;
    }

    const fields: Record<string, string> = {};
    let tempPath: string | null = null;
    let filePromise: Promise<{ size: number; sha256: string; head: Buffer; truncated: boolean }> | null = null;
    let originalName: string | null = null;
    let fileStream: Readable | null = null;
    let settled = false;

    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      // With an error: a plain destroy() of a part that had already ended would leave pipeline() waiting forever.
      fileStream?.destroy(new Error('upload rejected'));

      bb.on('error', () => undefined);
      const cleanup = tempPath ? removeQuietly(tempPath) : Promise.resolve();
      // Wait for the write stream to settle so the unlink is not raced by a late open.
      void Promise.resolve(filePromise?.catch(() => undefined))
        .then(() => cleanup)
        .then(() => (tempPath ? removeQuietly(tempPath) : undefined))
        .finally(() => reject(err));
    };

    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(badRequest('invalid_field', `field \`${name}\` is too long`));
      fields[name] = value;
    });

    bb.on('file', (name, stream, info) => {
      if (name !== 'video' || filePromise) {
        stream.resume();
        return fail(badRequest('unexpected_file', `unexpected file field \`${name}\`; send one file as \`video\``));
      }
      fileStream = stream;
      originalName = cleanOriginalName(info.filename);
      // The stored name is ours alone: the client's filename never reaches the file system.
      tempPath = path.join(opts.uploadDir, `.incoming-${randomUUID()}.part`);
      const target = tempPath;
      let truncated = false;
      stream.on('limit', () => {
        truncated = true;
        fail(tooLarge(opts.maxBytes));
      });
      filePromise = (async () => {
        const hash = createHash('sha256');
        const headChunks: Buffer[] = [];
        let headLength = 0;
        let size = 0;
        const meter = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            size += chunk.length;
            if (headLength < SNIFF_BYTES) {
              headChunks.push(chunk.subarray(0, SNIFF_BYTES - headLength));
              headLength += Math.min(chunk.length, SNIFF_BYTES - headLength);
            }
            done(null, chunk);
          },
        });
        // A staging copy only: the intake moves it into the media store (GridFS) and removes it.
        await pipeline(stream, meter, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
        return { size, sha256: hash.digest('hex'), head: Buffer.concat(headChunks), truncated };
      })();
      filePromise.catch((err) => fail(err));
    });

    bb.on('filesLimit', () => fail(badRequest('unexpected_file', 'send exactly one file, as `video`')));
    bb.on('partsLimit', () => fail(badRequest('invalid_multipart', 'too many parts in the form')));
    bb.on('fieldsLimit', () => fail(badRequest('invalid_multipart', 'too many fields in the form')));
    bb.on('error', (err) => fail(badRequest('invalid_multipart', `malformed multipart body: ${(err as Error).message}`)));
    req.on('aborted', () => fail(badRequest('aborted', 'the upload was interrupted')));

    bb.on('close', () => {
      if (settled) return;
      void (async () => {
        try {
          if (!filePromise || !tempPath) throw badRequest('missing_field', 'the `video` file is required');
          const file = await filePromise;
          if (settled) return;
          if (file.truncated) throw tooLarge(opts.maxBytes);
          if (file.size === 0) throw badRequest('empty_file', 'the uploaded video is empty');
          const role = fields.role;
          if (role === undefined || role === '') throw badRequest('missing_field', 'the `role` field is required (rider or reference)');
          if (!ROLES.has(role)) throw badRequest('invalid_field', '`role` must be rider or reference');
          const title = fields.title === undefined ? null : cleanDisplayText(fields.title, MAX_TITLE + 1) || null;
          if (title && Array.from(title).length > MAX_TITLE) throw badRequest('invalid_field', `\`title\` must be at most ${MAX_TITLE} characters`);
          const container = detectContainer(file.head);
          if (!container) {
            throw new HttpError(415, 'unsupported_type', 'the file is not an mp4, mov or webm video (checked from its content, not its name)');
          }
          settled = true;
          resolve({
            tempPath,
            size: file.size,
            sha256: file.sha256,
            container,
            role: role as 'rider' | 'reference',
            title,
            originalName,
          });
        } catch (err) {
          fail(err);
        }
      })();
    });

    req.pipe(bb);
  });
}

export { removeQuietly };

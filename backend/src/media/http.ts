import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import type { ObjectId } from 'mongodb';
import { HttpError } from '../errors.js';
import type { Container } from '../db.js';
import type { MediaStore } from './store.js';

export const MIME: Record<Container, string> = { mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska' };

/** A single `bytes=` range resolved against the file size: a range, 'unsatisfiable', or null (serve the whole file). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // malformed or multiple ranges: RFC 9110 lets us ignore Range and send 200
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return null;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return null; // e.g. bytes=5-2: invalid, so ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end: b === '' ? size - 1 : Math.min(Number(b), size - 1) };
}

/** `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / RFC 8187). */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** True when an If-None-Match list names `etag` (or is `*`). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

export interface ServeOptions {
  headers: Record<string, string>;
  /** Strong validator; it must change whenever the bytes do (a new GridFS file means a new one). */
  etag: string;
  cacheControl?: string;
  /** What the 404 says when the file is gone. */
  missing?: string;
}

/**
 * Sends a GridFS file with HTTP range support (206 / 416, If-Range) and revalidation (ETag, 304 on
 * If-None-Match); HEAD answers the headers only. Only the requested bytes are read from the database.
 */
export async function sendStored(req: Request, res: Response, media: MediaStore, fileId: ObjectId, opts: ServeOptions): Promise<void> {
  const file = await media.find(fileId);
  if (!file) throw new HttpError(404, 'not_found', opts.missing ?? 'the file is missing (deleted?)');
  const size = file.length;
  const { etag } = opts;
  res.set({ 'Accept-Ranges': 'bytes', ETag: etag, 'Cache-Control': opts.cacheControl ?? 'private, max-age=0' });
  if (matches(req.headers['if-none-match'], etag)) {
    res.status(304).end();
    return;
  }
  res.set(opts.headers);
  const ifRange = req.headers['if-range'];
  const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.removeHeader('Content-Type');
    res.removeHeader('Content-Disposition');
    throw new HttpError(416, 'range_not_satisfiable', `the file is ${size} bytes long`, { 'Content-Range': `bytes */${size}` });
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  if (range) res.status(206).set('Content-Range', `bytes ${start}-${end}/${size}`);
  res.set('Content-Length', String(size === 0 ? 0 : end - start + 1));
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  try {
    await pipeline(media.read(fileId, start, end), res);
  } catch {
    // Client went away mid-stream (or the file was deleted meanwhile): nothing left to answer.
    res.destroy();
  }
}

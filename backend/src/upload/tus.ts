import { rm } from 'node:fs/promises';
import path from 'node:path';
import { FileStore } from '@tus/file-store';
import { Server, type Upload } from '@tus/server';
import type { RequestHandler } from 'express';
import { ObjectId } from 'mongodb';
import type { AppDeps } from '../deps.js';
import type { Role } from '../db.js';
import { HttpError } from '../errors.js';
import { admitUpload, fingerprintFile } from './intake.js';
import { cleanDisplayText } from '../text.js';
import { cleanOriginalName } from './receive.js';
import type { AuthUser } from '../auth/users.js';

/*
 * Resumable uploads (the tus protocol, https://tus.io) for phones on mobile networks: a dropped connection or a
 * page reload resumes at the last byte the server has, instead of starting a 500 MB upload again. The bytes land
 * in `<uploads>/.tus/` (the file store's own folder, which the upload reconciliation leaves alone); when the last
 * byte arrives the file goes through the same checks and pipeline as a multipart upload (SHA-256, content sniff,
 * ffprobe, video document + job), and the final PATCH answers 200 with {videoId, jobId}.
 * Metadata (Upload-Metadata): `role` (rider|reference, required), `title`, `filename`.
 * The lock on an upload is held in memory: one API process serves a given upload (as compose runs it).
 */

export const TUS_PATH = '/api/uploads';
const ROLES = new Set(['rider', 'reference']);
const MAX_TITLE = 200;
/** Unfinished uploads are kept this long after creation, so a phone can resume the next day. */
const EXPIRE_MS = 24 * 60 * 60 * 1000;

const jsonError = (status: number, error: string, detail: string) => ({
  status_code: status,
  body: JSON.stringify({ error, detail }),
});

/** Validated upload metadata, or a tus-style error object (thrown by the hooks). */
export function readTusMetadata(meta: Record<string, string | null> | undefined): { role: Role; title: string | null; originalName: string | null } {
  const role = meta?.role ?? '';
  if (!role) throw jsonError(400, 'missing_field', 'the `role` metadata is required (rider or reference)');
  if (!ROLES.has(role)) throw jsonError(400, 'invalid_field', '`role` must be rider or reference');
  const title = cleanDisplayText(meta?.title ?? '', MAX_TITLE + 1) || null;
  if (title && Array.from(title).length > MAX_TITLE) throw jsonError(400, 'invalid_field', `\`title\` must be at most ${MAX_TITLE} characters`);
  return { role: role as Role, title, originalName: cleanOriginalName(meta?.filename ?? undefined) };
}

/**
 * The signed-in user behind a tus hook's (web) Request: srvx keeps the Node request, on which the session gate set
 * `user`. The owner is stored in the upload's metadata at creation (overwriting any client-sent `owner`), and every
 * later request on that upload must come from the same user, so nobody can append to or read someone else's upload.
 */
function uploaderOf(req: Request): AuthUser {
  const node = (req as unknown as { runtime?: { node?: { req?: { user?: AuthUser } } } }).runtime?.node?.req;
  if (!node?.user) throw jsonError(401, 'unauthenticated', 'sign in first');
  return node.user;
}
const ownerKey = (user: AuthUser) => user.id?.toHexString() ?? '';

export interface TusUploads {
  handler: RequestHandler;
  /** Removes expired unfinished uploads; returns how many. */
  cleanUpExpired(): Promise<number>;
}

export function tusUploads(deps: AppDeps): TusUploads {
  const directory = path.join(deps.config.uploadDir, '.tus');
  let server: Server | null = null;
  // Built on first use: the file store creates its folder, which an API that never sees a resumable upload skips.
  const tus = () => (server ??= createServer());
  const createServer = () => new Server({
    datastore: new FileStore({ directory, expirationPeriodInMilliseconds: EXPIRE_MS }),
    path: TUS_PATH,
    maxSize: deps.config.maxUploadBytes,
    // Location: /api/uploads/<id>, valid behind the web server's /api proxy whatever its public host.
    relativeLocation: true,
    // No CORS: @tus/server would answer `Access-Control-Allow-Origin: *` without this; browsers reach us same-origin.
    allowedOrigins: () => false,
    async onUploadCreate(req, upload) {
      readTusMetadata(upload.metadata);
      return { metadata: { ...upload.metadata, owner: ownerKey(uploaderOf(req)) } };
    },
    async onIncomingRequest(req, uploadId) {
      if (req.method === 'POST') return; // creation: the upload does not exist yet
      const upload = await tus().datastore.getUpload(uploadId).catch(() => null);
      if (upload && upload.metadata?.owner !== ownerKey(uploaderOf(req))) throw jsonError(404, 'not_found', 'upload not found');
    },
    async onUploadFinish(_req, upload: Upload) {
      const file = path.join(directory, upload.id);
      const fields = readTusMetadata(upload.metadata);
      try {
        const { size, sha256, container } = await fingerprintFile(file);
        if (size === 0) throw new HttpError(400, 'empty_file', 'the uploaded video is empty');
        if (!container) {
          throw new HttpError(415, 'unsupported_type', 'the file is not an mp4, mov, webm or mkv video (checked from its content, not its name)');
        }
        const owner = upload.metadata?.owner;
        const ownerId = owner && ObjectId.isValid(owner) ? new ObjectId(owner) : null;
        const admitted = await admitUpload(deps, { tempPath: file, size, sha256, container, ...fields, ownerId });
        return {
          status_code: 200,
          headers: { 'Content-Type': 'application/json', 'X-Video-Id': admitted.videoId, 'X-Job-Id': admitted.jobId },
          body: JSON.stringify(admitted),
        };
      } catch (err) {
        await rm(file, { force: true });
        if (err instanceof HttpError) throw jsonError(err.status, err.code, err.message);
        deps.log(`tus upload ${upload.id} could not be stored`, err);
        throw jsonError(500, 'internal', 'the upload could not be stored');
      } finally {
        // The store's record of the upload: the bytes are either stored as a video now, or refused.
        await rm(`${file}.json`, { force: true });
      }
    },
  });
  const sweep = setInterval(() => {
    if (!server) return;
    server.cleanUpExpiredUploads().catch((err) => deps.log('removing expired resumable uploads failed', err));
  }, 60 * 60 * 1000);
  sweep.unref();
  return {
    handler: (req, res) => {
      // Mounted with app.use, Express strips the mount path from req.url; tus needs the full path for upload ids.
      req.url = req.originalUrl;
      void tus().handle(req, res);
    },
    cleanUpExpired: () => tus().cleanUpExpiredUploads(),
  };
}

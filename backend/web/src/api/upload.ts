// Types only (erased): the library itself is loaded when an upload starts (loadTus), so it stays out of the main
// bundle that every page, the analysis view included, downloads first.
import type * as Tus from 'tus-js-client';
import { apiUrl } from '../config';
import { ApiError, toApiError } from './errors';
import { csrfHeaders, currentSession, loadSession, nextSignIn, sessionLost } from './session';
import type { Role } from './types';

export interface UploadResult { videoId: string; jobId: string }
export interface UploadInput { file: File; role: Role; title?: string }
export interface UploadProgress {
  /** 0..1 of the file's bytes the server holds. */
  fraction: number;
  /** Where this upload picked up an earlier, interrupted one (0..1), when it did. */
  resumedFrom?: number;
  /** True while the connection is down and the upload waits to retry. */
  retrying?: boolean;
  /** True while the session has ended (401): the upload is paused and resumes once its owner signs in again. */
  waitingForSignIn?: boolean;
}
export interface UploadHandle { promise: Promise<UploadResult>; abort: () => void }

export const ACCEPTED_TYPES = ['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska'];
export const ACCEPTED_EXTENSIONS = ['.mp4', '.mov', '.webm', '.mkv'];
export const UPLOAD_ENDPOINT = '/api/uploads';
/** 8 MiB per PATCH: a dropped mobile connection loses at most one chunk's progress on the wire. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Retries after a dropped connection: quickly at first, then every 20 s for a few minutes. */
export const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 20000, 20000, 20000, 20000, 20000, 20000];

/** Reject obviously wrong files before sending them; the API still has the last word. */
export function precheckFile(file: File): string | null {
  const lower = file.name.toLowerCase();
  const extOk = ACCEPTED_EXTENSIONS.some((e) => lower.endsWith(e));
  const typeOk = !file.type || ACCEPTED_TYPES.includes(file.type);
  if (!extOk && !typeOk) return `“${file.name}” is not a video we can analyse. Use an MP4, MOV, WebM or MKV file.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  return null;
}

/** The tus Upload-Metadata the API reads: role, title, filename (and the type, for the record). */
export function uploadMetadata(input: UploadInput): Record<string, string> {
  const meta: Record<string, string> = { role: input.role, filename: input.file.name, filetype: input.file.type || 'application/octet-stream' };
  const title = input.title?.trim();
  if (title) meta.title = title;
  return meta;
}

/** The API's {error, detail} from a failed tus request, or a network error. */
export function errorFromTus(err: Error & { originalResponse?: { getStatus(): number; getBody(): string } | null }): ApiError {
  const res = err.originalResponse;
  if (!res) return toApiError(0, null);
  return toApiError(res.getStatus(), res.getBody());
}

let tusModule: Promise<typeof Tus> | null = null;

/**
 * tus-js-client, fetched as its own chunk the first time an upload starts, and kept.
 * A failed fetch is forgotten, so the next upload tries again.
 */
export function loadTus(): Promise<typeof Tus> {
  tusModule ??= import('tus-js-client').catch((e: unknown) => {
    tusModule = null;
    throw e;
  });
  return tusModule;
}

/** Stop functions of the uploads in progress (see `stopUploadsForSignOut`). */
const activeUploads = new Set<() => void>();

/** Before signing out: stop every upload in progress, keeping the server's part for a later resume. */
export function stopUploadsForSignOut(): number {
  const stops = [...activeUploads];
  for (const stop of stops) stop();
  return stops.length;
}

/** The {videoId, jobId} the API answers to the last PATCH. */
export function resultFromBody(body: string): UploadResult {
  try {
    const parsed = JSON.parse(body) as Partial<UploadResult>;
    if (typeof parsed.videoId === 'string' && typeof parsed.jobId === 'string') return { videoId: parsed.videoId, jobId: parsed.jobId };
  } catch {
    // fall through
  }
  throw new ApiError(200, 'bad_response', 'The server accepted the upload but answered something unreadable.');
}

/**
 * Uploads with the tus protocol (resumable): a dropped connection is retried and resumes at the last byte the
 * server holds; after a page reload, choosing the same file again resumes it too (the upload URL is remembered
 * in localStorage under the file's name, type, size and modification time).
 * Every tus request carries the session's CSRF token. When the session ends mid-upload (401), the app goes back
 * to sign-in and the upload pauses; it resumes at the server's offset once the same user signs in again.
 */
export function uploadVideo(input: UploadInput, onProgress: (p: UploadProgress) => void): UploadHandle {
  let upload: Tus.Upload | null = null;
  let aborted = false;
  let rejectOuter: (e: unknown) => void = () => undefined;
  const promise = new Promise<UploadResult>((resolve, reject) => {
    rejectOuter = reject;
    let resumedFrom: number | undefined;
    let retrying = false;
    let csrfRenewed = false;
    /** Set by a 401 on any tus request: the session ended, so the upload waits for sign-in instead of failing. */
    let sessionEnded = false;
    const owner = currentSession()?.user.id ?? null;
    // The upload code comes with the first upload (a lazy chunk); a cancel while it loads starts nothing.
    loadTus().then((tus) => {
      if (aborted) return;
      upload = new tus.Upload(input.file, {
        endpoint: apiUrl(UPLOAD_ENDPOINT),
        metadata: uploadMetadata(input),
        chunkSize: CHUNK_BYTES,
        retryDelays: RETRY_DELAYS_MS,
        storeFingerprintForResuming: true,
        onBeforeRequest(req) {
          // Read per request: a session renewed by a sign-in after a 401 has a new token.
          for (const [k, v] of Object.entries(csrfHeaders(req.getMethod()))) req.setHeader(k, v);
          if (apiUrl('') !== '') (req.getUnderlyingObject() as XMLHttpRequest).withCredentials = true;
        },
        removeFingerprintOnSuccess: true,
        onAfterResponse(_req, res) {
          if (res.getStatus() === 401) {
            // Stop tus right here: its resume step takes any 4xx to a HEAD for "upload gone", forgets the upload
            // and creates a new one from byte 0. A 401 only means "sign in again"; the upload is still there.
            sessionEnded = true;
            throw new ApiError(401, 'unauthenticated', 'sign in first');
          }
        },
        onShouldRetry(err, attempt, options) {
          if (sessionEnded) return false;
          const status = err.originalResponse?.getStatus() ?? 0;
          // Network failures and server hiccups are retried; the API's refusals (4xx) are final.
          const retry = !aborted && (status === 0 || status >= 500 || status === 409 || status === 423) && attempt < (options.retryDelays?.length ?? 0);
          if (retry) {
            retrying = true;
            onProgress({ fraction: lastFraction, resumedFrom, retrying });
          }
          return retry;
        },
        onProgress(sent, total) {
          lastFraction = total > 0 ? sent / total : 0;
          retrying = false;
          onProgress({ fraction: lastFraction, resumedFrom, retrying });
        },
        onSuccess({ lastResponse }) {
          try {
            const result = resultFromBody(lastResponse.getBody());
            onProgress({ fraction: 1, resumedFrom });
            resolve(result);
          } catch (e) {
            reject(e);
          }
        },
        onError(err) {
          if (aborted) return reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
          const refusal = errorFromTus(err);
          const u = upload as Tus.Upload;
          // Any 401: a refused PATCH may reach the browser as a dropped connection, and the retry's HEAD answer
          // has no body to name the error; only a missing or ended session answers 401 here.
          if (sessionEnded || refusal.status === 401) {
            sessionEnded = false;
            sessionLost();
            onProgress({ fraction: lastFraction, resumedFrom, waitingForSignIn: true });
            void nextSignIn().then((session) => {
              if (aborted) return;
              if (owner !== null && session.user.id !== owner) {
                reject(new ApiError(401, 'signed_in_as_other', 'Signed in as someone else, so this upload stopped. Sign in as its owner and choose the file again to resume it.'));
                return;
              }
              onProgress({ fraction: lastFraction, resumedFrom });
              u.start(); // asks the server for its offset (HEAD) and sends the rest
            });
            return;
          }
          if (refusal.status === 403 && refusal.code === 'csrf_failed' && !csrfRenewed) {
            // The session was renewed elsewhere (another tab signed in again): read its token and go on once.
            csrfRenewed = true;
            loadSession().then((s) => (s && !aborted ? u.start() : reject(refusal)), () => reject(refusal));
            return;
          }
          reject(refusal);
        },
      });
      let lastFraction = 0;
      const u = upload;
      u.findPreviousUploads().then(
        (previous) => {
          if (aborted) return;
          const last = previous.sort((a, b) => String(b.creationTime).localeCompare(String(a.creationTime)))[0];
          if (last) {
            u.resumeFromPreviousUpload(last);
            resumedFrom = -1; // known once the server says where it stands
          }
          if (resumedFrom === -1) {
            const onBefore = u.options.onAfterResponse;
            u.options.onAfterResponse = (req, res) => {
              if (resumedFrom === -1 && req.getMethod() === 'HEAD') {
                const offset = Number(res.getHeader('Upload-Offset'));
                resumedFrom = Number.isFinite(offset) && input.file.size > 0 ? offset / input.file.size : undefined;
                onProgress({ fraction: resumedFrom ?? 0, resumedFrom });
              }
              return onBefore?.(req, res);
            };
          }
          u.start();
        },
        () => u.start(),
      );
    }, () => reject(toApiError(0, null)));
  });
  // Signing out stops this upload without dropping what the server holds: the same file, chosen again after
  // signing in, resumes it (the upload URL stays in localStorage).
  const stop = () => {
    aborted = true;
    const u = upload as Tus.Upload | null;
    if (u) void u.abort(false).catch(() => undefined);
    rejectOuter(new ApiError(0, 'signed_out', 'Signed out, so this upload stopped. Sign in and choose the same file again to resume it.'));
  };
  activeUploads.add(stop);
  promise.then(
    () => activeUploads.delete(stop),
    () => activeUploads.delete(stop),
  );
  return {
    promise,
    abort: () => {
      aborted = true;
      const u = upload as Tus.Upload | null;
      // Cancel means "I do not want this": the server may drop the partial upload (terminate).
      if (u) void u.abort(true).catch(() => undefined);
      rejectOuter(new ApiError(0, 'aborted', 'Upload cancelled.'));
    },
  };
}

import { apiUrl } from '../config';
import { ApiError, toApiError } from './errors';
import type { Role } from './types';

export interface UploadResult { videoId: string; jobId: string }
export interface UploadInput { file: File; role: Role; title?: string }
export interface UploadHandle { promise: Promise<UploadResult>; abort: () => void }

export const ACCEPTED_TYPES = ['video/mp4', 'video/quicktime', 'video/webm'];
export const ACCEPTED_EXTENSIONS = ['.mp4', '.mov', '.webm'];

/** Reject obviously wrong files before sending them; the API still has the last word. */
export function precheckFile(file: File): string | null {
  const lower = file.name.toLowerCase();
  const extOk = ACCEPTED_EXTENSIONS.some((e) => lower.endsWith(e));
  const typeOk = !file.type || ACCEPTED_TYPES.includes(file.type);
  if (!extOk && !typeOk) return `“${file.name}” is not a video we can analyse. Use an MP4, MOV or WebM file.`;
  if (file.size === 0) return `“${file.name}” is empty.`;
  return null;
}

/**
 * POST /api/videos with real upload progress (fetch has no upload progress events, XHR does).
 * onProgress gets 0..1 of bytes sent.
 */
export function uploadVideo(input: UploadInput, onProgress: (fraction: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<UploadResult>((resolve, reject) => {
    const form = new FormData();
    form.append('role', input.role);
    if (input.title?.trim()) form.append('title', input.title.trim());
    form.append('video', input.file, input.file.name);

    xhr.open('POST', apiUrl('/api/videos'));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        try {
          resolve(JSON.parse(xhr.responseText) as UploadResult);
        } catch {
          reject(new ApiError(xhr.status, 'bad_response', 'The server accepted the upload but answered something unreadable.'));
        }
      } else {
        reject(toApiError(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(toApiError(0, null));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

// Issue 14's calls: a pose window of an analysis that is still running, and another try at a failed one.
import { request } from './client';
import type { PoseResponse } from './types';

const videoPath = (id: string) => `/api/videos/${encodeURIComponent(id)}`;

/**
 * The pose frames with from ≤ t ≤ to (seconds; `to` null = to the end). While the job runs, the API answers with
 * the frames of the segments finished so far.
 */
export function getPoseWindow(id: string, from: number, to: number | null): Promise<PoseResponse> {
  const q = new URLSearchParams({ from: String(Math.max(0, from)) });
  if (to !== null) q.set('to', String(to));
  return request<PoseResponse>(`${videoPath(id)}/pose?${q}`);
}

export interface Retried { videoId: string; jobId: string }

/** A new job for a failed video, from the upload it already has (409 `not_failed` when it is not failed). */
export const retryVideo = (id: string) => request<Retried>(`${videoPath(id)}/retry`, { method: 'POST' });

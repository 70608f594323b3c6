import { apiUrl } from '../config';
import { toApiError } from './errors';
import type { Job, Metrics, PoseResponse, Role, Video, VideoPage, JobState } from './types';

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(apiUrl(path), { headers: { Accept: 'application/json' }, ...init });
  } catch {
    throw toApiError(0, null);
  }
  if (!res.ok) throw toApiError(res.status, await res.text().catch(() => ''));
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export interface ListQuery { page?: number; limit?: number; role?: Role | ''; status?: JobState | '' }

export function listVideos(q: ListQuery = {}): Promise<VideoPage> {
  const params = new URLSearchParams();
  params.set('page', String(q.page ?? 1));
  params.set('limit', String(q.limit ?? 50));
  if (q.role) params.set('role', q.role);
  if (q.status) params.set('status', q.status);
  return request<VideoPage>(`/api/videos?${params}`);
}

export const getVideo = (id: string) => request<Video>(`/api/videos/${encodeURIComponent(id)}`);
export const getPose = (id: string) => request<PoseResponse>(`/api/videos/${encodeURIComponent(id)}/pose`);
export const getMetrics = (id: string) => request<Metrics>(`/api/videos/${encodeURIComponent(id)}/metrics`);
export const getJob = (id: string) => request<Job>(`/api/jobs/${encodeURIComponent(id)}`);
export const deleteVideo = (id: string) => request<void>(`/api/videos/${encodeURIComponent(id)}`, { method: 'DELETE' });

export const streamUrl = (id: string) => apiUrl(`/api/videos/${encodeURIComponent(id)}/stream`);
export const originalUrl = (id: string) => apiUrl(`/api/videos/${encodeURIComponent(id)}/original`);

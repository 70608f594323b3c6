import { apiUrl } from '../config';
import { toApiError } from './errors';
import { csrfHeaders, loadSession, sessionLost, type User } from './session';
import type { Job, Metrics, MetricsSummary, PoseResponse, Role, Video, VideoPage, JobState } from './types';

async function send(path: string, init?: RequestInit): Promise<Response> {
  try {
    // The session is a cookie; state-changing requests also carry the session's CSRF token (read per request).
    return await fetch(apiUrl(path), {
      credentials: 'include',
      ...init,
      headers: { Accept: 'application/json', ...csrfHeaders(init?.method), ...(init?.headers as Record<string, string> | undefined) },
    });
  } catch {
    throw toApiError(0, null);
  }
}

/**
 * One API call. 401 means the session ended (expired, signed out elsewhere): the app goes back to sign-in
 * (`sessionLost`) and the caller gets the error. A 403 `csrf_failed` (the session was renewed in another tab)
 * re-reads the session's token and retries once.
 */
export async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res = await send(path, init);
  if (res.status === 403 && init?.method && init.method !== 'GET') {
    const body = await res.clone().text().catch(() => '');
    if (toApiError(403, body).code === 'csrf_failed' && (await loadSession().catch(() => null))) res = await send(path, init);
  }
  if (!res.ok) {
    const err = toApiError(res.status, await res.text().catch(() => ''));
    // Behind the session gate a 401 always means the session is gone (a HEAD's 401 carries no code).
    if (res.status === 401) sessionLost();
    throw err;
  }
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Library orders the API offers (no rotation sort: see docs/contracts.md). */
export type LibrarySort = 'date' | 'duration' | 'rotation';
export interface ListQuery { page?: number; limit?: number; role?: Role | ''; status?: JobState | ''; owner?: string | ''; q?: string; sort?: LibrarySort }

export function listVideos(q: ListQuery = {}): Promise<VideoPage> {
  const params = new URLSearchParams();
  params.set('page', String(q.page ?? 1));
  params.set('limit', String(q.limit ?? 50));
  if (q.role) params.set('role', q.role);
  if (q.status) params.set('status', q.status);
  if (q.owner) params.set('owner', q.owner);
  if (q.q?.trim()) params.set('q', q.q.trim());
  if (q.sort && q.sort !== 'date') params.set('sort', q.sort);
  return request<VideoPage>(`/api/videos?${params}`);
}

export const getVideo = (id: string) => request<Video>(`/api/videos/${encodeURIComponent(id)}`);
export const getPose = (id: string) => request<PoseResponse>(`/api/videos/${encodeURIComponent(id)}/pose`);
export const getMetrics = (id: string) => request<Metrics>(`/api/videos/${encodeURIComponent(id)}/metrics`);
/** The summary alone (`?series=0`): a few hundred bytes, where a 2-minute clip's whole metrics are about 125 KB. */
export const getMetricsSummary = (id: string) =>
  request<{ summary: MetricsSummary }>(`/api/videos/${encodeURIComponent(id)}/metrics?series=0`).then((r) => r.summary);
export const getJob = (id: string) => request<Job>(`/api/jobs/${encodeURIComponent(id)}`);
/** `keepalive` lets a delete that was waiting out its undo delay still go when the page is being left. */
export const deleteVideo = (id: string, opts: { keepalive?: boolean } = {}) =>
  request<void>(`/api/videos/${encodeURIComponent(id)}`, { method: 'DELETE', keepalive: opts.keepalive });
export const renameVideo = (id: string, title: string) =>
  request<Video>(`/api/videos/${encodeURIComponent(id)}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ title }) });

export const streamUrl = (id: string) => apiUrl(`/api/videos/${encodeURIComponent(id)}/stream`);
export const originalUrl = (id: string) => apiUrl(`/api/videos/${encodeURIComponent(id)}/original`);

// Share links (issue 16): read-only access to one analysis by an unguessable token.
export interface CreatedShare { token: string; url: string; createdAt: string }
export interface ShareItem { id: string; url?: string | null; createdAt: string; /** The token's first characters, to tell links apart. */ prefix?: string }
const sharesPath = (id: string) => `/api/videos/${encodeURIComponent(id)}/shares`;
export const createShare = (id: string) => request<CreatedShare>(sharesPath(id), { method: 'POST' });
export const listShares = (id: string) => request<{ items: ShareItem[] }>(sharesPath(id));
export const revokeShare = (id: string, shareId: string) => request<void>(`${sharesPath(id)}/${encodeURIComponent(shareId)}`, { method: 'DELETE' });

// Accounts (admin only): the owner picker lists them.
export const listUsers = () => request<{ items: User[] }>('/api/users');

// The public, read-only routes behind a share link (GET /api/shared/:token...): no session, no account data.
import { apiUrl } from '../config';
import { toApiError } from './errors';
import type { Metrics, PoseResponse, Video } from './types';

const base = (token: string) => `/api/shared/${encodeURIComponent(token)}`;

async function get<T>(path: string): Promise<T> {
  let res: Response;
  try {
    // No cookie: what a share link shows must not depend on who opens it.
    res = await fetch(apiUrl(path), { credentials: 'omit', headers: { Accept: 'application/json' } });
  } catch {
    throw toApiError(0, null);
  }
  if (!res.ok) throw toApiError(res.status, await res.text().catch(() => ''));
  return (await res.json()) as T;
}

export const getSharedVideo = (token: string) => get<{ video: Video }>(base(token)).then((r) => r.video);
export const getSharedPose = (token: string) => get<PoseResponse>(`${base(token)}/pose`);
export const getSharedMetrics = (token: string) => get<Metrics>(`${base(token)}/metrics`);

/** Media URLs of the shared analysis, for <video>, the poster and the scrub sprite. */
export const sharedMedia = (token: string) => ({
  stream: apiUrl(`${base(token)}/stream`),
  poster: apiUrl(`${base(token)}/poster`),
  sprite: apiUrl(`${base(token)}/sprite`),
});

/** The token of a share page path (/shared/<token>), or null for any other path. */
export function shareTokenOf(pathname: string): string | null {
  const m = /^\/shared\/([A-Za-z0-9_-]{16,})\/?$/.exec(pathname);
  return m ? m[1] : null;
}

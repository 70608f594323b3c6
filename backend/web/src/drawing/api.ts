import { request } from '../api/client';
import type { Drawing } from './model';

/** A video's drawings as the API keeps them (GET/PUT /api/videos/:id/drawings, docs/contracts.md). */
export interface DrawingSet { drawings: Drawing[]; updatedAt: string | null }

const path = (id: string) => `/api/videos/${encodeURIComponent(id)}/drawings`;

export const getDrawings = (videoId: string) => request<DrawingSet>(path(videoId));

/** Replaces the video's whole set (deleting one is saving the set without it). */
export const putDrawings = (videoId: string, drawings: Drawing[]) =>
  request<DrawingSet>(path(videoId), { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ drawings }) });

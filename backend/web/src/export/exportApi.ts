import { request } from '../api/client';
import { apiUrl } from '../config';

/*
 * The export routes of the API (docs/contracts.md, "Exports"; issue 18 item 9): metrics files as downloads, and the
 * skeleton MP4 that a pose worker renders (start it, follow its progress, download it).
 */

export type ExportState = 'queued' | 'running' | 'done' | 'failed';

export interface VideoExport {
  id: string;
  videoId: string;
  kind: 'mp4';
  state: ExportState;
  /** framesDone / framesTotal while rendering, 1 when done. */
  progress: number;
  framesDone: number;
  framesTotal: number | null;
  size: number | null;
  /** No live pose worker to render it right now. */
  waiting: 'workers' | null;
  error: string | null;
  errorDetail: string | null;
  /** Where to download the MP4 once it is done. */
  fileUrl: string | null;
}

const videoPath = (id: string) => `/api/videos/${encodeURIComponent(id)}`;

/** Per-frame metrics (one row per analysed frame) or the summary table, as a CSV attachment. */
export const metricsCsvUrl = (id: string, table: 'frames' | 'summary' = 'frames') =>
  apiUrl(`${videoPath(id)}/metrics.csv${table === 'summary' ? '?table=summary' : ''}`);
/** Series, summary, frame numbers and units as one JSON attachment. */
export const metricsJsonUrl = (id: string) => apiUrl(`${videoPath(id)}/metrics.json`);

/** Starts the skeleton MP4 (or joins the one already made or being made for this video). */
export const startMp4Export = (id: string) =>
  request<VideoExport>(`${videoPath(id)}/exports`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'mp4' }) });
export const getExport = (id: string, exportId: string) => request<VideoExport>(`${videoPath(id)}/exports/${encodeURIComponent(exportId)}`);

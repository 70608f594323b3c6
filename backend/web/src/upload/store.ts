// Issue 18/7: the uploads of this page, kept above the views. The library's upload panel starts them, but they
// belong to the app: moving to an analysis or a comparison and back leaves them running, the header's indicator
// shows them everywhere, and each one's row keeps following its job (the same SSE as the library card) to Ready.
// A plain module store read through useSyncExternalStore: no provider to mount, and the tus transfer and job
// watch it holds outlive any component.
import { useSyncExternalStore } from 'react';
import { errorMessage } from '../api/errors';
import { watchJob } from '../api/jobEvents';
import type { Job, Role } from '../api/types';
import { uploadVideo, type UploadInput, type UploadResult } from '../api/upload';

export interface UploadItem {
  key: number;
  name: string;
  size: number;
  role: Role;
  progress: number;
  /** Resumed from an interrupted upload, or waiting for the connection to come back. */
  note?: string;
  /** `done`: the bytes are on the server; from then on `job` follows the analysis to Ready (or failed). */
  state: 'uploading' | 'done' | 'error';
  error?: string;
  abort?: () => void;
  videoId?: string;
  job?: Job;
}

export interface UploadsSnapshot {
  /** Newest first. */
  items: readonly UploadItem[];
  /** How many uploads have reached the server so far: the library lists again when it grows. */
  uploaded: number;
}

/** Still moving: bytes on the way, or an analysis that has not finished. */
export const isActive = (it: UploadItem) => it.state === 'uploading' || (it.state === 'done' && it.job?.state !== 'done' && it.job?.state !== 'failed');

/** One line per upload, from the first byte to a finished analysis. */
export function statusOf(it: UploadItem): string {
  if (it.state === 'uploading') return `Uploading · ${Math.round(it.progress * 100)}%`;
  if (it.state === 'error') return 'Not uploaded';
  const job = it.job;
  if (!job || job.state === 'queued') return 'Uploaded · waiting for analysis';
  if (job.state === 'running') return `Analysing · ${Math.round((job.progress ?? 0) * 100)}%`;
  if (job.state === 'done') return 'Ready';
  return 'Analysis failed';
}

/** What the header says about the uploads: null when there are none to show. */
export function summaryOf(items: readonly UploadItem[]): { text: string; active: number; fraction: number | null } | null {
  if (items.length === 0) return null;
  const sending = items.filter((it) => it.state === 'uploading');
  const analysing = items.filter((it) => it.state === 'done' && isActive(it));
  const ready = items.filter((it) => it.job?.state === 'done').length;
  const failed = items.filter((it) => it.state === 'error' || it.job?.state === 'failed').length;
  if (sending.length > 0) {
    const total = sending.reduce((a, it) => a + it.size, 0);
    const fraction = total > 0 ? sending.reduce((a, it) => a + it.progress * it.size, 0) / total : 0;
    const more = analysing.length > 0 ? ` · ${analysing.length} analysing` : '';
    return { text: `Uploading ${sending.length} · ${Math.round(fraction * 100)}%${more}`, active: sending.length + analysing.length, fraction };
  }
  if (analysing.length > 0) {
    const fraction = analysing.reduce((a, it) => a + (it.job?.state === 'running' ? (it.job.progress ?? 0) : 0), 0) / analysing.length;
    return { text: `Analysing ${analysing.length}${ready ? ` · ${ready} ready` : ''}`, active: analysing.length, fraction };
  }
  const parts = [ready && `${ready} ${ready === 1 ? 'upload' : 'uploads'} ready`, failed && `${failed} failed`].filter(Boolean);
  return { text: parts.join(' · ') || 'Uploads finished', active: 0, fraction: null };
}

export interface UploadStore {
  subscribe: (listener: () => void) => () => void;
  snapshot: () => UploadsSnapshot;
  /** Starts one upload; its row appears at once (at the top) and follows it to Ready. Returns its key. */
  start: (input: UploadInput, opts?: { name?: string; onUploaded?: (r: UploadResult) => void }) => number;
  /** Forgets the finished rows (Ready, failed, not uploaded); the running ones stay. */
  clearFinished: () => void;
  /** A file dropped on a view without the upload form: kept for the form, which takes it when it shows. */
  offer: (file: File) => void;
  /** The offered file, once (null when there is none). */
  takeOffered: () => File | null;
}

export function createUploadStore(): UploadStore {
  let state: UploadsSnapshot = { items: [], uploaded: 0 };
  let nextKey = 1;
  const listeners = new Set<() => void>();
  let offered: File | null = null;
  const watches = new Map<number, () => void>();

  // Leaving or reloading the page while bytes are moving asks first (the browser shows its own wording), on
  // every view: the uploads are the app's, not the library's.
  const warn = (e: BeforeUnloadEvent) => {
    e.preventDefault();
    e.returnValue = '';
  };
  let warning = false;
  const set = (next: UploadsSnapshot) => {
    state = next;
    const sending = state.items.some((it) => it.state === 'uploading');
    if (sending !== warning && typeof window !== 'undefined') {
      warning = sending;
      if (sending) window.addEventListener('beforeunload', warn);
      else window.removeEventListener('beforeunload', warn);
    }
    listeners.forEach((l) => l());
  };
  const patch = (key: number, p: Partial<UploadItem>) => set({ ...state, items: state.items.map((x) => (x.key === key ? { ...x, ...p } : x)) });
  const unwatch = (key: number) => {
    watches.get(key)?.();
    watches.delete(key);
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: () => state,
    start(input, opts = {}) {
      const key = nextKey++;
      const handle = uploadVideo(input, (p) =>
        patch(key, {
          progress: p.fraction,
          note: p.waitingForSignIn
            ? 'Paused · sign in again to continue'
            : p.retrying
              ? 'Connection lost · retrying…'
              : p.resumedFrom !== undefined && p.resumedFrom > 0
                ? `Resumed at ${Math.round(p.resumedFrom * 100)}%`
                : undefined,
        }),
      );
      const name = opts.name ?? (input.title?.trim() || input.file.name);
      set({ ...state, items: [{ key, name, size: input.file.size, role: input.role, progress: 0, state: 'uploading', abort: handle.abort }, ...state.items] });
      handle.promise.then(
        (r) => {
          const item = state.items.find((x) => x.key === key);
          if (!item) return; // forgotten meanwhile
          set({ uploaded: state.uploaded + 1, items: state.items.map((x) => (x.key === key ? { ...x, state: 'done', progress: 1, note: undefined, abort: undefined, videoId: r.videoId } : x)) });
          opts.onUploaded?.(r);
          watches.set(
            key,
            watchJob(r.jobId, {
              onJob: (job) => {
                patch(key, { job });
                if (job.state === 'done' || job.state === 'failed') unwatch(key);
              },
              onDeleted: () => {
                patch(key, { state: 'error', error: 'The video was deleted.' });
                unwatch(key);
              },
            }),
          );
        },
        (err) => patch(key, { state: 'error', error: errorMessage(err), abort: undefined }),
      );
      return key;
    },
    offer(file) {
      offered = file;
    },
    takeOffered() {
      const f = offered;
      offered = null;
      return f;
    },
    clearFinished() {
      const keep = state.items.filter(isActive);
      state.items.filter((it) => !isActive(it)).forEach((it) => unwatch(it.key));
      set({ ...state, items: keep });
    },
  };
}

/** The sample clip shipped with the app (public/sample/, see SOURCE.txt there), offered by the empty library. */
export const SAMPLE_CLIP = { url: `${import.meta.env.BASE_URL}sample/sample-run.mp4`, name: 'sample-run.mp4', title: 'Sample clip' };

/** The app's uploads (one per page load). */
export const uploads: UploadStore = createUploadStore();

/** The uploads, re-rendering on every change (progress included). */
export function useUploads(store: UploadStore = uploads): UploadsSnapshot {
  return useSyncExternalStore(store.subscribe, store.snapshot, store.snapshot);
}

/**
 * A file dropped anywhere in the app is caught (the browser would otherwise open it and leave the app). On a view
 * without the upload form it is offered to the form and the library opens, where the form takes it as the clip.
 * Returns the stop function.
 */
export function catchDrops(store: UploadStore, openLibrary: () => void): () => void {
  const hasForm = () => document.querySelector('[data-testid="dropzone"]') !== null;
  const over = (e: DragEvent) => {
    if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
  };
  const drop = (e: DragEvent) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    const file = e.dataTransfer.files?.[0];
    if (!file || hasForm()) return; // the form's own listener takes it
    store.offer(file);
    openLibrary();
  };
  window.addEventListener('dragover', over);
  window.addEventListener('drop', drop);
  return () => {
    window.removeEventListener('dragover', over);
    window.removeEventListener('drop', drop);
  };
}

/** How many uploads reached the server: re-renders only when that count changes (not on progress). */
export function useUploadedCount(store: UploadStore = uploads): number {
  return useSyncExternalStore(store.subscribe, () => store.snapshot().uploaded, () => store.snapshot().uploaded);
}

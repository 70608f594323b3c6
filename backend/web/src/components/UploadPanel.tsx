import { useEffect, useId, useRef, useState } from 'react';
import { errorMessage } from '../api/errors';
import { watchJob } from '../api/jobEvents';
import type { Job, Role } from '../api/types';
import { ACCEPTED_EXTENSIONS, ACCEPTED_TYPES, precheckFile, uploadVideo, type UploadResult } from '../api/upload';
import { formatBytes } from '../format';
import { hrefFor } from '../router';

interface UploadItem {
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

/** One line per upload, from the first byte to a finished analysis. */
function statusOf(it: UploadItem): string {
  if (it.state === 'uploading') return `Uploading · ${Math.round(it.progress * 100)}%`;
  if (it.state === 'error') return 'Not uploaded';
  const job = it.job;
  if (!job || job.state === 'queued') return 'Uploaded · waiting for analysis';
  if (job.state === 'running') return `Analysing · ${Math.round((job.progress ?? 0) * 100)}%`;
  if (job.state === 'done') return 'Ready';
  return 'Analysis failed';
}

let nextKey = 1;

export function UploadPanel({ onUploaded }: { onUploaded: (r: UploadResult) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [role, setRole] = useState<Role>('rider');
  const [title, setTitle] = useState('');
  const [dragging, setDragging] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [items, setItems] = useState<UploadItem[]>([]);
  const inputRef = useRef<HTMLInputElement>(null);
  const ids = useId();
  const watches = useRef(new Map<number, () => void>());
  const uploading = items.some((it) => it.state === 'uploading');

  // Stop following jobs when the panel goes away.
  useEffect(() => {
    const w = watches.current;
    return () => w.forEach((stop) => stop());
  }, []);

  // Leaving or reloading the page mid-upload asks first (the browser shows its own wording).
  useEffect(() => {
    if (!uploading) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [uploading]);

  const patch = (key: number, p: Partial<UploadItem>) =>
    setItems((xs) => xs.map((x) => (x.key === key ? { ...x, ...p } : x)));

  const choose = (f: File | null | undefined) => {
    setFormError(null);
    if (!f) return;
    const problem = precheckFile(f);
    if (problem) {
      setFormError(problem);
      setFile(null);
      return;
    }
    setFile(f);
    if (!title) setTitle(f.name.replace(/\.[^.]+$/, ''));
  };

  // A file dropped anywhere on the page is caught (the browser would otherwise open it and leave the app) and
  // taken as the clip to upload, as a drop on the box would be.
  const chooseRef = useRef(choose);
  chooseRef.current = choose;
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      if (!(e.target instanceof Element && e.target.closest('[data-testid="dropzone"]'))) chooseRef.current(e.dataTransfer.files?.[0]);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!file) {
      setFormError('Choose a video first: drop it on the box or press “Choose video”.');
      return;
    }
    const key = nextKey++;
    const handle = uploadVideo({ file, role, title }, (p) =>
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
    setItems((xs) => [
      { key, name: title.trim() || file.name, size: file.size, role, progress: 0, state: 'uploading', abort: handle.abort },
      ...xs,
    ]);
    // Reset the form at once so the next clip can be queued while this one uploads.
    setFile(null);
    setTitle('');
    if (inputRef.current) inputRef.current.value = '';
    handle.promise.then(
      (r) => {
        patch(key, { state: 'done', progress: 1, note: undefined, abort: undefined, videoId: r.videoId });
        onUploaded(r);
        // The same job SSE the library card follows, so this row and the card agree.
        watches.current.set(
          key,
          watchJob(r.jobId, {
            onJob: (job) => patch(key, { job }),
            onDeleted: () => patch(key, { state: 'error', error: 'The video was deleted.' }),
          }),
        );
      },
      (err) => patch(key, { state: 'error', error: errorMessage(err), abort: undefined }),
    );
  };

  return (
    <section className="panel upload-panel" aria-labelledby={`${ids}-h`}>
      <h2 id={`${ids}-h`} className="panel-title">Upload a run</h2>
      <form onSubmit={submit} noValidate>
        <div
          className={`dropzone${dragging ? ' is-dragging' : ''}${file ? ' has-file' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(e) => {
            e.preventDefault();
            setDragging(false);
            choose(e.dataTransfer.files?.[0]);
          }}
          data-testid="dropzone"
        >
          <svg className="dropzone-icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
          </svg>
          {file ? (
            <div className="dropzone-file">
              <strong>{file.name}</strong>
              <span className="muted"> · {formatBytes(file.size)}</span>
            </div>
          ) : (
            <div className="dropzone-hint">Drop a video here</div>
          )}
          <div className="muted small">MP4, MOV, WebM or MKV · resumes if the connection drops</div>
          <button type="button" className="btn btn-ghost" onClick={() => inputRef.current?.click()}>
            {file ? 'Choose another' : 'Choose video'}
          </button>
          <input
            ref={inputRef}
            id={`${ids}-file`}
            className="visually-hidden"
            type="file"
            accept={[...ACCEPTED_TYPES, ...ACCEPTED_EXTENSIONS].join(',')}
            onChange={(e) => choose(e.target.files?.[0])}
            aria-label="Video file"
            tabIndex={-1}
          />
        </div>

        <fieldset className="segmented">
          <legend>This video is</legend>
          {(['rider', 'reference'] as const).map((r) => (
            <label key={r} className={role === r ? 'is-on' : ''}>
              <input type="radio" name="role" value={r} checked={role === r} onChange={() => setRole(r)} />
              {r === 'rider' ? 'My riding' : 'A reference'}
            </label>
          ))}
        </fieldset>

        <label className="field">
          <span>Title</span>
          <input type="text" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="e.g. Backside 360, kicker 2" maxLength={200} />
        </label>

        {formError && (
          <p className="inline-error" role="alert">
            {formError}
          </p>
        )}
        <button type="submit" className="btn btn-primary btn-block">
          Upload
        </button>
      </form>

      {items.length > 0 && (
        <ul className="upload-list" aria-label="Uploads">
          {items.map((it) => (
            <li key={it.key} className={`upload-item is-${it.state}`} data-testid="upload-item">
              <div className="upload-item-head">
                <span className="upload-name">{it.name}</span>
                <span className="muted small" data-testid="upload-status" data-job-state={it.job?.state ?? ''}>
                  {statusOf(it)}
                </span>
              </div>
              <div
                className="progress"
                role="progressbar"
                aria-label={`Upload of ${it.name}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={Math.round(it.progress * 100)}
              >
                <div className="progress-bar" style={{ width: `${it.progress * 100}%` }} />
              </div>
              {it.state === 'uploading' && it.note && (
                <p className="muted small" data-testid="upload-note">
                  {it.note}
                </p>
              )}
              {it.state === 'error' && (
                <p className="inline-error" role="alert">
                  {it.error}
                </p>
              )}
              {it.job?.state === 'done' && it.videoId && (
                <a className="btn btn-link small" href={hrefFor.analysis(it.videoId)}>
                  Open the analysis
                </a>
              )}
              {it.job?.state === 'failed' && (
                <p className="inline-error small" role="alert">
                  {it.job.error ?? 'The analysis stopped with an error.'} See its card in the library for what to do next.
                </p>
              )}
              {it.state === 'uploading' && it.abort && (
                <button type="button" className="btn btn-link small" onClick={it.abort}>
                  Cancel
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

import { useEffect, useId, useRef, useState } from 'react';
import type { Role } from '../api/types';
import { ACCEPTED_EXTENSIONS, ACCEPTED_TYPES, precheckFile, type UploadResult } from '../api/upload';
import { formatBytes } from '../format';
import { hrefFor } from '../router';
import { statusOf, uploads, useUploads, type UploadStore } from '../upload/store';

/**
 * The form that starts uploads and one row per upload. The uploads themselves live in the app's upload store
 * (src/upload/store.ts): they keep going, and their rows keep following their jobs, while another view is open.
 */
export function UploadPanel({ store = uploads, onUploaded }: { store?: UploadStore; onUploaded?: (r: UploadResult) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [role, setRole] = useState<Role>('rider');
  const [title, setTitle] = useState('');
  const [dragging, setDragging] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const { items } = useUploads(store);
  const inputRef = useRef<HTMLInputElement>(null);
  const ids = useId();

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
    // A file dropped on another view waits in the store (catchDrops): take it now.
    const offered = store.takeOffered();
    if (offered) chooseRef.current(offered);
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
  }, [store]);

  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (!file) {
      setFormError('Choose a video first: drop it on the box or press “Choose video”.');
      return;
    }
    store.start({ file, role, title }, { onUploaded });
    // Reset the form at once so the next clip can be queued while this one uploads.
    setFile(null);
    setTitle('');
    if (inputRef.current) inputRef.current.value = '';
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

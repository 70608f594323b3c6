import { useEffect, useRef, useState } from 'react';
import { deleteVideo, getVideo, listVideos, renameVideo, type LibrarySort } from '../api/client';
import { errorMessage } from '../api/errors';
import { watchJob } from '../api/jobEvents';
import type { Job, JobState, Role, Video } from '../api/types';
import { formatClock } from '../format';
import { useAsync } from '../hooks';
import { hrefFor } from '../router';
import { mayChange, showsOwners } from '../session/access';
import { useSession } from '../session/SessionContext';
import { OwnerPicker } from './OwnerPicker';
import { JobProgress } from './JobProgress';
import { RetryButton } from './RetryButton';
import { EmptyState, ErrorDetails, ErrorState, LoadingState } from './States';
import { StatusChip } from './StatusChip';
import { Thumbnail } from './Thumbnail';
import { SAMPLE_CLIP, uploads, type UploadStore } from '../upload/store';
import { failureAdvice, formatWhen, TITLE_MAX, UNDO_MS } from './libraryText';

const isFinal = (s: Video['status']) => s === 'done' || s === 'failed';
const PAGE_SIZE = 24;
/**
 * Live status for one unfinished video: SSE with polling fallback; refetches the video once its ingest is done
 * (poster, size) and once finished.
 */
function useLiveVideo(video: Video, onChange: (v: Video) => void, onGone: (id: string) => void) {
  const jobId = video.job?.id;
  const unfinished = !isFinal(video.status);
  const latest = useRef(video);
  latest.current = video;
  useEffect(() => {
    if (!jobId || !unfinished) return;
    let ingestRead = false;
    return watchJob(jobId, {
      onJob: (job: Job) => {
        onChange({ ...latest.current, status: job.state, job });
        if (!ingestRead && job.stage && job.stage !== 'ingest' && !latest.current.posterUrl) {
          ingestRead = true;
          getVideo(video.id).then((v) => onChange({ ...v, status: latest.current.status, job: latest.current.job }), () => undefined);
        }
        // Duration, fps and size arrive with the finished analysis.
        if (job.state === 'done' || job.state === 'failed') {
          getVideo(video.id).then(onChange, () => undefined);
        }
      },
      onDeleted: () => onGone(video.id),
    });
    // Re-subscribe only when the job changes, not on every progress event.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [jobId, unfinished]);
}

function VideoCard({
  video,
  onChange,
  onDeleted,
  onDeleteRequested,
}: {
  video: Video;
  onChange: (v: Video) => void;
  onDeleted: (id: string) => void;
  onDeleteRequested: (v: Video) => void;
}) {
  useLiveVideo(video, onChange, onDeleted);
  const user = useSession()?.session.user;
  const readOnly = !mayChange(video.owner, user);
  const [confirming, setConfirming] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const [draft, setDraft] = useState('');
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const renameRef = useRef<HTMLButtonElement>(null);
  const label = video.title || video.originalName;

  const cancelConfirm = () => {
    setConfirming(false);
    // Back to the button that opened it, so the keyboard stays where it was.
    requestAnimationFrame(() => deleteRef.current?.focus());
  };
  const stopRename = () => {
    setRenaming(false);
    requestAnimationFrame(() => renameRef.current?.focus());
  };
  const saveRename = async (e: React.FormEvent) => {
    e.preventDefault();
    const title = draft.trim();
    if (!title || title.length > TITLE_MAX) {
      setError(`A title is 1 to ${TITLE_MAX} characters.`);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      onChange({ ...(await renameVideo(video.id, title)), status: video.status, job: video.job });
      stopRename();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setSaving(false);
    }
  };
  const advice = video.status === 'failed' ? failureAdvice(video.job?.error) : null;

  return (
    <li className="card video-card" data-testid="video-card" data-video-id={video.id}>
      {/* The link's name is its text ("Open <title>" for screen readers, then the role and duration shown), not an
          aria-label that would hide what a sighted voice-control user reads on the card. */}
      <a className="video-card-link" href={hrefFor.analysis(video.id)}>
        <span className="visually-hidden">Open {label}</span>
        <Thumbnail posterUrl={video.posterUrl} label={label} />
        <span className={`role-tag role-${video.role}`}>{video.role === 'rider' ? 'Rider' : 'Reference'}</span>
        {video.durationS != null && <span className="duration-tag">{formatClock(video.durationS)}</span>}
      </a>
      <div className="video-card-body">
        {renaming ? (
          <form className="rename" onSubmit={saveRename} onKeyDown={(e) => e.key === 'Escape' && (e.preventDefault(), stopRename())}>
            <input
              type="text"
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              aria-label={`New title for ${label}`}
              maxLength={TITLE_MAX}
              autoFocus
              disabled={saving}
            />
            <button type="submit" className="btn btn-sm" disabled={saving}>
              {saving ? 'Saving…' : 'Save'}
            </button>
            <button type="button" className="btn btn-sm btn-quiet" onClick={stopRename} disabled={saving}>
              Cancel
            </button>
          </form>
        ) : (
          <div className="video-card-title" title={label}>
            {label}
          </div>
        )}
        {showsOwners(user) && video.owner && (
          <div className="muted small video-card-owner" data-testid="video-owner">
            {video.owner.id === user?.id ? 'yours' : `by ${video.owner.username}`}
          </div>
        )}
        <div className="video-card-meta">
          <StatusChip state={video.status} progress={video.job?.progress} />
          <time className="muted small" dateTime={video.createdAt} data-testid="video-when">
            {formatWhen(video.createdAt)}
          </time>
        </div>
        {!isFinal(video.status) && video.job && <JobProgress job={video.job} />}
        {advice && (
          <div className="inline-error small" data-testid="job-error">
            <p>{advice.what}</p>
            <p data-testid="job-next-step">{advice.next}</p>
            <ErrorDetails detail={video.job?.errorDetail} />
          </div>
        )}
        {video.status === 'failed' && !readOnly && (
          <div className="video-card-retry">
            <RetryButton videoId={video.id} label={label} onRetried={() => getVideo(video.id).then(onChange, (e) => setError(errorMessage(e)))} />
          </div>
        )}
        {video.status === 'queued' && video.job?.error && (
          <p className="muted small" data-testid="job-retry">
            {video.job.error}
          </p>
        )}
        {error && (
          <p className="inline-error small" role="alert">
            {error}
          </p>
        )}
        <div className="video-card-actions">
          {confirming ? (
            <div
              className="confirm"
              role="group"
              aria-label={`Confirm delete of ${label}`}
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  e.preventDefault();
                  cancelConfirm();
                }
              }}
            >
              <span className="small">Delete this video?</span>
              <button type="button" className="btn btn-sm" onClick={cancelConfirm} autoFocus>
                Cancel
              </button>
              <button
                type="button"
                className="btn btn-danger btn-sm"
                onClick={() => {
                  setConfirming(false);
                  onDeleteRequested(video);
                }}
              >
                Delete
              </button>
            </div>
          ) : (
            <>
              <a className="btn btn-sm" href={hrefFor.analysis(video.id)}>
                {video.status === 'done' ? 'Analyse' : 'Details'}
              </a>
              {video.role === 'rider' && video.status === 'done' && (
                <a className="btn btn-sm" href={hrefFor.compare(video.id)}>
                  Compare
                </a>
              )}
              {!readOnly && (
                <button
                  ref={renameRef}
                  type="button"
                  className="btn btn-sm btn-quiet"
                  onClick={() => {
                    setDraft(label);
                    setError(null);
                    setRenaming(true);
                  }}
                  aria-label={`Rename ${label}`}
                >
                  Rename
                </button>
              )}
              {!readOnly && (
                <button ref={deleteRef} type="button" className="btn btn-sm btn-quiet" onClick={() => setConfirming(true)} aria-label={`Delete ${label}`}>
                  Delete
                </button>
              )}
            </>
          )}
        </div>
      </div>
    </li>
  );
}

/**
 * One click: the shipped sample clip is fetched and uploaded as the user's own video, through the same upload
 * store as any clip (its row and the header follow it to Ready), and analysed for real.
 */
export function SampleClipButton({ store = uploads }: { store?: UploadStore }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(SAMPLE_CLIP.url);
      if (!res.ok) throw new Error(`the sample clip could not be loaded (HTTP ${res.status})`);
      const file = new File([await res.blob()], SAMPLE_CLIP.name, { type: 'video/mp4' });
      store.start({ file, role: 'rider', title: SAMPLE_CLIP.title });
    } catch (e) {
      setError(`Could not start the sample: ${errorMessage(e)}. Try again, or upload a clip of your own.`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="sample-clip">
      <button type="button" className="btn btn-primary" onClick={start} disabled={busy} data-testid="sample-clip">
        {busy ? 'Starting the sample…' : 'Try the sample clip'}
      </button>
      <span className="muted small">A 3-second clip of a person, uploaded to your library and analysed like your own.</span>
      {error && (
        <p className="inline-error small" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Filming advice for a first visit: what makes a clip analysable, and a sample to try. */
export function FirstRun() {
  return (
    <div className="state state-empty first-run" data-testid="first-run">
      <div className="state-title">Your runs, as a skeleton you can study</div>
      <div className="state-body">
        <p>Upload a clip of a run: the app finds the rider, draws their skeleton on every frame, shows it in 3D and charts rotation, knee flex and air time, so you can compare a run with a reference.</p>
        <p>
          <strong>How to film:</strong>
        </p>
        <ul>
          <li>Keep the whole body in frame, from board to head, for the whole trick.</li>
          <li>Landscape or portrait both work.</li>
          <li>Hold the camera steady (or on a tripod); follow the rider smoothly rather than zooming.</li>
        </ul>
        <SampleClipButton />
      </div>
    </div>
  );
}

const STATE_FILTERS: readonly [JobState | '', string][] = [
  ['', 'Any state'],
  ['done', 'Ready'],
  ['running', 'Analysing'],
  ['queued', 'Queued'],
  ['failed', 'Failed'],
];

/** Deletes that wait out their undo delay; sent when it ends, or at once (keepalive) when the page is left. */
function usePendingDeletes(onSent: (id: string) => void, onFailed: (v: Video, message: string) => void) {
  // `sending`: the undo time is over and the DELETE is on its way; the card stays hidden until it is answered.
  const pending = useRef(new Map<string, { video: Video; timer: ReturnType<typeof setTimeout>; sending?: boolean }>());
  const [list, setList] = useState<{ video: Video; sending: boolean }[]>([]);
  const sync = () => setList([...pending.current.values()].map((p) => ({ video: p.video, sending: Boolean(p.sending) })));
  const send = (id: string, keepalive = false) => {
    const p = pending.current.get(id);
    if (!p || p.sending) return;
    clearTimeout(p.timer);
    p.sending = true;
    sync();
    const settle = () => {
      pending.current.delete(id);
      sync();
    };
    deleteVideo(id, { keepalive }).then(
      () => {
        onSent(id);
        settle();
      },
      (e) => {
        settle();
        onFailed(p.video, errorMessage(e));
      },
    );
  };
  useEffect(() => {
    const flush = () => [...pending.current.keys()].forEach((id) => send(id, true));
    window.addEventListener('pagehide', flush);
    return () => {
      window.removeEventListener('pagehide', flush);
      flush(); // leaving the library (another view) commits the deletes too
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return {
    list,
    has: (id: string) => pending.current.has(id),
    request(video: Video) {
      pending.current.set(video.id, { video, timer: setTimeout(() => send(video.id), UNDO_MS) });
      sync();
    },
    undo(id: string) {
      const p = pending.current.get(id);
      if (!p || p.sending) return;
      clearTimeout(p.timer);
      pending.current.delete(id);
      sync();
    },
  };
}

export function Library({ refreshKey }: { refreshKey: number }) {
  const [role, setRole] = useState<Role | ''>('');
  const [status, setStatus] = useState<JobState | ''>('');
  const [sort, setSort] = useState<LibrarySort>('date');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const [paging, setPaging] = useState({ view: '', page: 1 });
  const session = useSession();
  const [owner, setOwner] = useState('');
  const [deleteError, setDeleteError] = useState<string | null>(null);
  // Typing settles for a moment before the list is asked again.
  useEffect(() => {
    const t = setTimeout(() => setQ(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);
  // A new search, filter or order starts again at page 1.
  const view = JSON.stringify([role, status, sort, q, owner]);
  const page = paging.view === view ? paging.page : 1;
  const setPage = (p: number) => setPaging({ view, page: p });
  const [state, reload, update] = useAsync(
    () => listVideos({ role, status, owner, q, sort, page, limit: PAGE_SIZE }),
    [role, status, owner, q, sort, page, refreshKey, session?.epoch],
  );
  const removed = (id: string) => update((d) => ({ ...d, total: d.total - 1, items: d.items.filter((x) => x.id !== id) }));
  const deletes = usePendingDeletes(removed, (v, message) => setDeleteError(`“${v.title || v.originalName}” was not deleted: ${message}`));
  const filtered = Boolean(role || status || q || owner);
  const pages = state.status === 'ready' ? Math.max(1, Math.ceil(state.data.total / PAGE_SIZE)) : 1;
  const shown = state.status === 'ready' ? state.data.items.filter((v) => !deletes.has(v.id)) : [];

  return (
    <section className="panel library" aria-labelledby="library-h">
      <div className="panel-head">
        <h2 id="library-h" className="panel-title">
          Library {state.status === 'ready' && <span className="count">{state.data.total - deletes.list.length}</span>}
        </h2>
        {session && <OwnerPicker user={session.session.user} value={owner} onChange={setOwner} />}
        <div className="filters" role="group" aria-label="Filter by role">
          {(
            [
              ['', 'All'],
              ['rider', 'Rider'],
              ['reference', 'Reference'],
            ] as const
          ).map(([v, l]) => (
            <button key={v} type="button" className={`btn btn-sm ${role === v ? 'is-on' : 'btn-quiet'}`} aria-pressed={role === v} onClick={() => setRole(v)}>
              {l}
            </button>
          ))}
        </div>
      </div>
      <div className="library-tools">
        <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Search titles" aria-label="Search titles" maxLength={TITLE_MAX} />
        <label className="small">
          State{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as JobState | '')} aria-label="Filter by state">
            {STATE_FILTERS.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label className="small">
          Sort{' '}
          <select value={sort} onChange={(e) => setSort(e.target.value as LibrarySort)} aria-label="Sort by">
            <option value="date">Newest first</option>
            <option value="duration">Longest first</option>
            <option value="rotation">Biggest spin first</option>
          </select>
        </label>
      </div>
      {deleteError && (
        <p className="inline-error small" role="alert">
          {deleteError}
        </p>
      )}
      {state.status === 'loading' && <LoadingState label="Loading your videos…" />}
      {state.status === 'error' && <ErrorState message={state.error} onRetry={reload} />}
      {state.status === 'ready' && shown.length === 0 && !filtered && page === 1 && deletes.list.length === 0 && <FirstRun />}
      {state.status === 'ready' && shown.length === 0 && (filtered || page > 1 || deletes.list.length > 0) && (
        <EmptyState title={q ? `No videos match “${q}”` : 'No videos here'}>Change the search or the filters to see more.</EmptyState>
      )}
      {state.status === 'ready' && shown.length > 0 && (
        <ul className="video-grid">
          {shown.map((v) => (
            <VideoCard
              key={v.id}
              video={v}
              onChange={(nv) => update((d) => ({ ...d, items: d.items.map((x) => (x.id === nv.id ? nv : x)) }))}
              onDeleted={removed}
              onDeleteRequested={(video) => {
                setDeleteError(null);
                deletes.request(video);
              }}
            />
          ))}
        </ul>
      )}
      {state.status === 'ready' && pages > 1 && (
        <nav className="pager" aria-label="Library pages">
          <button type="button" className="btn btn-sm" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span className="small" aria-live="polite">
            Page {page} of {pages}
          </span>
          <button type="button" className="btn btn-sm" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </nav>
      )}
      {deletes.list.some((p) => !p.sending) && (
        <div className="toast-stack" role="status" aria-live="polite">
          {deletes.list
            .filter((p) => !p.sending)
            .map(({ video: v }) => (
              <div key={v.id} className="toast" data-testid="undo-toast">
                <span>Deleted “{v.title || v.originalName}”.</span>
                <button type="button" className="btn btn-sm" onClick={() => deletes.undo(v.id)}>
                  Undo
                </button>
              </div>
            ))}
        </div>
      )}
    </section>
  );
}

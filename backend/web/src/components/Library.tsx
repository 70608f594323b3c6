import { useState } from 'react';
import { listVideos, type LibrarySort } from '../api/client';
import type { JobState } from '../api/types';
import { useAsync } from '../hooks/useAsync';
import { useLibraryQuery } from '../hooks/useLibraryQuery';
import { usePendingDeletes } from '../hooks/usePendingDeletes';
import { useSession } from '../session/SessionContext';
import { FirstRun } from './FirstRun';
import { TITLE_MAX } from './libraryText';
import { OwnerPicker } from './OwnerPicker';
import { EmptyState, ErrorState, LoadingState } from './States';
import { VideoCard } from './VideoCard';

const PAGE_SIZE = 24;

const STATE_FILTERS: readonly [JobState | '', string][] = [
  ['', 'Any state'],
  ['done', 'Ready'],
  ['running', 'Analysing'],
  ['queued', 'Queued'],
  ['failed', 'Failed'],
];

/**
 * The video library: filters, search, order and pages over GET /api/videos, a card per video (VideoCard), deletes
 * with an undo (usePendingDeletes), and first-run advice with the sample clip when there is nothing yet.
 */
export function Library({ refreshKey }: { refreshKey: number }) {
  const { role, setRole, status, setStatus, sort, setSort, owner, setOwner, search, setSearch, q, page, setPage, filtered } = useLibraryQuery();
  const session = useSession();
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [state, reload, update] = useAsync(
    () => listVideos({ role, status, owner, q, sort, page, limit: PAGE_SIZE }),
    [role, status, owner, q, sort, page, refreshKey, session?.epoch],
  );
  const removed = (id: string) => update((d) => ({ ...d, total: d.total - 1, items: d.items.filter((x) => x.id !== id) }));
  const deletes = usePendingDeletes(removed, (v, message) => setDeleteError(`“${v.title || v.originalName}” was not deleted: ${message}`));
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

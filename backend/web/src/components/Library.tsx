import { useEffect, useRef, useState } from 'react';
import { deleteVideo, getVideo, listVideos } from '../api/client';
import { errorMessage } from '../api/errors';
import { watchJob } from '../api/jobEvents';
import type { Job, Role, Video } from '../api/types';
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

const isFinal = (s: Video['status']) => s === 'done' || s === 'failed';

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

function VideoCard({ video, onChange, onDeleted }: { video: Video; onChange: (v: Video) => void; onDeleted: (id: string) => void }) {
  useLiveVideo(video, onChange, onDeleted);
  const user = useSession()?.session.user;
  const readOnly = !mayChange(video.owner, user);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = video.title || video.originalName;

  const remove = async () => {
    setDeleting(true);
    setError(null);
    try {
      await deleteVideo(video.id);
      onDeleted(video.id);
    } catch (e) {
      setError(errorMessage(e));
      setDeleting(false);
      setConfirming(false);
    }
  };

  return (
    <li className="card video-card" data-testid="video-card" data-video-id={video.id}>
      <a className="video-card-link" href={hrefFor.analysis(video.id)} aria-label={`Open ${label}`}>
        <Thumbnail posterUrl={video.posterUrl} label={label} />
        <span className={`role-tag role-${video.role}`}>{video.role === 'rider' ? 'Rider' : 'Reference'}</span>
        {video.durationS != null && <span className="duration-tag">{formatClock(video.durationS)}</span>}
      </a>
      <div className="video-card-body">
        <div className="video-card-title" title={label}>
          {label}
        </div>
        {showsOwners(user) && video.owner && (
          <div className="muted small video-card-owner" data-testid="video-owner">
            {video.owner.id === user?.id ? 'yours' : `by ${video.owner.username}`}
          </div>
        )}
        <div className="video-card-meta">
          <StatusChip state={video.status} progress={video.job?.progress} />
          <span className="muted small">{new Date(video.createdAt).toLocaleDateString()}</span>
        </div>
        {!isFinal(video.status) && video.job && <JobProgress job={video.job} />}
        {video.status === 'failed' && video.job?.error && (
          <div className="inline-error small" data-testid="job-error">
            {video.job.error}
            <ErrorDetails detail={video.job.errorDetail} />
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
            <div className="confirm" role="group" aria-label={`Confirm delete of ${label}`}>
              <span className="small">Delete for good?</span>
              <button type="button" className="btn btn-danger btn-sm" onClick={remove} disabled={deleting} autoFocus>
                {deleting ? 'Deleting…' : 'Delete'}
              </button>
              <button type="button" className="btn btn-sm" onClick={() => setConfirming(false)} disabled={deleting}>
                Keep
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
                <button type="button" className="btn btn-sm btn-quiet" onClick={() => setConfirming(true)} aria-label={`Delete ${label}`}>
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

export function Library({ refreshKey }: { refreshKey: number }) {
  const [role, setRole] = useState<Role | ''>('');
  const session = useSession();
  const [owner, setOwner] = useState('');
  const [state, reload, update] = useAsync(() => listVideos({ role, owner, limit: 100 }), [role, owner, refreshKey, session?.epoch]);

  return (
    <section className="panel library" aria-labelledby="library-h">
      <div className="panel-head">
        <h2 id="library-h" className="panel-title">
          Library {state.status === 'ready' && <span className="count">{state.data.total}</span>}
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
      {state.status === 'loading' && <LoadingState label="Loading your videos…" />}
      {state.status === 'error' && <ErrorState message={state.error} onRetry={reload} />}
      {state.status === 'ready' && state.data.items.length === 0 && (
        <EmptyState title={role ? `No ${role} videos yet` : 'No videos yet'}>Upload a clip to get a skeleton, 3D pose and rotation charts.</EmptyState>
      )}
      {state.status === 'ready' && state.data.items.length > 0 && (
        <ul className="video-grid">
          {state.data.items.map((v) => (
            <VideoCard
              key={v.id}
              video={v}
              onChange={(nv) => update((d) => ({ ...d, items: d.items.map((x) => (x.id === nv.id ? nv : x)) }))}
              onDeleted={(id) => update((d) => ({ ...d, total: d.total - 1, items: d.items.filter((x) => x.id !== id) }))}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

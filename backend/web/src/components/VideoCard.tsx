import { useRef, useState } from 'react';
import { getVideo, renameVideo } from '../api/client';
import { errorMessage } from '../api/errors';
import type { Video } from '../api/types';
import { formatClock } from '../format';
import { isFinal, useLiveVideo } from '../hooks/useLiveVideo';
import { hrefFor } from '../router';
import { mayChange, showsOwners } from '../session/access';
import { useSession } from '../session/SessionContext';
import { JobProgress } from './JobProgress';
import { failureAdvice, formatWhen, TITLE_MAX } from './libraryText';
import { RetryButton } from './RetryButton';
import { ErrorDetails } from './States';
import { StatusChip } from './StatusChip';
import { Thumbnail } from './Thumbnail';

/** One video of the library: its poster link, title (renamed in place), owner, status, failure advice, retry and
 * delete (confirmed, then handed to the library, which offers an undo). Follows the live status while unfinished. */
export function VideoCard({
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

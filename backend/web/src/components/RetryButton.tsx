import { useState } from 'react';
import { retryVideo, type Retried } from '../api/analysisActions';
import { ApiError, errorMessage } from '../api/errors';

/**
 * "Try again" for a failed analysis: POST /api/videos/:id/retry starts a new job from the upload the video already
 * has; the caller then follows that job. A 409 `not_failed` (someone retried it already) counts as done too.
 */
export function RetryButton({ videoId, label, onRetried, className = 'btn btn-sm' }: {
  videoId: string;
  /** The video's name, for the button's accessible name on a page of many cards. */
  label?: string;
  onRetried: (r: Retried | null) => void;
  className?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const retry = async () => {
    setBusy(true);
    setError(null);
    try {
      onRetried(await retryVideo(videoId));
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.code === 'not_failed') onRetried(null);
      else setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className={className} onClick={retry} disabled={busy} aria-label={label ? `Try again: ${label}` : undefined} data-testid="retry-button">
        {busy ? 'Starting…' : 'Try again'}
      </button>
      {error && (
        <p className="inline-error small" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

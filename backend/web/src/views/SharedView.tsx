import { useEffect, useState } from 'react';
import { ApiError } from '../api/errors';
import { getSharedMetrics, getSharedPose, getSharedVideo, sharedMedia } from '../api/shared';
import { apiUrl } from '../config';
import { Brand } from '../components/Brand';
import { ErrorState, LoadingState } from '../components/States';
import { AuthOffBanner } from '../components/UserMenu';
import { formatClock } from '../format';
import { useAsync } from '../hooks/useAsync';
import { Analysed } from './AnalysisView';

/** AUTH_DISABLED shows on every page, this one too; asked without the cookie, so no account is involved. */
function useAuthDisabled(): boolean {
  const [off, setOff] = useState(false);
  useEffect(() => {
    fetch(apiUrl('/api/session'), { credentials: 'omit', headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : null))
      .then((b: { authDisabled?: boolean } | null) => setOff(b?.authDisabled === true))
      .catch(() => undefined);
  }, []);
  return off;
}

/**
 * The public page of a share link (/shared/<token>): the video with its skeleton overlay, the 3D view and the
 * metrics of one analysis, read from /api/shared/<token>/..., and nothing of the account (no library, no user).
 */
export function SharedView({ token }: { token: string }) {
  const authDisabled = useAuthDisabled();
  const [state, reload] = useAsync(async () => {
    const video = await getSharedVideo(token);
    if (video.status !== 'done') return { video, pose: null, metrics: null };
    const [pose, metrics] = await Promise.all([getSharedPose(token), getSharedMetrics(token)]);
    return { video, pose, metrics };
  }, [token]);
  const media = sharedMedia(token);
  const gone = state.status === 'error' && state.cause instanceof ApiError && state.cause.status === 404;

  return (
    <>
      <header className="topbar">
        <Brand href="/" />
        <span className="topbar-tag muted small">shared analysis · read-only</span>
      </header>
      <AuthOffBanner authDisabled={authDisabled} />
      <main id="main" tabIndex={-1}>
        {state.status === 'loading' && <LoadingState label="Loading the shared analysis…" />}
        {gone && (
          <div className="state state-error" role="alert" data-testid="share-gone">
            <div className="state-title">This link does not work any more</div>
            <div className="state-body">The owner revoked it, or it was never a valid link. Ask them for a new one.</div>
            <a className="btn" href="/">
              Go to PoseLab
            </a>
          </div>
        )}
        {state.status === 'error' && !gone && <ErrorState message={state.error} onRetry={reload} />}
        {state.status === 'ready' && (
          <div className="view analysis shared" data-testid="shared-view">
            <header className="view-head">
              <div className="view-title-row">
                <h1 className="view-title">{state.data.video.title || 'Shared run'}</h1>
                <span className="role-tag static role-rider">Shared</span>
              </div>
              <div className="muted small">
                {[
                  state.data.video.durationS != null && formatClock(state.data.video.durationS),
                  state.data.video.fps != null && `${Math.round(state.data.video.fps)} fps`,
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </div>
            </header>
            {state.data.pose && state.data.metrics ? (
              <Analysed
                video={state.data.video}
                pose={state.data.pose}
                summary={state.data.metrics.summary}
                metrics={state.data.metrics}
                media={{ stream: media.stream, sprite: state.data.video.spriteUrl ? media.sprite : null }}
              />
            ) : (
              <div className="panel pending">
                <p className="muted">The analysis of this run is not finished yet. Open the link again in a minute.</p>
              </div>
            )}
          </div>
        )}
      </main>
    </>
  );
}

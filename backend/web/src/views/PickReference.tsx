import { useEffect } from 'react';
import { listVideos } from '../api/client';
import { EmptyState, ErrorState, LoadingState } from '../components/States';
import { useAsync } from '../hooks/useAsync';
import { hrefFor } from '../router';

/** No reference chosen: with one analysed reference, go straight to it; with several, pick one; with none, say how. */
export function PickReference({ riderId }: { riderId: string }) {
  const [refs, reload] = useAsync(() => listVideos({ role: 'reference', status: 'done', limit: 100 }), []);
  const only = refs.status === 'ready' && refs.data.items.length === 1 ? refs.data.items[0].id : null;
  useEffect(() => {
    if (only) window.location.replace(hrefFor.compare(riderId, only));
  }, [only, riderId]);
  if (refs.status === 'loading' || only) return <LoadingState label="Loading reference videos…" />;
  if (refs.status === 'error') return <ErrorState message={refs.error} onRetry={reload} />;
  if (refs.data.items.length === 0) return <EmptyState title="No analysed reference videos">Upload a clip as “A reference” and wait for it to finish.</EmptyState>;
  return (
    <div className="panel">
      <h2 className="panel-title">Choose a reference</h2>
      <ul className="pick-list">
        {refs.data.items.map((r) => (
          <li key={r.id}>
            <a className="btn" href={hrefFor.compare(riderId, r.id)}>
              {r.title || r.originalName}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

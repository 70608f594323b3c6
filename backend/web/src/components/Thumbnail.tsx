import { useState } from 'react';
import { apiUrl } from '../config';

/**
 * The card's preview: the poster JPEG the ingest stage made (one small image per card, lazily loaded), never a
 * <video> per card. Until the poster exists (the job is still ingesting) a placeholder stands in.
 */
export function Thumbnail({ posterUrl, label }: { posterUrl: string | null | undefined; label: string }) {
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const pending = !posterUrl;
  return (
    <div className={`thumb thumb-${pending ? 'pending' : state}`}>
      {posterUrl && (
        <img
          src={apiUrl(posterUrl)}
          alt={`Poster of ${label}`}
          loading="lazy"
          decoding="async"
          data-testid="poster"
          onLoad={() => setState('ready')}
          onError={() => setState('error')}
        />
      )}
      {(pending || state !== 'ready') && (
        <div className="thumb-placeholder" aria-hidden="true">
          {state === 'error' ? 'No preview' : pending ? 'Preview soon' : ''}
        </div>
      )}
    </div>
  );
}

import { useEffect } from 'react';
import { hrefFor } from '../router';
import { catchDrops, summaryOf, uploads, useUploads, type UploadStore } from './store';
import './upload.css';

/**
 * The header's word on the uploads, on every view: how many are uploading or being analysed and how far along,
 * then how many are ready. It links to the library (where each upload has its row); once nothing is moving it
 * can be dismissed.
 */
export function UploadIndicator({ store = uploads }: { store?: UploadStore }) {
  const { items } = useUploads(store);
  useEffect(() => catchDrops(store, () => (window.location.hash = hrefFor.home())), [store]);
  const s = summaryOf(items);
  if (!s) return null;
  return (
    <div className="upload-indicator" data-testid="upload-indicator" data-active={s.active}>
      <a href={hrefFor.home()} className="upload-indicator-link" aria-label={`Uploads: ${s.text}. Open the library`}>
        {s.active > 0 ? <span className="spinner upload-indicator-spin" aria-hidden="true" /> : <span aria-hidden="true">✓</span>}
        <span role="status" className="upload-indicator-text">
          {s.text}
        </span>
      </a>
      {s.fraction !== null && (
        <span className="upload-indicator-bar" aria-hidden="true">
          <span style={{ width: `${Math.round(s.fraction * 100)}%` }} />
        </span>
      )}
      {s.active === 0 && (
        <button type="button" className="btn btn-sm btn-quiet" onClick={store.clearFinished} aria-label="Dismiss the finished uploads">
          ×
        </button>
      )}
    </div>
  );
}

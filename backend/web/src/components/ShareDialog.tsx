import { useId, useState } from 'react';
import { createShare, listShares, revokeShare, type ShareItem } from '../api/client';
import { errorMessage } from '../api/errors';
import { useAsync } from '../hooks/useAsync';

/** The absolute address of a share page, for copying. */
export const shareLink = (url: string) => new URL(url, window.location.origin).href;

/**
 * Share one analysis read-only: create a link (shown once, copy it), see the links that exist, revoke one (it
 * stops working at once).
 */
export function ShareDialog({ videoId }: { videoId: string }) {
  const ids = useId();
  const [open, setOpen] = useState(false);
  const [shares, reload, update] = useAsync(() => (open ? listShares(videoId) : Promise.resolve({ items: [] as ShareItem[] })), [videoId, open]);
  const [created, setCreated] = useState<{ link: string; createdAt: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const create = async () => {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const s = await createShare(videoId);
      setCreated({ link: shareLink(s.url), createdAt: s.createdAt });
      reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.link);
      setCopied(true);
    } catch {
      // No clipboard permission (an http:// address, an old browser): select the text for Ctrl+C instead.
      (document.getElementById(`${ids}-link`) as HTMLInputElement | null)?.select();
      setError('Copy it by hand: the link is selected.');
    }
  };

  const revoke = async (share: ShareItem) => {
    setError(null);
    try {
      await revokeShare(videoId, share.id);
      update((d) => ({ items: d.items.filter((x) => x.id !== share.id) }));
      if (created && created.createdAt === share.createdAt) setCreated(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div className="share">
      <button type="button" className="btn btn-sm" aria-expanded={open} aria-controls={`${ids}-panel`} onClick={() => setOpen((o) => !o)}>
        Share…
      </button>
      {open && (
        <section id={`${ids}-panel`} className="panel share-panel" aria-label="Share links" data-testid="share-panel">
          <p className="small muted">
            Anyone with a link sees this run&apos;s video, skeleton, 3D view and metrics, and nothing else of your account.
          </p>
          <button type="button" className="btn btn-primary btn-sm" onClick={create} disabled={busy}>
            {busy ? 'Creating…' : 'Create link'}
          </button>
          {created && (
            <div className="share-created">
              <label className="field">
                <span>New link (shown once: copy it now)</span>
                <input id={`${ids}-link`} type="text" readOnly value={created.link} data-testid="share-link" onFocus={(e) => e.target.select()} />
              </label>
              <button type="button" className="btn btn-sm" onClick={copy}>
                {copied ? 'Copied ✓' : 'Copy link'}
              </button>
            </div>
          )}
          {error && (
            <p className="inline-error small" role="alert">
              {error}
            </p>
          )}
          <h3 className="small-title share-list-title">Links that work now</h3>
          {shares.status === 'error' && <p className="inline-error small">{shares.error}</p>}
          {shares.status === 'ready' && shares.data.items.length === 0 && <p className="small muted">None: this run is private.</p>}
          {shares.status === 'ready' && shares.data.items.length > 0 && (
            <ul className="share-list">
              {shares.data.items.map((s) => (
                <li key={s.id} data-testid="share-item">
                  <span className="small">
                    {s.prefix && <code className="share-prefix">/shared/{s.prefix}…</code>} created {new Date(s.createdAt).toLocaleString()}
                  </span>
                  <button type="button" className="btn btn-sm btn-danger" onClick={() => revoke(s)} aria-label={`Revoke the link created ${new Date(s.createdAt).toLocaleString()}`}>
                    Revoke
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </div>
  );
}

import type { ReactNode } from 'react';

export function LoadingState({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <div className="state-title">{title}</div>
      {children && <div className="state-body">{children}</div>}
    </div>
  );
}

/** The technical cause of an error, folded away under the plain-words message. */
export function ErrorDetails({ detail }: { detail?: string | null }) {
  if (!detail) return null;
  return (
    <details className="error-details" data-testid="error-details">
      <summary>Technical details</summary>
      <code>{detail}</code>
    </details>
  );
}

export function ErrorState({ message, detail, onRetry }: { message: string; detail?: string | null; onRetry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <div className="state-title">Something went wrong</div>
      <div className="state-body">{message}</div>
      <ErrorDetails detail={detail} />
      {onRetry && (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

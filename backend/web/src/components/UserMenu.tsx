import { useId, useState } from 'react';
import { errorMessage } from '../api/errors';
import { changePassword } from '../api/session';
import { useSession } from '../session/SessionContext';

const ROLE_NAMES = { rider: 'Rider', coach: 'Coach', admin: 'Admin' } as const;

/** PUT /api/session/password: every other session of this user ends; this one stays signed in. */
export function ChangePasswordForm({ onDone }: { onDone: () => void }) {
  const ids = useId();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!current || !next) return setError('Fill in your current and your new password.');
    if (next !== again) return setError('The new password and its repetition differ.');
    setBusy(true);
    setError(null);
    try {
      await changePassword(current, next);
      setDone(true);
    } catch (err) {
      const code = (err as { code?: string }).code;
      setError(code === 'invalid_credentials' ? 'The current password is wrong.' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (done) {
    return (
      <div className="password-form" role="status" data-testid="password-changed">
        <p className="small">Password changed. Every other device signed in as you is signed out now.</p>
        <button type="button" className="btn btn-sm" onClick={onDone}>
          Close
        </button>
      </div>
    );
  }
  return (
    <form className="password-form" onSubmit={submit} noValidate aria-labelledby={`${ids}-h`}>
      <h2 id={`${ids}-h`} className="small-title">
        Change password
      </h2>
      <label className="field">
        <span>Current password</span>
        <input type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label className="field">
        <span>New password</span>
        <input type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <label className="field">
        <span>New password again</span>
        <input type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} />
      </label>
      {error && (
        <p className="inline-error" role="alert">
          {error}
        </p>
      )}
      <div className="password-actions">
        <button type="submit" className="btn btn-primary btn-sm" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
        <button type="button" className="btn btn-sm btn-quiet" onClick={onDone} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The header's signed-in user: name and role, change password, sign out. */
export function UserMenu() {
  const state = useSession();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = useId();
  if (!state) return null;
  const { user, authDisabled } = state.session;

  const signOut = () => {
    setError(null);
    state.signOut().catch((e) => setError(errorMessage(e)));
  };

  return (
    <div className="user-menu" data-testid="user-menu">
      <button
        type="button"
        className="btn btn-sm btn-quiet user-button"
        aria-expanded={open}
        aria-controls={`${ids}-panel`}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="avatar" aria-hidden="true">
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        <span data-testid="signed-in-user">{user.username}</span>
        <span className="muted small">{ROLE_NAMES[user.role]}</span>
      </button>
      {!authDisabled && (
        <button type="button" className="btn btn-sm" onClick={signOut}>
          Sign out
        </button>
      )}
      {error && (
        <span className="inline-error small" role="alert">
          {error}
        </span>
      )}
      {open && (
        <div id={`${ids}-panel`} className="panel user-panel">
          {authDisabled ? (
            <p className="small muted">Sign-in is off on this server, so there is no password to change.</p>
          ) : (
            <ChangePasswordForm onDone={() => setOpen(false)} />
          )}
        </div>
      )}
    </div>
  );
}

/** On every page while the API runs with AUTH_DISABLED=true. */
export function AuthOffBanner({ authDisabled }: { authDisabled: boolean | undefined }) {
  if (!authDisabled) return null;
  return (
    <div className="auth-off-banner" role="note" data-testid="auth-off-banner">
      Sign-in is off (AUTH_DISABLED): everyone who can reach this address sees and can delete every video. The API allows
      this only on a loopback address; turn sign-in back on before sharing the server.
    </div>
  );
}

import { useEffect, useId, useState } from 'react';
import { errorMessage } from '../api/errors';
import { SignInError, signIn, waitInWords } from '../api/session';
import { Brand } from './Brand';

/**
 * The sign-in page. `expiredFor`: the session of that user ended while the app was open (what was in progress
 * waits behind this page and carries on after signing in again).
 */
export function SignIn({ expiredFor }: { expiredFor?: string }) {
  const ids = useId();
  const [username, setUsername] = useState(expiredFor ?? '');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** Seconds left before the API accepts another try (after a 429); counts down on screen. */
  const [waitS, setWaitS] = useState(0);
  const [throttled, setThrottled] = useState(false);

  useEffect(() => {
    if (waitS <= 0) return;
    const t = setTimeout(() => setWaitS((s) => s - 1), 1000);
    return () => clearTimeout(t);
  }, [waitS]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(null);
    setThrottled(false);
    try {
      await signIn(username, password);
      // The SessionGate takes it from here (it listens for sign-ins).
    } catch (err) {
      setError(errorMessage(err));
      if (err instanceof SignInError && err.retryAfterS) {
        setWaitS(err.retryAfterS);
        setThrottled(true);
      }
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <div className="signin-page" data-testid="signin-page">
      <header className="topbar">
        <Brand />
        <span className="topbar-tag muted small">snowboard motion analysis</span>
      </header>
      <main className="signin-main">
        <section className="panel signin-panel" aria-labelledby={`${ids}-h`}>
          <h1 id={`${ids}-h`} className="panel-title">
            Sign in
          </h1>
          {expiredFor && (
            <p className="notice small" role="status" data-testid="session-expired">
              Your session ended. Sign in again to carry on; uploads in progress are paused and resume where they stopped.
            </p>
          )}
          <form onSubmit={submit} noValidate>
            <label className="field">
              <span>Username</span>
              <input
                name="username"
                type="text"
                autoComplete="username"
                autoCapitalize="none"
                spellCheck={false}
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                autoFocus={!expiredFor}
                required
              />
            </label>
            <label className="field">
              <span>Password</span>
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoFocus={!!expiredFor}
                required
              />
            </label>
            {error && (
              <p className="inline-error" role="alert" data-testid="signin-error">
                {!throttled ? error : waitS > 0 ? `Too many failed sign-ins. Try again in ${waitInWords(waitS)}.` : 'Too many failed sign-ins. You can try again now.'}
              </p>
            )}
            <button type="submit" className="btn btn-primary btn-block" disabled={busy || waitS > 0}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
          <p className="muted small signin-foot">No account? Ask your coach or the person who runs this server.</p>
        </section>
      </main>
    </div>
  );
}

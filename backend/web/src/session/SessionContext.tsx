import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { errorMessage } from '../api/errors';
import { loadSession, onSessionLost, onSignedIn, signOut as apiSignOut, type Session } from '../api/session';
import { stopUploadsForSignOut } from '../api/upload';
import { ErrorState, LoadingState } from '../components/States';
import { SignIn } from '../components/SignIn';

export interface SessionState {
  session: Session;
  /** Bumps on every sign-in, so views that failed while signed out load again. */
  epoch: number;
  signOut: () => Promise<void>;
}

const Ctx = createContext<SessionState | null>(null);

/** The signed-in session, or null outside a SessionGate (unit tests render views without one). */
export const useSession = (): SessionState | null => useContext(Ctx);

type Gate =
  | { status: 'loading' }
  | { status: 'error'; error: string }
  | { status: 'signedOut' }
  | { status: 'signedIn'; session: Session; epoch: number }
  /** The session ended while the app was in use: sign-in shows, the app stays mounted (uploads keep their place). */
  | { status: 'lost'; session: Session; epoch: number };

/**
 * Shows sign-in until someone is signed in, then the app. When the API answers 401 mid-use the app is hidden,
 * not unmounted: an upload in progress pauses and resumes after the same user signs in again. A different user
 * gets a fresh app (nothing of the previous account stays on screen).
 */
export function SessionGate({ children }: { children: ReactNode }) {
  const [gate, setGate] = useState<Gate>({ status: 'loading' });

  const load = useCallback(() => {
    setGate({ status: 'loading' });
    loadSession().then(
      (s) => setGate(s ? { status: 'signedIn', session: s, epoch: 0 } : { status: 'signedOut' }),
      (e) => setGate({ status: 'error', error: errorMessage(e) }),
    );
  }, []);
  useEffect(load, [load]);

  useEffect(() => {
    const offLost = onSessionLost(() => setGate((g) => (g.status === 'signedIn' ? { ...g, status: 'lost' } : g)));
    const offIn = onSignedIn((s) =>
      setGate((g) => ({ status: 'signedIn', session: s, epoch: g.status === 'signedIn' || g.status === 'lost' ? g.epoch + 1 : 0 })),
    );
    return () => {
      offLost();
      offIn();
    };
  }, []);

  const signOut = useCallback(async () => {
    // An upload must not carry on, unseen, behind the sign-in page (and resume for whoever signs in next).
    stopUploadsForSignOut();
    await apiSignOut();
    setGate({ status: 'signedOut' });
  }, []);

  if (gate.status === 'loading') return <LoadingState label="Checking your sign-in…" />;
  if (gate.status === 'error') return <ErrorState message={gate.error} onRetry={load} />;
  if (gate.status === 'signedOut') return <SignIn />;
  return (
    <>
      {gate.status === 'lost' && <SignIn expiredFor={gate.session.user.username} />}
      <div hidden={gate.status === 'lost'} key={gate.session.user.id} className="app-shell">
        <Ctx.Provider value={{ session: gate.session, epoch: gate.epoch, signOut }}>{children}</Ctx.Provider>
      </div>
    </>
  );
}

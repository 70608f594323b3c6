import { lazy, Suspense } from 'react';
import { shareTokenOf } from './api/shared';
import { Brand } from './components/Brand';
import { Library } from './components/Library';
import { EmptyState, LoadingState } from './components/States';
import { UploadPanel } from './components/UploadPanel';
import { AuthOffBanner, UserMenu } from './components/UserMenu';
import { hrefFor, useRoute } from './router';
import { AnalysisView } from './views/AnalysisView';
import { SessionGate, useSession } from './session/SessionContext';
import { UploadIndicator } from './upload/UploadIndicator';
import { useUploadedCount } from './upload/store';

// Split off (issue 18/10): the analysis page's first load carries neither the compare page nor the share page.
const CompareView = lazy(() => import('./views/CompareView').then((m) => ({ default: m.CompareView })));
const SharedView = lazy(() => import('./views/SharedView').then((m) => ({ default: m.SharedView })));

function Home() {
  // The library lists again each time another upload reaches the server (on this view or while away).
  const uploaded = useUploadedCount();
  return (
    <div className="home">
      <UploadPanel />
      <Library refreshKey={uploaded} />
    </div>
  );
}

/** The public share page (/shared/<token>) needs no account; everything else is behind sign-in. */
export function App() {
  const token = shareTokenOf(window.location.pathname);
  if (token) {
    return (
      <Suspense fallback={<LoadingState label="Loading…" />}>
        <SharedView token={token} />
      </Suspense>
    );
  }
  return (
    <SessionGate>
      <SignedInApp />
    </SessionGate>
  );
}

function SignedInApp() {
  const route = useRoute();
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Brand href={hrefFor.home()} />
        <span className="topbar-tag muted small">snowboard motion analysis</span>
        <UploadIndicator />
        <UserMenu />
      </header>
      <AuthOffBanner authDisabled={session?.session.authDisabled} />
      <main id="main" tabIndex={-1}>
        {route.name === 'home' && <Home />}
        {route.name === 'analysis' && <AnalysisView key={route.id} id={route.id} />}
        {route.name === 'compare' && (
          <Suspense fallback={<LoadingState label="Loading comparison…" />}>
            <CompareView key={`${route.rider}|${route.reference}`} riderId={route.rider} referenceId={route.reference} />
          </Suspense>
        )}
        {route.name === 'notFound' && (
          <EmptyState title="Page not found">
            <a href={hrefFor.home()}>Back to the library</a>
          </EmptyState>
        )}
      </main>
    </>
  );
}

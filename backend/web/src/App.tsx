import { useState } from 'react';
import { Library } from './components/Library';
import { EmptyState } from './components/States';
import { UploadPanel } from './components/UploadPanel';
import { hrefFor, useRoute } from './router';
import { AnalysisView } from './views/AnalysisView';
import { CompareView } from './views/CompareView';

function Home() {
  const [refreshKey, setRefreshKey] = useState(0);
  return (
    <div className="home">
      <UploadPanel onUploaded={() => setRefreshKey((k) => k + 1)} />
      <Library refreshKey={refreshKey} />
    </div>
  );
}

export function App() {
  const route = useRoute();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={hrefFor.home()}>
          <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="#0f1b33" />
            <path d="M6 22 L26 10" stroke="#38bdf8" strokeWidth="4" strokeLinecap="round" />
            <circle cx="19" cy="8" r="2.6" fill="#fde047" />
          </svg>
          <span>
            Pose<strong>Lab</strong>
          </span>
        </a>
        <span className="topbar-tag muted small">snowboard motion analysis</span>
      </header>
      <main id="main" tabIndex={-1}>
        {route.name === 'home' && <Home />}
        {route.name === 'analysis' && <AnalysisView key={route.id} id={route.id} />}
        {route.name === 'compare' && <CompareView key={`${route.rider}|${route.reference}`} riderId={route.rider} referenceId={route.reference} />}
        {route.name === 'notFound' && (
          <EmptyState title="Page not found">
            <a href={hrefFor.home()}>Back to the library</a>
          </EmptyState>
        )}
      </main>
    </>
  );
}

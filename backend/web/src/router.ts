import { useEffect, useState } from 'react';

export type Route =
  | { name: 'home' }
  | { name: 'analysis'; id: string }
  | { name: 'compare'; rider: string; reference: string | null }
  | { name: 'notFound'; path: string };

/** Hash routes keep the app a single static page (no server rewrites needed beyond the SPA fallback). */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  const params = new URLSearchParams(query);
  if (path === '/' || path === '') return { name: 'home' };
  const m = /^\/videos\/([^/]+)$/.exec(path);
  if (m) return { name: 'analysis', id: decodeURIComponent(m[1]) };
  if (path === '/compare' && params.get('rider')) {
    return { name: 'compare', rider: params.get('rider')!, reference: params.get('reference') };
  }
  return { name: 'notFound', path };
}

export const hrefFor = {
  home: () => '#/',
  analysis: (id: string) => `#/videos/${encodeURIComponent(id)}`,
  compare: (rider: string, reference?: string | null) =>
    `#/compare?rider=${encodeURIComponent(rider)}${reference ? `&reference=${encodeURIComponent(reference)}` : ''}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onHash = () => {
      setRoute(parseRoute(window.location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

/*
 * The API is reached same-origin only: browsers go through the web server's /api proxy, internal callers
 * (healthchecks, tests, `invoke verify`) use loopback names or compose service names. So there is no CORS
 * at all, and three guards run before any route:
 *  - security headers on every answer (JSON needs no scripts, frames or forms);
 *  - the Host must be an allowed name: a DNS-rebinding page reaches us as "evil.example" and is refused;
 *  - a state-changing request that carries a foreign Origin (another site's page posting into the local
 *    stack) is refused. Same-origin requests through the proxy carry X-Forwarded-Host, which browsers
 *    cannot set on a cross-origin request without a CORS preflight that we never grant.
 */

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  // JSON needs nothing; media-src/img-src 'self' let a video or poster opened in its own tab still play.
  'Content-Security-Policy': "default-src 'none'; media-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]', 'backend-api', 'frontend'];

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** The lower-case host name of a Host header value ("[::1]:3001" → "[::1]"), or null if malformed. */
export function hostnameOf(host: string | undefined): string | null {
  if (!host) return null;
  const h = host.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(h);
  if (!m) return null;
  return m[1]!.replace(/\.$/, '');
}

/** "host:port" of an origin with the default port left out, as a Host header would carry it; null if malformed. */
export function originAuthority(origin: string): string | null {
  try {
    const u = new URL(origin);
    if (!(u.protocol in DEFAULT_PORTS)) return null;
    const port = u.port && u.port !== DEFAULT_PORTS[u.protocol] ? `:${u.port}` : '';
    return `${u.hostname.toLowerCase()}${port}`;
  } catch {
    return null;
  }
}

/** A Host value normalised for comparison with originAuthority (lower case, default port dropped). */
function normaliseAuthority(host: string): string {
  return host.trim().toLowerCase().replace(/:(80|443)$/, '');
}

export interface OriginFacts {
  method: string;
  origin: string | undefined;
  secFetchSite: string | undefined;
  host: string | undefined;
  forwardedHost: string | undefined;
}

/** Why a request must be refused for its Origin, or null when it may pass. */
export function foreignOriginReason(f: OriginFacts, allowedOrigins: ReadonlySet<string>): string | null {
  if (!STATE_CHANGING.has(f.method.toUpperCase())) return null;
  if (f.origin === undefined) {
    // Non-browser clients send no Origin; a browser that omits it still says where the request came from.
    return f.secFetchSite === 'cross-site' ? 'a cross-site request' : null;
  }
  if (allowedOrigins.has(f.origin.replace(/\/$/, '').toLowerCase())) return null;
  const authority = originAuthority(f.origin);
  if (authority === null) return `Origin ${JSON.stringify(f.origin.slice(0, 100))}`;
  const sameAs = [f.host, ...(f.forwardedHost ?? '').split(',')].filter((h): h is string => Boolean(h && h.trim()));
  if (sameAs.some((h) => normaliseAuthority(h) === authority)) return null;
  return `Origin ${f.origin.slice(0, 100)}`;
}

export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.set(SECURITY_HEADERS);
    next();
  };
}

/** Refuses (421) a request whose Host, or forwarded host, is not an allowed name. */
export function hostAllowList(allowedHosts: readonly string[]): RequestHandler {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  const refuse = (what: string) =>
    new HttpError(421, 'unknown_host', `${what} is not a name this API answers to; add it to ALLOWED_HOSTS if it should be`);
  return (req, _res, next) => {
    const host = req.headers.host;
    const name = hostnameOf(host);
    if (name === null || !allowed.has(name)) return next(refuse(`Host ${JSON.stringify((host ?? '').slice(0, 100))}`));
    const forwarded = req.headers['x-forwarded-host'];
    for (const fh of (typeof forwarded === 'string' ? forwarded : '').split(',').filter((s) => s.trim())) {
      const fname = hostnameOf(fh);
      if (fname === null || !allowed.has(fname)) return next(refuse(`X-Forwarded-Host ${JSON.stringify(fh.trim().slice(0, 100))}`));
    }
    next();
  };
}

/** Refuses (403) a state-changing request from a foreign Origin. */
export function sameOriginWrites(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  return (req, _res, next) => {
    const forwarded = req.headers['x-forwarded-host'];
    const reason = foreignOriginReason(
      {
        method: req.method,
        origin: req.headers.origin,
        secFetchSite: req.headers['sec-fetch-site'] as string | undefined,
        host: req.headers.host,
        forwardedHost: typeof forwarded === 'string' ? forwarded : undefined,
      },
      allowed,
    );
    if (reason) return next(new HttpError(403, 'foreign_origin', `${reason} may not change anything here; use the app at its own address`));
    next();
  };
}

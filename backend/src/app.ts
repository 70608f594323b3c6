import express, { type Express } from 'express';
import type { AppDeps } from './deps.js';
import { errorMiddleware, unknownRoute } from './errors.js';
import { healthRouter } from './routes/health.js';
import { jobsRouter } from './routes/jobs.js';
import { videosRouter } from './routes/videos.js';
import { exportsRouter } from './routes/exports.js';
import { TUS_PATH, tusUploads } from './upload/tus.js';
import { hostAllowList, sameOriginWrites, securityHeaders } from './requestGuards.js';
import { sessionGate } from './auth/gate.js';
import { authCollections } from './auth/store.js';
import { sessionRouter, signInRouter } from './routes/session.js';
import { sharedRouter, sharesRouter } from './routes/shares.js';
import { usersRouter } from './routes/users.js';
import { compressJson } from './compress.js';
import { drawingsRouter } from './routes/drawings.js';
import { createTrustProxy } from './trustProxy.js';

/** Builds the Express app; the worker runs beside it (see server.ts), not inside it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // 'simple' (node:querystring) is Express 5's default; stated here because the query validation relies on it:
  // `?status[$ne]=x` arrives as the key "status[$ne]", which the allow-lists reject.
  app.set('query parser', 'simple');
  // Only the proxies TRUST_PROXY names (compose: the web server) say who the client is (X-Forwarded-For, for the
  // sign-in limiter) and whether it came over HTTPS (X-Forwarded-Proto, for the cookie's Secure flag).
  const trust = createTrustProxy(deps.config.trustProxy, { log: deps.log });
  app.set('trust proxy', trust.value);
  app.use(trust.middleware);
  app.use(securityHeaders());
  app.use(compressJson());
  app.use(hostAllowList(deps.config.allowedHosts));
  app.use(sameOriginWrites(deps.config.allowedOrigins));
  app.use(healthRouter(deps));
  // Public: signing in and share links. Every other /api route needs a session (401) and, to write, its CSRF token.
  app.use(signInRouter(deps));
  app.use('/api/shared', sharedRouter(deps));
  app.use('/api', sessionGate(authCollections(deps.db.db), deps.config.auth));
  app.use(sessionRouter(deps));
  app.use('/api/users', usersRouter(deps));
  app.use('/api/videos', sharesRouter(deps));
  app.use(TUS_PATH, tusUploads(deps).handler);
  app.use('/api/videos', drawingsRouter(deps));
  app.use('/api/videos', exportsRouter(deps));
  app.use('/api/videos', videosRouter(deps));
  app.use('/api/jobs', jobsRouter(deps));
  app.use(unknownRoute);
  app.use(errorMiddleware(deps.log));
  return app;
}

import express, { type Express } from 'express';
import type { AppDeps } from './deps.js';
import { errorMiddleware, unknownRoute } from './errors.js';
import { healthRouter } from './routes/health.js';
import { jobsRouter } from './routes/jobs.js';
import { videosRouter } from './routes/videos.js';
import { TUS_PATH, tusUploads } from './upload/tus.js';
import { hostAllowList, sameOriginWrites, securityHeaders } from './requestGuards.js';

/** Builds the Express app; the worker runs beside it (see server.ts), not inside it. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // 'simple' (node:querystring) is Express 5's default; stated here because the query validation relies on it:
  // `?status[$ne]=x` arrives as the key "status[$ne]", which the allow-lists reject.
  app.set('query parser', 'simple');
  app.use(securityHeaders());
  app.use(hostAllowList(deps.config.allowedHosts));
  app.use(sameOriginWrites(deps.config.allowedOrigins));
  app.use(healthRouter(deps));
  app.use(TUS_PATH, tusUploads(deps).handler);
  app.use('/api/videos', videosRouter(deps));
  app.use('/api/jobs', jobsRouter(deps));
  app.use(unknownRoute);
  app.use(errorMiddleware(deps.log));
  return app;
}

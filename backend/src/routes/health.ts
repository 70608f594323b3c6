import { Router } from 'express';
import type { AppDeps } from '../deps.js';

async function pingMongo(deps: AppDeps): Promise<{ ok: boolean; detail: string | null }> {
  try {
    await Promise.race([
      deps.db.db.command({ ping: 1 }),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${deps.config.readyTimeoutMs} ms`)), deps.config.readyTimeoutMs).unref()),
    ]);
    return { ok: true, detail: null };
  } catch (err) {
    return { ok: false, detail: `MongoDB ping failed: ${(err as Error).message}` };
  }
}

/** Liveness (process up) and readiness (MongoDB and the pose service both answer). */
export function healthRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_req, res) => {
    const [mongodb, pose] = await Promise.all([pingMongo(deps), deps.pose.ready(deps.config.readyTimeoutMs)]);
    const ready = mongodb.ok && pose.ok;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { mongodb, pose } });
  });
  return router;
}

import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { connectDatabase, ensureIndexes, type Database } from './db.js';
import { JobEvents } from './jobs/events.js';
import { httpPoseClient, type PoseClient } from './jobs/poseClient.js';
import { enqueueOrphanJobs } from './jobs/queue.js';
import { QueueView } from './jobs/queueView.js';
import { JobWatch } from './jobs/watch.js';
import { backfillRotationSortKey } from './jobs/metrics.js';
import { migrateLocalMedia } from './media/migrate.js';
import { MediaStore } from './media/store.js';
import { log } from './log.js';
import { reconcileUploads } from './upload/reconcile.js';
import { adoptOwnerlessVideos, ensureFirstAdmin } from './auth/bootstrap.js';
import { authCollections, ensureAuthIndexes } from './auth/store.js';

/** A queued or running job with no task, this old, is from before the work queue (or its API died mid-upload). */
const ORPHAN_JOB_AGE_MS = 60_000;

export interface RunningApi {
  server: Server;
  db: Database;
  media: MediaStore;
  watch: JobWatch;
  port: number;
  /** Graceful: stop accepting, end the event streams, close MongoDB. */
  close(): Promise<void>;
}

/**
 * Connects, creates indexes, moves media left on the local uploads folder into GridFS, gives jobs from before the
 * work queue their ingest task, and starts the HTTP server. Videos are analysed by the pose workers (their own
 * processes); the API only creates, cancels, retries and reads jobs.
 */
export async function startApi(config: Config, opts: { pose?: PoseClient; logger?: typeof log } = {}): Promise<RunningApi> {
  const logger = opts.logger ?? log;
  await mkdir(config.uploadDir, { recursive: true });
  const db = await connectDatabase(config.mongodbUri, config.mongodbDb);
  await ensureIndexes(db.collections);
  const media = new MediaStore(db.db);
  await media.ensureIndexes();
  await migrateLocalMedia(db.collections, media, { uploadDir: config.uploadDir, log: logger, pauseAfterBytes: config.testPauseMigrationAfterBytes });
  // Accounts: the first admin (ADMIN_USERNAME / ADMIN_PASSWORD_FILE), then videos from before accounts go to them.
  const auth = authCollections(db.db);
  await ensureAuthIndexes(auth, db.collections.videos);
  await ensureFirstAdmin(auth, config.auth, logger);
  await adoptOwnerlessVideos(auth, db.collections.videos, config.auth, logger);
  const keyed = await backfillRotationSortKey(db.collections);
  if (keyed) logger(`${keyed} analysed video(s) got their rotation sort key from their stored metrics`);
  const reconcile = () =>
    reconcileUploads(db.collections, media, config.uploadDir, config.orphanGraceMs, logger)
      .then(() => enqueueOrphanJobs(db.collections, ORPHAN_JOB_AGE_MS))
      .then((ids) => {
        if (ids.length) logger(`${ids.length} job(s) without a task (from before the work queue) got an ingest task: ${ids.join(', ')}`);
      })
      .catch((err) => {
        logger('upload reconciliation failed', err);
      });
  await reconcile();
  // Again later: orphans younger than the grace period at start-up are removed once they are old enough.
  const reconcileTimer = setInterval(() => void reconcile(), Math.max(10_000, Math.min(config.orphanGraceMs, 300_000)));
  reconcileTimer.unref();
  const events = new JobEvents();
  const pose = opts.pose ?? httpPoseClient(config.poseServiceUrl);
  const queue = new QueueView(db.collections);
  const watch = new JobWatch(db.collections, queue, events, config.ssePollMs);
  const app = createApp({ config, db, media, queue, watch, pose, events, log: logger });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let closing: Promise<void> | null = null;
  return {
    server,
    db,
    media,
    watch,
    port,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };

  async function shutdown(): Promise<void> {
    clearInterval(reconcileTimer);
    watch.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await db.client.close();
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`backend-api: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  let api: RunningApi;
  try {
    api = await startApi(config);
  } catch (err) {
    console.error(`backend-api: could not start: ${(err as Error).message} (is MongoDB at MONGODB_URI reachable? is UPLOAD_DIR writable?)`);
    process.exit(1);
  }
  log(`backend-api listening on :${api.port}`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    api.close().then(
      () => process.exit(0),
      (err) => {
        log('shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

// Run only as the entry point, so tests can import startApi.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}

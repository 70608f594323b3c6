import type { Config } from './config.js';
import type { Database } from './db.js';
import type { JobEvents } from './jobs/events.js';
import type { PoseClient } from './jobs/poseClient.js';
import type { QueueView } from './jobs/queueView.js';
import type { JobWatch } from './jobs/watch.js';
import type { MediaStore } from './media/store.js';

/**
 * What createApp and its routers are given: config, database, the media store (GridFS), the queue view and job
 * watcher (job JSON, SSE), the pose client (readiness only), job events and a logger.
 */
export interface AppDeps {
  config: Config;
  db: Database;
  media: MediaStore;
  queue: QueueView;
  watch: JobWatch;
  pose: PoseClient;
  events: JobEvents;
  log: (msg: string, err?: unknown) => void;
}

import type { Config } from './config.js';
import type { Database } from './db.js';
import type { JobEvents } from './jobs/events.js';
import type { PoseClient } from './jobs/poseClient.js';

/** What createApp and its routers are given: config, database, pose client, job events and a logger. */
export interface AppDeps {
  config: Config;
  db: Database;
  pose: PoseClient;
  events: JobEvents;
  log: (msg: string, err?: unknown) => void;
}

import { EventEmitter } from 'node:events';

/**
 * In-process notifications: a route of this API changed a job (retry, delete), so the SSE watcher reads at once
 * instead of at its next poll. MongoDB stays the source of truth (the pose workers change jobs from other
 * processes, which the watcher's poll sees), so this is only a latency shortcut.
 */
export class JobEvents extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
  changed(jobId: string): void {
    this.emit('changed', jobId);
  }
}

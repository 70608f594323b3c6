import { EventEmitter } from 'node:events';

/**
 * In-process notifications: the worker says a job changed, the SSE route re-reads it at once. The database
 * stays the source of truth (SSE also polls), so this is only a latency shortcut within one API process.
 */
export class JobEvents extends EventEmitter {
  constructor() {
    super();
    this.setMaxListeners(0);
  }
  changed(jobId: string): void {
    this.emit(`job:${jobId}`);
  }
  enqueued(): void {
    this.emit('enqueued');
  }
}

import { apiUrl } from '../config';
import { getJob } from './client';
import { ApiError } from './errors';
import { mergeJob } from './jobProgress';
import type { Job } from './types';

export interface JobWatchOptions {
  onJob: (job: Job) => void;
  /** The job (and so its video) was deleted while being watched. */
  onDeleted?: () => void;
  /** Poll interval used when SSE is unavailable or drops. */
  pollMs?: number;
  /** Injected for tests. */
  eventSourceCtor?: typeof EventSource | undefined;
}

const isFinal = (job: Job) => job.state === 'done' || job.state === 'failed';

/**
 * Follow a job live: SSE from /api/jobs/:id/events, falling back to polling GET /api/jobs/:id
 * if the stream cannot be opened or breaks before the job finishes. Returns a stop function.
 * What it delivers never goes backwards (`mergeJob`): a late poll answer or an out-of-order event is dropped.
 */
export function watchJob(jobId: string, opts: JobWatchOptions): () => void {
  const pollMs = opts.pollMs ?? 2000;
  const ES = opts.eventSourceCtor ?? (typeof EventSource !== 'undefined' ? EventSource : undefined);
  let stopped = false;
  let finished = false;
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let shown: Job | null = null;

  const deliver = (next: Job) => {
    if (stopped) return;
    const job = mergeJob(shown, next);
    shown = job;
    opts.onJob(job);
    if (isFinal(job)) {
      finished = true;
      source?.close();
    }
  };

  const poll = async () => {
    if (stopped || finished) return;
    try {
      deliver(await getJob(jobId));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        finished = true;
        if (!stopped) opts.onDeleted?.();
        return;
      }
      // Otherwise keep trying: the API may be restarting.
    }
    if (!stopped && !finished) timer = setTimeout(poll, pollMs);
  };

  if (ES) {
    source = new ES(apiUrl(`/api/jobs/${encodeURIComponent(jobId)}/events`));
    source.addEventListener('job', (ev) => {
      try {
        deliver(JSON.parse((ev as MessageEvent).data) as Job);
      } catch {
        // Ignore a malformed event; the next one or the poll fallback will correct the state.
      }
    });
    source.addEventListener('deleted', () => {
      finished = true;
      source?.close();
      if (!stopped) opts.onDeleted?.();
    });
    source.onerror = () => {
      // EventSource would reconnect forever (and the server ends the stream after done);
      // switch to polling instead so a finished job is not re-streamed.
      source?.close();
      if (!stopped && !finished && timer === null) void poll();
    };
  } else {
    void poll();
  }

  return () => {
    stopped = true;
    source?.close();
    if (timer) clearTimeout(timer);
  };
}

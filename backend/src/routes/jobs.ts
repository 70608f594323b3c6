import { Router, type Request } from 'express';
import { ObjectId } from 'mongodb';
import { BatchedLookup } from '../coalesce.js';
import type { JobDoc } from '../db.js';
import type { AppDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { parseId } from '../ids.js';
import { toJob } from '../serialize.js';
import { videoReadCheck } from '../auth/access.js';
import { userOf } from '../auth/gate.js';

const FINAL = new Set(['done', 'failed']);

export function jobsRouter(deps: AppDeps): Router {
  const router = Router();
  const { jobs, videos } = deps.db.collections;
  /** A job is visible with its video (auth/access.ts): someone else's answers 404 like a missing one. */
  const mayReadVideo = videoReadCheck(videos);
  const mayRead = (req: Request, job: Pick<JobDoc, 'videoId'> | null) => job !== null && mayReadVideo(userOf(req), job.videoId);
  // Many clients polling job statuses share one `$in` read per batch (see coalesce.ts).
  const lookup = new BatchedLookup<JobDoc>(async (ids) => {
    const found = await jobs.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }).toArray();
    return new Map(found.map((j) => [j._id.toHexString(), j]));
  });

  router.get('/:id', async (req, res) => {
    const job = await lookup.get(parseId(req.params.id, 'job').toHexString());
    if (!job || !(await mayRead(req, job))) throw notFound('job');
    res.json(toJob(job));
  });

  /**
   * Server-Sent Events: `event: job` with the Job on every change, ending after done/failed (or `event: deleted`
   * if the job disappears). Changes are read from MongoDB — woken at once by this process's worker, and polled
   * so jobs run by another API instance are seen too.
   */
  router.get('/:id/events', async (req, res) => {
    const id = parseId(req.params.id, 'job');
    const first = await jobs.findOne({ _id: id });
    if (!first || !(await mayRead(req, first))) throw notFound('job');
    const key = id.toHexString();
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');

    let last = '';
    let closed = false;
    let checking = false;
    let again = false;
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      clearInterval(keepAlive);
      deps.events.off(`job:${key}`, check);
      res.end();
    };
    async function check(): Promise<void> {
      if (closed) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        const job = await jobs.findOne({ _id: id });
        if (closed) return;
        if (!job) {
          send('deleted', { id: key });
          return finish();
        }
        const view = toJob(job);
        const serialized = JSON.stringify(view);
        if (serialized !== last) {
          last = serialized;
          send('job', view);
        }
        if (FINAL.has(job.state)) finish();
      } catch {
        // MongoDB hiccup: the next poll tries again.
      } finally {
        checking = false;
        if (again && !closed) {
          again = false;
          void check();
        }
      }
    }
    const poll = setInterval(() => void check(), deps.config.ssePollMs);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    deps.events.on(`job:${key}`, check);
    req.on('close', finish);
    last = JSON.stringify(toJob(first));
    send('job', toJob(first));
    if (FINAL.has(first.state)) finish();
  });

  return router;
}

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
import type { JobView } from '../jobs/watch.js';

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
    const [job, queue] = await Promise.all([lookup.get(parseId(req.params.id, 'job').toHexString()), deps.queue.snapshot()]);
    if (!job || !(await mayRead(req, job))) throw notFound('job');
    res.json(toJob(job, queue));
  });

  /**
   * Server-Sent Events: `event: job` with the Job on every change, ending after done/failed (or `event: deleted`
   * if the job disappears). The changes come from the shared watcher (jobs/watch.ts): one read per tick for all
   * subscribers, whatever their number.
   */
  router.get('/:id/events', async (req, res) => {
    const id = parseId(req.params.id, 'job');
    if (!(await mayRead(req, await jobs.findOne({ _id: id }, { projection: { videoId: 1 } })))) throw notFound('job');
    let closed = false;
    // Changes the watcher reports before the headers are out wait here (the first view goes first).
    let pending: string[] | null = [];
    let ended = false;
    const send = (event: string, data: unknown) => {
      const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      if (pending) pending.push(text);
      else if (!closed) res.write(text);
    };
    const finish = () => {
      if (closed) return;
      if (pending) {
        ended = true;
        return;
      }
      closed = true;
      clearInterval(keepAlive);
      deps.watch.unsubscribe(id, sub);
      res.end();
    };
    const sub = {
      onJob(view: JobView) {
        send('job', view);
        if (FINAL.has(view.state)) finish();
      },
      onDeleted() {
        send('deleted', { id: id.toHexString() });
        finish();
      },
    };
    // `let` declared here, not a `const` at the assignment below: `finish` (which clears it) is reachable from the
    // watcher from `subscribe` on, before that line, and must never meet a binding in its temporal dead zone.
    // eslint-disable-next-line prefer-const
    let keepAlive: NodeJS.Timeout | undefined;
    const first = await deps.watch.subscribe(id, sub);
    if (!first) throw notFound('job');
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write('retry: 2000\n\n');
    keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', finish);
    const early = pending;
    pending = null;
    send('job', first);
    for (const text of early) res.write(text);
    if (ended || FINAL.has(first.state)) finish();
  });

  return router;
}

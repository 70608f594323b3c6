import { ObjectId } from 'mongodb';
import type { Collections, JobDoc } from '../db.js';
import { toJob } from '../serialize.js';
import type { JobEvents } from './events.js';
import type { QueueSnapshot, QueueView } from './queueView.js';

/*
 * Job changes for the SSE route. The pose workers move jobs from another process (or machine), so changes are
 * read from MongoDB: every `pollMs` (and at once when this API changed a job itself), ONE read fetches every
 * subscribed job (`$in`) and one shared queue snapshot (queueView.ts) serves them all. 200 browsers watching
 * 200 jobs cost the same reads per tick as one: no per-subscriber query storm. A subscriber is sent the job's JSON
 * only when it differs from what it was last sent.
 */

export type JobView = ReturnType<typeof toJob>;

export interface Subscriber {
  /** A changed view of the job. */
  onJob(view: JobView): void;
  /** The job no longer exists (its video was deleted). */
  onDeleted(): void;
}

const FINAL = new Set(['done', 'failed']);

export class JobWatch {
  private readonly subs = new Map<string, Set<Subscriber>>();
  private readonly last = new Map<Subscriber, string>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private readonly onChange = () => this.wake();
  /** Reads made by ticks (for the load measurement in the tests). */
  ticks = 0;

  constructor(
    private readonly c: Collections,
    private readonly queue: QueueView,
    private readonly events: JobEvents,
    private readonly pollMs: number,
  ) {
    this.events.on('changed', this.onChange);
  }

  /** Starts watching a job for a subscriber; returns its current view first (null when the job does not exist). */
  async subscribe(jobId: ObjectId, sub: Subscriber): Promise<JobView | null> {
    const [job, queue] = await Promise.all([this.c.jobs.findOne({ _id: jobId }), this.queue.snapshot()]);
    if (!job) return null;
    const view = toJob(job, queue);
    if (FINAL.has(job.state)) return view;
    const key = jobId.toHexString();
    let set = this.subs.get(key);
    if (!set) this.subs.set(key, (set = new Set()));
    set.add(sub);
    this.last.set(sub, JSON.stringify(view));
    this.timer ??= setInterval(() => this.wake(), this.pollMs).unref();
    return view;
  }

  unsubscribe(jobId: ObjectId, sub: Subscriber): void {
    const key = jobId.toHexString();
    const set = this.subs.get(key);
    this.last.delete(sub);
    if (!set) return;
    set.delete(sub);
    if (set.size === 0) this.subs.delete(key);
    if (this.subs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  get subscribers(): number {
    return this.last.size;
  }

  /** Reads now, or right after the read in progress (never two at once; wake-ups meanwhile collapse into one). */
  wake(): void {
    if (this.subs.size === 0) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  close(): void {
    this.events.off('changed', this.onChange);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.subs.clear();
    this.last.clear();
  }

  private async tick(): Promise<void> {
    // Only the jobs read now are judged: a subscription added while the read runs waits for the next tick.
    const keys = [...this.subs.keys()];
    const ids = keys.map((k) => new ObjectId(k));
    if (ids.length === 0) return;
    this.ticks++;
    let jobs: JobDoc[];
    let queue: QueueSnapshot;
    try {
      [jobs, queue] = await Promise.all([this.c.jobs.find({ _id: { $in: ids } }).toArray(), this.queue.snapshot()]);
    } catch {
      this.databaseDown();
      return;
    }
    const byId = new Map(jobs.map((j) => [j._id.toHexString(), j]));
    for (const key of keys) {
      const job = byId.get(key);
      for (const sub of [...(this.subs.get(key) ?? [])]) {
        if (!job) {
          this.unsubscribe(new ObjectId(key), sub);
          sub.onDeleted();
          continue;
        }
        const view = toJob(job, queue);
        this.send(sub, view);
        if (FINAL.has(job.state)) this.unsubscribe(job._id, sub);
      }
    }
  }

  private send(sub: Subscriber, view: JobView): void {
    const text = JSON.stringify(view);
    if (this.last.get(sub) === text) return;
    this.last.set(sub, text);
    sub.onJob(view);
  }

  /** MongoDB did not answer: subscribers see their last view with `waiting: "database"` until it does. */
  private databaseDown(): void {
    for (const set of this.subs.values()) {
      for (const sub of set) {
        const last = this.last.get(sub);
        if (!last) continue;
        const view = JSON.parse(last) as JobView;
        if (view.waiting === 'database') continue;
        this.send(sub, { ...view, waiting: 'database' });
      }
    }
  }
}

import type { ObjectId } from 'mongodb';
import { FreshSingleFlight } from '../coalesce.js';
import type { Collections, JobDoc } from '../db.js';

/*
 * What a job's JSON says about the queue around it: queue position, ETA, running segments, and whether it waits for
 * analysis workers. It comes from three small reads shared by every request (and every SSE tick) that arrives while
 * one is running (coalesce.ts), so hundreds of pollers cost the same as one:
 *  - the live workers (heartbeat within WORKER_LIVE_MS) and their frames per second;
 *  - the unfinished jobs (projection: age and frame counts only);
 *  - the running tasks (at most one per worker).
 */

export const WORKER_LIVE_MS = 10_000;

interface ActiveJob {
  id: string;
  state: 'queued' | 'running';
  createdAt: number;
  /** Analysed frames still to do; null when not known yet (before ingest planned the segments). */
  remaining: number | null;
}

export interface QueueSnapshot {
  at: number;
  liveWorkers: number;
  /** Sum of the live workers' frames per second; null when none has measured one yet. */
  framesPerSecond: number | null;
  /** Queued and running jobs, oldest first (the order workers serve them). */
  active: ActiveJob[];
  /** 1-based position among queued jobs, by job id. */
  positions: Map<string, number>;
  runningSegments: Map<string, number>;
  /** The mean analysed-frame count of jobs whose count is known: the estimate for those not planned yet. */
  typicalFrames: number | null;
}

export interface QueueFields {
  segments: { total: number | null; done: number; running: number };
  waiting: null | 'workers' | 'database';
  queuePosition: number | null;
  etaS: number | null;
}

export function emptySnapshot(): QueueSnapshot {
  return { at: Date.now(), liveWorkers: 0, framesPerSecond: null, active: [], positions: new Map(), runningSegments: new Map(), typicalFrames: null };
}

/** Builds the snapshot from the three reads' results (pure; unit-tested). */
export function buildSnapshot(
  workers: { framesPerSecond?: number | null }[],
  jobs: Pick<JobDoc, '_id' | 'state' | 'createdAt' | 'framesTotal' | 'framesDone'>[],
  runningTasks: { jobId: ObjectId; kind: string }[],
  now = Date.now(),
): QueueSnapshot {
  const rates = workers.map((w) => w.framesPerSecond).filter((r): r is number => typeof r === 'number' && r > 0);
  const active: ActiveJob[] = jobs
    .filter((j) => j.state === 'queued' || j.state === 'running')
    .map((j) => ({
      id: j._id.toHexString(),
      state: j.state as 'queued' | 'running',
      createdAt: j.createdAt.getTime(),
      remaining: typeof j.framesTotal === 'number' ? Math.max(0, j.framesTotal - (j.framesDone ?? 0)) : null,
    }))
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  const positions = new Map<string, number>();
  for (const j of active) if (j.state === 'queued') positions.set(j.id, positions.size + 1);
  const runningSegments = new Map<string, number>();
  for (const t of runningTasks) {
    if (t.kind !== 'segment') continue;
    const id = t.jobId.toHexString();
    runningSegments.set(id, (runningSegments.get(id) ?? 0) + 1);
  }
  const known = jobs
    .filter((j) => j.state === 'queued' || j.state === 'running')
    .map((j) => j.framesTotal)
    .filter((n): n is number => typeof n === 'number' && n > 0);
  return {
    at: now,
    liveWorkers: workers.length,
    framesPerSecond: rates.length ? rates.reduce((a, b) => a + b, 0) : null,
    active,
    positions,
    runningSegments,
    typicalFrames: known.length ? known.reduce((a, b) => a + b, 0) / known.length : null,
  };
}

/**
 * The queue fields of one job. ETA: the analysed frames still to do in this job and in every unfinished job ahead
 * of it (workers serve jobs oldest first), divided by the live workers' combined frames per second; a job not
 * planned yet counts as the typical planned job. Null when no rate or no estimate is known, or the job is finished.
 */
export function queueFields(job: Pick<JobDoc, '_id' | 'state' | 'segmentsTotal' | 'segmentsDone'>, snap: QueueSnapshot): QueueFields {
  const id = job._id.toHexString();
  const unfinished = job.state === 'queued' || job.state === 'running';
  const segments = { total: job.segmentsTotal ?? null, done: job.segmentsDone ?? 0, running: snap.runningSegments.get(id) ?? 0 };
  if (!unfinished) return { segments, waiting: null, queuePosition: null, etaS: null };
  let etaS: number | null = null;
  if (snap.framesPerSecond) {
    let frames = 0;
    let known = true;
    for (const j of snap.active) {
      const n = j.remaining ?? snap.typicalFrames;
      if (n === null) known = false;
      else frames += n;
      if (j.id === id) break;
    }
    if (known && snap.active.some((j) => j.id === id)) etaS = Math.round((frames / snap.framesPerSecond) * 10) / 10;
  }
  return {
    segments,
    waiting: snap.liveWorkers === 0 ? 'workers' : null,
    queuePosition: job.state === 'queued' ? (snap.positions.get(id) ?? null) : null,
    etaS,
  };
}

/** Reads snapshots, sharing each read among everyone who asks while it runs (never an answer older than the ask). */
export class QueueView {
  private readonly flight = new FreshSingleFlight<QueueSnapshot>();

  constructor(private readonly c: Collections) {}

  snapshot(): Promise<QueueSnapshot> {
    return this.flight.run('queue', async () => {
      const now = Date.now();
      const [workers, jobs, tasks] = await Promise.all([
        this.c.workers.find({ heartbeatAt: { $gt: new Date(now - WORKER_LIVE_MS) } }, { projection: { framesPerSecond: 1 } }).toArray(),
        this.c.jobs
          .find({ state: { $in: ['queued', 'running'] } }, { projection: { state: 1, createdAt: 1, framesTotal: 1, framesDone: 1 } })
          .toArray(),
        this.c.tasks.find({ state: 'running' }, { projection: { jobId: 1, kind: 1 } }).toArray(),
      ]);
      return buildSnapshot(workers, jobs, tasks, now);
    });
  }
}

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { AnyBulkWriteOperation, ObjectId } from 'mongodb';
import { FRAMES_PER_CHUNK, type Collections, type FrameChunkDoc, type IngestTiming, type JobDoc, type JobState, type VideoDoc } from '../db.js';
import type { Config } from '../config.js';
import { nextStateAfterFailure, retryDelayMs } from './backoff.js';
import type { JobEvents } from './events.js';
import { derivedDirOf, fromServiceProbe, hasRendition, ingestFields, removeDerived } from './ingest.js';
import { isRiderFacing, riderMessage } from './riderErrors.js';
import { truncateForLog } from '../text.js';
import { PoseError, type PoseClient, type PoseVideoResult } from './poseClient.js';

type WorkerConfig = Pick<
  Config,
  'uploadDir' | 'jobConcurrency' | 'poseTimeoutMs' | 'jobMaxAttempts' | 'jobBackoffMs' | 'jobHeartbeatMs' | 'jobStaleMs' | 'jobPollMs'
>;

export interface WorkerDeps {
  collections: Collections;
  config: WorkerConfig;
  pose: PoseClient;
  events: JobEvents;
  log?: (msg: string, err?: unknown) => void;
}

/** Splits the pose frames into the chunk documents described at FRAMES_PER_CHUNK. */
export function chunkFrames(videoId: ObjectId, frames: PoseVideoResult['frames']): FrameChunkDoc[] {
  const chunks: FrameChunkDoc[] = [];
  for (let i = 0; i < frames.length; i += FRAMES_PER_CHUNK) {
    const slice = frames.slice(i, i + FRAMES_PER_CHUNK);
    chunks.push({ videoId, chunk: chunks.length, tStart: slice[0]!.t, tEnd: slice[slice.length - 1]!.t, frames: slice });
  }
  return chunks;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs analysis jobs stored in MongoDB. Each of `jobConcurrency` slots claims the oldest claimable queued job
 * with one atomic findOneAndUpdate, so any number of API processes can share the queue. A running job carries
 * the claiming worker's id and a heartbeat; a job whose heartbeat goes stale (process killed, MongoDB
 * unreachable) is re-queued by the sweep, at start-up and periodically, until it runs out of attempts.
 */
export class JobWorker {
  readonly workerId = `worker-${randomUUID()}`;
  private running = false;
  private slots: Promise<void>[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Map<string, AbortController>();
  private wakers = new Set<() => void>();
  private abandoning = false;
  private readonly onEnqueued = () => this.wakeAll();

  constructor(private readonly deps: WorkerDeps) {}

  private log(msg: string, err?: unknown) {
    this.deps.log?.(msg, err);
  }

  /** Re-queues stale running jobs, then starts the claim loops and the periodic sweep. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.abandoning = false;
    await this.recoverStale().catch((err) => this.log('stale-job sweep failed at start-up', err));
    this.deps.events.on('enqueued', this.onEnqueued);
    this.sweepTimer = setInterval(() => {
      this.recoverStale().catch((err) => this.log('stale-job sweep failed', err));
    }, Math.max(50, Math.floor(this.deps.config.jobStaleMs / 2)));
    this.sweepTimer.unref();
    for (let i = 0; i < this.deps.config.jobConcurrency; i++) this.slots.push(this.slotLoop());
  }

  /**
   * Stops claiming. Graceful (default): aborts in-flight pose calls and puts their jobs back in the queue
   * without spending an attempt. `abandon: true` leaves the database untouched, as a crash would.
   */
  async stop(opts: { abandon?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abandoning = Boolean(opts.abandon);
    this.deps.events.off('enqueued', this.onEnqueued);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const ac of this.inFlight.values()) ac.abort();
    this.wakeAll();
    await Promise.all(this.slots);
    this.slots = [];
  }

  private wakeAll() {
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  private async slotLoop(): Promise<void> {
    while (this.running) {
      let job: JobDoc | null = null;
      try {
        job = await this.claim();
      } catch (err) {
        this.log('claiming a job failed (MongoDB unreachable?)', err);
        await this.idle(this.deps.config.jobPollMs);
        continue;
      }
      if (!job) {
        await this.idle(this.deps.config.jobPollMs);
        continue;
      }
      try {
        await this.process(job);
      } catch (err) {
        // Whatever happened, the heartbeat has stopped: the sweep will re-queue the job if we could not.
        this.log(`job ${job._id.toHexString()} errored outside its failure handling`, err);
        await sleep(this.deps.config.jobPollMs);
      }
    }
  }

  /** Atomically takes the oldest claimable queued job, or null. */
  async claim(): Promise<JobDoc | null> {
    const now = new Date();
    const job = await this.deps.collections.jobs.findOneAndUpdate(
      { state: 'queued', runAfter: { $lte: now } },
      {
        $set: { state: 'running', workerId: this.workerId, heartbeatAt: now, startedAt: now, updatedAt: now, progress: 0.05 },
        $inc: { attempts: 1 },
      },
      { sort: { runAfter: 1, createdAt: 1 }, returnDocument: 'after' },
    );
    if (job) await this.announce(job.videoId, job._id, 'running');
    return job;
  }

  private async announce(videoId: ObjectId, jobId: ObjectId, state: JobState): Promise<void> {
    await this.deps.collections.videos.updateOne({ _id: videoId }, { $set: { status: state } });
    this.deps.events.changed(jobId.toHexString());
  }

  /** Updates a job this worker still owns; false if it was deleted or taken back by the sweep. */
  private async updateOwned(job: JobDoc, set: Partial<JobDoc>): Promise<boolean> {
    const res = await this.deps.collections.jobs.updateOne(
      { _id: job._id, workerId: this.workerId, state: 'running' },
      { $set: { ...set, updatedAt: new Date() } },
    );
    this.deps.events.changed(job._id.toHexString());
    return res.matchedCount === 1;
  }

  private async process(job: JobDoc): Promise<void> {
    const { collections: c, config } = this.deps;
    const jobKey = job._id.toHexString();
    const video = await c.videos.findOne({ _id: job.videoId });
    if (!video) {
      // Deleted between enqueue and claim.
      await c.jobs.deleteOne({ _id: job._id, workerId: this.workerId });
      return;
    }
    const ac = new AbortController();
    this.inFlight.set(jobKey, ac);
    // stop() may have run while this job was being claimed: it aborted only what was in flight then.
    if (!this.running) ac.abort();
    const heartbeat = setInterval(() => {
      c.jobs
        .updateOne({ _id: job._id, workerId: this.workerId, state: 'running' }, { $set: { heartbeatAt: new Date() } })
        .then((res) => {
          if (res.matchedCount === 0) ac.abort(); // deleted or re-queued by a sweep: stop working on it
        })
        .catch((err) => this.log(`heartbeat for job ${jobKey} failed`, err));
    }, config.jobHeartbeatMs);
    try {
      const filePath = path.join(config.uploadDir, video.storedName);
      const result = await this.analyseWithIngest(job, video, filePath, ac.signal);
      if (!result) return this.discardResults(job.videoId);

      const chunks = chunkFrames(job.videoId, result.frames);
      if (chunks.length > 0) {
        // Upserts keyed by (videoId, chunk): a retried attempt overwrites, never duplicates.
        const ops: AnyBulkWriteOperation<FrameChunkDoc>[] = chunks.map((doc) => ({
          replaceOne: { filter: { videoId: doc.videoId, chunk: doc.chunk }, replacement: doc, upsert: true },
        }));
        await c.frames.bulkWrite(ops, { ordered: false });
      }
      await c.frames.deleteMany({ videoId: job.videoId, chunk: { $gte: chunks.length } });
      await c.metrics.replaceOne({ _id: job.videoId }, { metrics: result.metrics }, { upsert: true });
      await c.videos.updateOne(
        { _id: job.videoId },
        {
          $set: {
            fps: result.video.fps,
            width: result.video.width,
            height: result.video.height,
            durationS: result.video.duration_s,
            frameCount: result.video.frame_count,
            riderTrackId: result.rider_track_id,
          },
        },
      );
      const finished = await this.updateOwned(job, {
        state: 'done',
        progress: 1,
        error: null,
        errorDetail: null,
        finishedAt: new Date(),
        heartbeatAt: null,
        workerId: null,
      });
      if (!finished) return this.discardResults(job.videoId);
      await this.announce(job.videoId, job._id, 'done');
      // A delete that raced the final update: the video is gone, so are its results.
      if (!(await c.videos.findOne({ _id: job.videoId }, { projection: { _id: 1 } }))) await this.discardResults(job.videoId);
    } catch (err) {
      if (!this.running && ac.signal.aborted) {
        if (!this.abandoning) await this.requeueOnShutdown(job);
        return;
      }
      await this.recordFailure(job, err);
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(jobKey);
    }
  }

  /**
   * The ingest stage and the pose analysis of one attempt. The fast probe runs first (display size, orientation,
   * frame-rate mode on the video document at once); then the rendition/poster and the pose analysis run side by
   * side in the pose service, since neither needs the other. Progress only moves forward. Returns null when the
   * job is no longer this worker's (deleted, or taken back by the sweep).
   */
  private async analyseWithIngest(job: JobDoc, video: VideoDoc, filePath: string, signal: AbortSignal): Promise<PoseVideoResult | null> {
    const { collections: c, config, pose } = this.deps;
    const started = performance.now();
    const seconds = (since: number) => Math.round(performance.now() - since) / 1000;
    let progress = job.progress;
    /** Moves progress forward only, also in the database: ingest and pose finish concurrently, in either order. */
    const advance = async (to: number): Promise<boolean> => {
      if (to <= progress) return true;
      progress = to;
      const owned = { _id: job._id, workerId: this.workerId, state: 'running' as const };
      const res = await c.jobs.updateOne({ ...owned, progress: { $lt: to } }, { $set: { progress: to, updatedAt: new Date() } });
      this.deps.events.changed(job._id.toHexString());
      return res.matchedCount === 1 || (await c.jobs.countDocuments(owned)) === 1;
    };
    // One failure stops the sibling call too: the attempt is lost either way.
    const local = new AbortController();
    const opts = { timeoutMs: config.poseTimeoutMs, signal: AbortSignal.any([signal, local.signal]) };

    const probe = await pose.probe(filePath, { ...opts, timeoutMs: Math.min(config.poseTimeoutMs, 120_000) });
    const probeS = seconds(started);
    await c.videos.updateOne(
      { _id: video._id },
      {
        $set: {
          probe: fromServiceProbe(probe),
          width: probe.display_width,
          height: probe.display_height,
          ...(probe.fps ? { fps: probe.fps } : {}),
          ...(probe.duration_s ? { durationS: probe.duration_s } : {}),
        },
      },
    );
    if (!(await advance(0.1))) return null;

    let ingestS: number | null = null;
    let poseS: number | null = null;
    const ingestDone = (async () => {
      if (await hasRendition(config.uploadDir, video)) return; // made by an earlier attempt or the backfill
      const t = performance.now();
      const made = await pose.ingest(filePath, derivedDirOf(config.uploadDir, video._id), opts);
      ingestS = seconds(t);
      await c.videos.updateOne({ _id: video._id }, { $set: ingestFields(config.uploadDir, video._id, made) });
      await advance(progress < 0.45 ? 0.45 : 0.8);
    })();
    const poseDone = (async () => {
      const t = performance.now();
      const result = await pose.analyseVideo(filePath, opts);
      poseS = seconds(t);
      await advance(progress < 0.45 ? 0.45 : 0.8);
      return result;
    })();
    let result: PoseVideoResult;
    try {
      [, result] = await Promise.all([ingestDone, poseDone]);
    } catch (err) {
      local.abort();
      await Promise.allSettled([ingestDone, poseDone]);
      throw err;
    }
    if (signal.aborted) throw new PoseError('aborted', true);
    const timing: IngestTiming = { probeS, ingestS, poseS, totalS: seconds(started) };
    await c.videos.updateOne({ _id: video._id }, { $set: { timing } });
    if (!(await advance(0.85))) return null;
    return result;
  }

  /** Removes results written for a job this worker no longer owns, if its video has been deleted. */
  private async discardResults(videoId: ObjectId): Promise<void> {
    const c = this.deps.collections;
    if (await c.videos.findOne({ _id: videoId }, { projection: { _id: 1 } })) return;
    await Promise.all([
      c.frames.deleteMany({ videoId }),
      c.metrics.deleteOne({ _id: videoId }),
      removeDerived(this.deps.config.uploadDir, videoId),
    ]);
  }

  private async requeueOnShutdown(job: JobDoc): Promise<void> {
    const res = await this.deps.collections.jobs.updateOne(
      { _id: job._id, workerId: this.workerId, state: 'running' },
      {
        $set: { state: 'queued', workerId: null, heartbeatAt: null, runAfter: new Date(), updatedAt: new Date(), progress: 0 },
        $inc: { attempts: -1 },
      },
    );
    if (res.matchedCount === 1) await this.announce(job.videoId, job._id, 'queued');
  }

  private async recordFailure(job: JobDoc, err: unknown): Promise<void> {
    const { config } = this.deps;
    if (err instanceof PoseError && err.kind === 'busy') {
      await this.requeueWhileBusy(job, err);
      return;
    }
    const retryable = err instanceof PoseError ? err.retryable : true;
    const reason = truncateForLog(err instanceof Error ? err.message : String(err), 1_000);
    const next = nextStateAfterFailure(job.attempts, config.jobMaxAttempts, retryable);
    const now = new Date();
    // The rider reads `error`; the technical cause stays in `errorDetail` and the log.
    const error = riderMessage(isRiderFacing(err) ? err.kind : 'internal', next !== 'failed');
    const errorDetail =
      next === 'failed'
        ? `${reason} (attempt ${job.attempts} of ${config.jobMaxAttempts}${retryable ? '' : ', not retryable'})`
        : `attempt ${job.attempts} failed: ${reason}`;
    this.log(`job ${job._id.toHexString()} attempt ${job.attempts}: ${reason} -> ${next}`, isRiderFacing(err) ? undefined : err);
    const set: Partial<JobDoc> =
      next === 'failed'
        ? { state: 'failed', error, errorDetail, finishedAt: now, heartbeatAt: null, workerId: null }
        : {
            state: 'queued',
            error,
            errorDetail,
            progress: 0,
            heartbeatAt: null,
            workerId: null,
            runAfter: new Date(now.getTime() + retryDelayMs(config.jobBackoffMs, job.attempts)),
          };
    if (await this.updateOwned(job, set)) await this.announce(job.videoId, job._id, next);
  }

  /**
   * A busy pose service is backpressure, not a failure of the video: the job waits its turn without spending an
   * attempt (e.g. after an API restart the pose service may still be finishing the interrupted attempt's calls).
   */
  private async requeueWhileBusy(job: JobDoc, err: PoseError): Promise<void> {
    const { config } = this.deps;
    this.log(`job ${job._id.toHexString()}: ${truncateForLog(err.message, 300)} -> waits (attempt not spent)`);
    const set = {
      state: 'queued' as const,
      error: riderMessage('busy', true),
      errorDetail: `waiting: ${truncateForLog(err.message, 500)}`,
      progress: 0,
      heartbeatAt: null,
      workerId: null,
      updatedAt: new Date(),
      runAfter: new Date(Date.now() + Math.max(config.jobBackoffMs, 1_000)),
    };
    const res = await this.deps.collections.jobs.updateOne(
      { _id: job._id, workerId: this.workerId, state: 'running' },
      { $set: set, $inc: { attempts: -1 } },
    );
    if (res.matchedCount === 1) await this.announce(job.videoId, job._id, 'queued');
  }

  /** Re-queues (or fails, when out of attempts) running jobs whose heartbeat is older than jobStaleMs. */
  async recoverStale(): Promise<number> {
    const { collections: c, config } = this.deps;
    const staleBefore = new Date(Date.now() - config.jobStaleMs);
    const stale = await c.jobs.find({ state: 'running', heartbeatAt: { $lt: staleBefore } }).toArray();
    let recovered = 0;
    for (const job of stale) {
      const now = new Date();
      const outOfAttempts = job.attempts >= config.jobMaxAttempts;
      const set: Partial<JobDoc> = outOfAttempts
        ? {
            state: 'failed',
            error: riderMessage('interrupted', false),
            errorDetail: `the worker running attempt ${job.attempts} of ${config.jobMaxAttempts} stopped (heartbeat lost)`,
            finishedAt: now,
          }
        : {
            state: 'queued',
            error: riderMessage('interrupted', true),
            errorDetail: `attempt ${job.attempts} was interrupted (heartbeat lost); re-queued`,
            runAfter: now,
            progress: 0,
          };
      // Conditional on the heartbeat we saw, so a worker that just revived keeps its job.
      const res = await c.jobs.updateOne(
        { _id: job._id, state: 'running', heartbeatAt: job.heartbeatAt },
        { $set: { ...set, workerId: null, heartbeatAt: null, updatedAt: now } },
      );
      if (res.modifiedCount === 1) {
        recovered++;
        this.log(`job ${job._id.toHexString()} had a stale heartbeat -> ${set.state}`);
        await this.announce(job.videoId, job._id, set.state as JobState);
        if (set.state === 'queued') this.wakeAll();
      }
    }
    return recovered;
  }
}

// What a job's progress means to the rider: words for its stage, its place in the queue and the wait, and the
// rule that keeps what the screen shows from going backwards when events arrive late or out of order.
import type { Job, JobStage } from './types';

const STATE_RANK: Record<Job['state'], number> = { queued: 0, running: 1, done: 2, failed: 2 };
const STAGE_RANK: Record<JobStage, number> = { ingest: 0, analysis: 1, finish: 2 };
const time = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);

/**
 * The job to show after `next` arrives while `prev` is on screen (same job). An event older than the one shown
 * (by `updatedAt`, or one that would step the state or stage back) is dropped; counters never decrease.
 * A different job id (a retry) replaces the old one outright.
 */
export function mergeJob(prev: Job | null | undefined, next: Job): Job {
  if (!prev || prev.id !== next.id) return next;
  const older = time(next.updatedAt) < time(prev.updatedAt);
  const backwards =
    STATE_RANK[next.state] < STATE_RANK[prev.state] ||
    (next.state === prev.state && next.stage && prev.stage && STAGE_RANK[next.stage] < STAGE_RANK[prev.stage]);
  if (older || backwards) return prev;
  const merged: Job = { ...next, progress: Math.max(prev.progress, next.progress) };
  if (prev.framesDone != null || next.framesDone != null) merged.framesDone = Math.max(prev.framesDone ?? 0, next.framesDone ?? 0);
  if (prev.segments && next.segments) merged.segments = { ...next.segments, done: Math.max(prev.segments.done, next.segments.done) };
  return merged;
}

/** Share of the work finished, 0..1: frames analysed / frames to analyse once known, else the job's progress. */
export function progressFraction(job: Pick<Job, 'state' | 'progress' | 'framesDone' | 'framesTotal'>): number {
  if (job.state === 'done') return 1;
  const byFrames = job.framesTotal ? (job.framesDone ?? 0) / job.framesTotal : null;
  const f = Math.max(job.progress ?? 0, byFrames ?? 0);
  return Math.min(1, Math.max(0, f));
}

/** 1 → "1st", 2 → "2nd", 11 → "11th", 23 → "23rd". */
export function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

/** A wait in rough words: "a few seconds", "about 40 s", "about 3 min", "about 1 h 20 min"; null when unknown. */
export function formatEta(seconds: number | null | undefined): string | null {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 8) return 'a few seconds';
  if (seconds < 60) return `about ${Math.round(seconds / 5) * 5} s`;
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds - h * 3600) / 60);
  return `about ${h} h${m ? ` ${m} min` : ''}`;
}

/** The reason a job cannot go on right now, in the rider's words; null when nothing is in the way. */
export function waitingWords(job: Pick<Job, 'waiting' | 'state' | 'framesDone'>): string | null {
  const started = job.state === 'running' || (job.framesDone ?? 0) > 0;
  if (job.waiting === 'workers') return `Waiting for analysis workers — your video will ${started ? 'continue' : 'start'} automatically`;
  if (job.waiting === 'database') return `Waiting for the database — your video will ${started ? 'continue' : 'start'} automatically`;
  return null;
}

/** "2nd in line · about 40 s" (or "Next in line", or "Queued" from an API without queue positions). */
export function queueWords(job: Pick<Job, 'queuePosition' | 'etaS'>): string {
  const place = job.queuePosition == null ? 'Queued' : job.queuePosition <= 1 ? 'Next in line' : `${ordinal(job.queuePosition)} in line`;
  const eta = formatEta(job.etaS);
  return eta ? `${place} · ${eta}` : place;
}

/** "Analysing 3 of 8 parts": the parts finished or being analysed now, out of all. */
export function partsWords(segments: NonNullable<Job['segments']>): string | null {
  if (!segments.total) return null;
  const reached = Math.min(segments.total, Math.max(segments.done + segments.running, segments.done + 1));
  return `Analysing ${reached} of ${segments.total} part${segments.total === 1 ? '' : 's'}`;
}

/** "412 of 1,800 frames". */
export function framesWords(job: Pick<Job, 'framesDone' | 'framesTotal'>): string | null {
  if (!job.framesTotal) return null;
  const n = (v: number) => v.toLocaleString('en-US');
  return `${n(Math.min(job.framesDone ?? 0, job.framesTotal))} of ${n(job.framesTotal)} frames`;
}

export interface ProgressWords {
  /** What is happening, one line. */
  headline: string;
  /** Frames and time left, when known. */
  detail: string | null;
  /** Whether a bar means anything (frames are known or the job is running). */
  showBar: boolean;
}

/** Everything the card and the analysis view say about an unfinished job. */
export function describeJob(job: Job): ProgressWords {
  const blocked = waitingWords(job);
  const frames = framesWords(job);
  const eta = formatEta(job.etaS);
  if (blocked) return { headline: blocked, detail: frames, showBar: frames !== null };
  if (job.state === 'queued' && (job.stage ?? 'ingest') === 'ingest' && !job.framesDone) {
    return { headline: queueWords(job), detail: null, showBar: false };
  }
  const left = eta ? `${eta} left` : null;
  const detail = [frames, left].filter(Boolean).join(' · ') || null;
  switch (job.stage) {
    case 'ingest':
      return { headline: 'Preparing video', detail: left, showBar: true };
    case 'finish':
      return { headline: 'Joining results', detail: frames, showBar: true };
    case 'analysis':
      return { headline: (job.segments && partsWords(job.segments)) ?? 'Analysing', detail, showBar: true };
    default:
      // An API without stages (or the job between them): the plain state.
      return { headline: job.state === 'queued' ? queueWords(job) : 'Analysing', detail, showBar: job.state === 'running' };
  }
}

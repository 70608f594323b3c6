import { describe, expect, it } from 'vitest';
import { describeJob, formatEta, mergeJob, ordinal, progressFraction, queueWords, waitingWords } from './jobProgress';
import type { Job } from './types';

const job = (over: Partial<Job> = {}): Job => ({
  id: 'j1', videoId: 'v1', state: 'running', progress: 0, attempts: 0, error: null,
  createdAt: '2026-01-01T10:00:00.000Z', updatedAt: '2026-01-01T10:00:00.000Z', startedAt: null, finishedAt: null,
  stage: 'analysis', framesDone: 0, framesTotal: 800, segments: { total: 8, done: 0, running: 0 },
  waiting: null, queuePosition: null, etaS: null, partial: false, ...over,
});
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();

describe('mergeJob keeps what is on screen monotone', () => {
  it('takes a newer event', () => {
    const a = job({ framesDone: 100, progress: 0.125, updatedAt: at(1) });
    const b = job({ framesDone: 300, progress: 0.375, updatedAt: at(2), segments: { total: 8, done: 3, running: 2 } });
    expect(mergeJob(a, b)).toEqual(b);
  });

  it('drops an event older than the one shown (out of order)', () => {
    const newer = job({ framesDone: 300, updatedAt: at(5) });
    const older = job({ framesDone: 100, updatedAt: at(3), stage: 'analysis' });
    expect(mergeJob(newer, older)).toBe(newer);
  });

  it('never lowers frames, progress or finished parts, even from an event with the same time', () => {
    const a = job({ framesDone: 300, progress: 0.375, segments: { total: 8, done: 3, running: 1 } });
    const b = job({ framesDone: 200, progress: 0.25, segments: { total: 8, done: 2, running: 2 } });
    const m = mergeJob(a, b);
    expect(m.framesDone).toBe(300);
    expect(m.progress).toBe(0.375);
    expect(m.segments).toEqual({ total: 8, done: 3, running: 2 });
  });

  it('never steps the state or the stage back', () => {
    const running = job({ state: 'running', stage: 'finish', updatedAt: at(2) });
    expect(mergeJob(running, job({ state: 'queued', stage: 'ingest', updatedAt: at(9) }))).toBe(running);
    expect(mergeJob(running, job({ state: 'running', stage: 'analysis', updatedAt: at(9) }))).toBe(running);
    const done = job({ state: 'done', progress: 1, stage: null, updatedAt: at(3) });
    expect(mergeJob(done, job({ state: 'running', updatedAt: at(9) }))).toBe(done);
  });

  it('replaces the job outright after a retry (a new job id)', () => {
    const failed = job({ state: 'failed', progress: 0.6, framesDone: 480 });
    const retried = job({ id: 'j2', state: 'queued', stage: 'ingest', progress: 0, framesDone: 0 });
    expect(mergeJob(failed, retried)).toBe(retried);
  });
});

describe('progress in words', () => {
  it('counts frames finished out of all once known', () => {
    expect(progressFraction(job({ framesDone: 200, framesTotal: 800, progress: 0.1 }))).toBe(0.25);
    expect(progressFraction(job({ framesDone: 0, framesTotal: null, progress: 0.05 }))).toBe(0.05);
    expect(progressFraction(job({ state: 'done', progress: 0.9 }))).toBe(1);
  });

  it('names ordinals and rough waits', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 112].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '101st', '112th']);
    expect(formatEta(null)).toBeNull();
    expect(formatEta(3)).toBe('a few seconds');
    expect(formatEta(41)).toBe('about 40 s');
    expect(formatEta(150)).toBe('about 3 min');
    expect(formatEta(4800)).toBe('about 1 h 20 min');
  });

  it('says where a waiting job is in the queue and how long it will be', () => {
    expect(queueWords({ queuePosition: 2, etaS: 40 })).toBe('2nd in line · about 40 s');
    expect(queueWords({ queuePosition: 1, etaS: null })).toBe('Next in line');
    expect(queueWords({ queuePosition: null, etaS: null })).toBe('Queued');
    expect(describeJob(job({ state: 'queued', stage: 'ingest', queuePosition: 3, etaS: 95 }))).toEqual({ headline: '3rd in line · about 2 min', detail: null, showBar: false });
  });

  it('says why a job waits for workers or the database, and that it goes on by itself', () => {
    expect(waitingWords({ waiting: 'workers', state: 'queued', framesDone: 0 })).toBe('Waiting for analysis workers — your video will start automatically');
    expect(waitingWords({ waiting: 'workers', state: 'running', framesDone: 100 })).toBe('Waiting for analysis workers — your video will continue automatically');
    expect(waitingWords({ waiting: 'database', state: 'running', framesDone: 0 })).toBe('Waiting for the database — your video will continue automatically');
    expect(waitingWords({ waiting: null, state: 'queued', framesDone: 0 })).toBeNull();
    expect(describeJob(job({ state: 'queued', stage: 'ingest', waiting: 'workers', queuePosition: 1 })).headline).toMatch(/^Waiting for analysis workers/);
  });

  it('names each stage, with the parts reached and the frames', () => {
    expect(describeJob(job({ stage: 'ingest', framesTotal: null, etaS: 12 }))).toEqual({ headline: 'Preparing video', detail: 'about 10 s left', showBar: true });
    expect(describeJob(job({ framesDone: 200, segments: { total: 8, done: 2, running: 1 }, etaS: 30 }))).toEqual({
      headline: 'Analysing 3 of 8 parts', detail: '200 of 800 frames · about 30 s left', showBar: true,
    });
    // Two workers on parts 1 and 2 before any finished; never past the total.
    expect(describeJob(job({ segments: { total: 8, done: 0, running: 2 } })).headline).toBe('Analysing 2 of 8 parts');
    expect(describeJob(job({ segments: { total: 8, done: 8, running: 0 }, framesDone: 800 })).headline).toBe('Analysing 8 of 8 parts');
    expect(describeJob(job({ segments: { total: 1, done: 0, running: 1 } })).headline).toBe('Analysing 1 of 1 part');
    expect(describeJob(job({ stage: 'finish', framesDone: 1800, framesTotal: 1800 }))).toEqual({ headline: 'Joining results', detail: '1,800 of 1,800 frames', showBar: true });
  });

  it('reads an API without stages as before', () => {
    const old: Job = { id: 'j', videoId: 'v', state: 'running', progress: 0.4, attempts: 0, error: null, createdAt: '', updatedAt: '', startedAt: null, finishedAt: null };
    expect(describeJob(old)).toEqual({ headline: 'Analysing', detail: null, showBar: true });
    expect(describeJob({ ...old, state: 'queued', progress: 0 }).headline).toBe('Queued');
  });
});

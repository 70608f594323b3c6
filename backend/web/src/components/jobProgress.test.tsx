import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Job } from '../api/types';
import { JobProgress } from './JobProgress';
import { RetryButton } from './RetryButton';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const job = (over: Partial<Job> = {}): Job => ({
  id: 'j1', videoId: 'v1', state: 'running', progress: 0, attempts: 0, error: null,
  createdAt: '', updatedAt: '2026-01-01T10:00:00.000Z', startedAt: null, finishedAt: null,
  stage: 'analysis', framesDone: 0, framesTotal: 72, segments: { total: 3, done: 0, running: 1 },
  waiting: null, queuePosition: null, etaS: null, partial: false, ...over,
});

afterEach(() => vi.unstubAllGlobals());

describe('JobProgress', () => {
  it('shows the stage, the parts and frames, and a bar that never goes back for the same job', () => {
    const { rerender } = render(<JobProgress job={job({ framesDone: 48, segments: { total: 3, done: 2, running: 1 }, updatedAt: '2026-01-01T10:00:05.000Z' })} />);
    expect(screen.getByTestId('job-progress-headline').textContent).toBe('Analysing 3 of 3 parts');
    expect(screen.getByTestId('job-progress-detail').textContent).toBe('48 of 72 frames');
    expect((screen.getByRole('progressbar') as HTMLProgressElement).value).toBe(67);
    // An older update reaches the component after the newer one: nothing on screen moves back.
    rerender(<JobProgress job={job({ framesDone: 24, segments: { total: 3, done: 1, running: 1 }, updatedAt: '2026-01-01T10:00:02.000Z' })} />);
    expect(screen.getByTestId('job-progress-detail').textContent).toBe('48 of 72 frames');
    expect((screen.getByRole('progressbar') as HTMLProgressElement).value).toBe(67);
    // A retry is a new job and starts from nothing.
    rerender(<JobProgress job={job({ id: 'j2', state: 'queued', stage: 'ingest', framesDone: 0, framesTotal: null, queuePosition: 2, etaS: 40 })} />);
    expect(screen.getByTestId('job-progress-headline').textContent).toBe('2nd in line · about 40 s');
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('says plainly when no analysis worker is there', () => {
    render(<JobProgress job={job({ state: 'queued', stage: 'ingest', waiting: 'workers', queuePosition: 1 })} />);
    expect(screen.getByTestId('job-progress').dataset.waiting).toBe('workers');
    expect(screen.getByTestId('job-progress-headline').textContent).toBe('Waiting for analysis workers — your video will start automatically');
  });
});

describe('RetryButton', () => {
  it('posts a retry and hands the new job to the caller', async () => {
    const fetchMock = vi.fn(async () => json(202, { videoId: 'v1', jobId: 'j2' }));
    vi.stubGlobal('fetch', fetchMock);
    const onRetried = vi.fn();
    render(<RetryButton videoId="v1" label="Night run" onRetried={onRetried} />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Try again: Night run' })));
    expect(onRetried).toHaveBeenCalledWith({ videoId: 'v1', jobId: 'j2' });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/videos/v1/retry');
    expect(init.method).toBe('POST');
  });

  it('shows the API refusal inline, and treats "not failed any more" as retried', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(404, { error: 'not_found', detail: 'No video v1.' })));
    const onRetried = vi.fn();
    render(<RetryButton videoId="v1" onRetried={onRetried} />);
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Try again' })));
    expect((await screen.findByRole('alert')).textContent).toContain('No video v1.');
    expect(onRetried).not.toHaveBeenCalled();
    vi.stubGlobal('fetch', vi.fn(async () => json(409, { error: 'not_failed', detail: 'the job is queued' })));
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Try again' })));
    expect(onRetried).toHaveBeenCalledWith(null);
  });
});

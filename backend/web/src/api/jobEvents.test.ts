import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchJob } from './jobEvents';
import type { Job } from './types';

const job = (state: Job['state'], progress = 0): Job => ({
  id: 'j1', videoId: 'v1', state, progress, attempts: 0, error: null, createdAt: '', updatedAt: '', startedAt: null, finishedAt: null,
});

class FakeEventSource {
  static last: FakeEventSource;
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {};
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    (this.listeners[type] ??= []).push(fn);
  }
  emit(j: Job) {
    for (const fn of this.listeners.job ?? []) fn({ data: JSON.stringify(j) } as MessageEvent);
  }
  close() {
    this.closed = true;
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('watchJob', () => {
  it('streams job events and closes the stream once the job is done', () => {
    const seen: string[] = [];
    watchJob('j1', { onJob: (j) => seen.push(j.state), eventSourceCtor: FakeEventSource as unknown as typeof EventSource });
    const es = FakeEventSource.last;
    expect(es.url).toBe('/api/jobs/j1/events');
    es.emit(job('queued'));
    es.emit(job('running', 0.5));
    es.emit(job('done', 1));
    expect(seen).toEqual(['queued', 'running', 'done']);
    expect(es.closed).toBe(true);
  });

  it('falls back to polling when the stream breaks', async () => {
    vi.useFakeTimers();
    const states = [job('running', 0.2), job('done', 1)];
    const fetchMock = vi.fn(async (_url: string) => new Response(JSON.stringify(states.shift()), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const seen: string[] = [];
    watchJob('j1', { onJob: (j) => seen.push(j.state), pollMs: 1000, eventSourceCtor: FakeEventSource as unknown as typeof EventSource });
    FakeEventSource.last.onerror?.();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['running']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual(['running', 'done']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(fetchMock.mock.calls[0][0]).toBe('/api/jobs/j1');
  });

  it('never delivers a step back: a late event is dropped, frame counts only grow', () => {
    const seen: (number | undefined)[] = [];
    watchJob('j1', { onJob: (j) => seen.push(j.framesDone), eventSourceCtor: FakeEventSource as unknown as typeof EventSource });
    const es = FakeEventSource.last;
    const at = (framesDone: number, updatedAt: string): Job => ({ ...job('running'), framesDone, framesTotal: 300, updatedAt });
    es.emit(at(100, '2026-01-01T10:00:01.000Z'));
    es.emit(at(200, '2026-01-01T10:00:03.000Z'));
    es.emit(at(150, '2026-01-01T10:00:02.000Z')); // arrived after the newer one
    es.emit(at(180, '2026-01-01T10:00:03.000Z')); // same time, fewer frames
    es.emit(at(300, '2026-01-01T10:00:04.000Z'));
    expect(seen).toEqual([100, 200, 200, 200, 300]);
  });

  it('stops delivering after the caller unsubscribes', () => {
    const seen: string[] = [];
    const stop = watchJob('j1', { onJob: (j) => seen.push(j.state), eventSourceCtor: FakeEventSource as unknown as typeof EventSource });
    stop();
    FakeEventSource.last.emit(job('running'));
    expect(seen).toEqual([]);
    expect(FakeEventSource.last.closed).toBe(true);
  });

  it('reports a deleted job once and stops', () => {
    const onDeleted = vi.fn();
    watchJob('j1', { onJob: () => undefined, onDeleted, eventSourceCtor: FakeEventSource as unknown as typeof EventSource });
    const es = FakeEventSource.last;
    for (const fn of es.listeners.deleted ?? []) fn({ data: '{"id":"j1"}' } as MessageEvent);
    es.onerror?.();
    expect(onDeleted).toHaveBeenCalledTimes(1);
    expect(es.closed).toBe(true);
  });
});

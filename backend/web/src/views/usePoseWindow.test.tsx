import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Video } from '../api/types';
import { PoseWindowCache } from '../pose/window';
import { usePoseWindow } from './usePoseWindow';

/** fetch answered like GET /api/videos/:id/pose?from&to on a 24 fps clip; every asked window is recorded. */
function poseApi({ partialUntil = 0 } = {}) {
  const asked: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    const q = new URL(url, 'http://x').searchParams;
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    asked.push(`${from}-${to}`);
    const frames = [];
    for (let i = Math.ceil(from * 24); i <= Math.floor(to * 24); i++) frames.push({ index: i, t: i / 24, persons: [] });
    return new Response(JSON.stringify({ videoId: 'v', fps: 24, width: 480, height: 270, riderTrackId: asked.length <= partialUntil ? null : 1, partial: asked.length <= partialUntil, frames }), { status: 200, headers: { 'content-type': 'application/json' } });
  }));
  return asked;
}
const video = (durationS: number) => ({ id: 'v', durationS, fps: 24 }) as unknown as Video;

afterEach(() => vi.unstubAllGlobals());

describe('usePoseWindow (issue 18/10)', () => {
  it('fetches the windows around the playhead as it advances, never the whole clip, and keeps a bounded set', async () => {
    const asked = poseApi();
    const cache = new PoseWindowCache(4);
    const { result } = renderHook(() => usePoseWindow(video(120), { cache, size: 10 }));
    await waitFor(() => expect(cache.size).toBe(1));
    expect(asked).toEqual(['0-10']); // the first load asks one window
    expect(result.current.pose?.frames[0].t).toBe(0);
    expect(result.current.isLoaded(5)).toBe(true);
    expect(result.current.isLoaded(15)).toBe(false);
    // Playing on: nothing asked until the next window is AHEAD_S (4 s) away, then it is, once.
    for (let t = 0; t < 5.9; t += 1 / 24) act(() => result.current.onTime(t));
    expect(asked).toHaveLength(1);
    for (let t = 6; t < 9; t += 1 / 24) act(() => result.current.onTime(t));
    await waitFor(() => expect(asked).toEqual(['0-10', '10-20']));
    // A seek into window 3: 3 and, near its start, 2; a jump to 55: 5 only. At most 4 windows stay, the wanted ones.
    act(() => result.current.onTime(30.5));
    await waitFor(() => expect(asked).toHaveLength(4));
    expect(asked.slice(2)).toEqual(['30-40', '20-30']);
    act(() => result.current.onTime(55));
    await waitFor(() => expect(asked).toHaveLength(5));
    expect(asked[4]).toBe('50-60');
    await waitFor(() => expect(result.current.isLoaded(55)).toBe(true));
    expect(cache.size).toBe(4);
    expect(cache.has(5)).toBe(true);
    expect(result.current.isLoaded(5)).toBe(false);
  });

  it('does not keep a window answered while the analysis still runs (partial): asked again when next wanted', async () => {
    const asked = poseApi({ partialUntil: 1 });
    const cache = new PoseWindowCache(4);
    const { result } = renderHook(() => usePoseWindow(video(120), { cache, size: 10 }));
    await waitFor(() => expect(asked).toEqual(['0-10']));
    await new Promise((r) => setTimeout(r, 20));
    expect(cache.size).toBe(0);
    expect(result.current.pose).toBeNull();
    expect(result.current.isLoaded(5)).toBe(false);
    // The playhead wants window 0 again (a seek away and back): now whole, kept and drawn.
    act(() => result.current.onTime(35));
    act(() => result.current.onTime(2));
    await waitFor(() => expect(result.current.isLoaded(5)).toBe(true));
    expect(asked.filter((w) => w === '0-10')).toHaveLength(2);
    expect(result.current.pose?.partial).toBe(false);
    expect(result.current.pose?.riderTrackId).toBe(1);
  });

  it('asks nothing when the caller has the pose whole', async () => {
    const asked = poseApi();
    const { result } = renderHook(() => usePoseWindow(video(120), { enabled: false }));
    act(() => result.current.onTime(50));
    await new Promise((r) => setTimeout(r, 20));
    expect(asked).toEqual([]);
    expect(result.current.pose).toBeNull();
  });
});

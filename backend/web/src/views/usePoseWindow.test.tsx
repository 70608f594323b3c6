import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Video } from '../api/types';
import { PoseWindowCache } from '../pose/window';
import { usePoseWindow } from './usePoseWindow';

/** fetch answered like GET /api/videos/:id/pose?from&to on a 24 fps clip; every asked window is recorded. */
function poseApi() {
  const asked: string[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string) => {
    const q = new URL(url, 'http://x').searchParams;
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    asked.push(`${from}-${to}`);
    const frames = [];
    for (let i = Math.ceil(from * 24); i <= Math.floor(to * 24); i++) frames.push({ index: i, t: i / 24, persons: [] });
    return new Response(JSON.stringify({ videoId: 'v', fps: 24, width: 480, height: 270, riderTrackId: 1, partial: false, frames }), { status: 200, headers: { 'content-type': 'application/json' } });
  }));
  return asked;
}
const video = (durationS: number) => ({ id: 'v', durationS, fps: 24 }) as unknown as Video;

afterEach(() => vi.unstubAllGlobals());

describe('usePoseWindow (issue 18/10)', () => {
  it('fetches the windows around the playhead as it advances, never the whole clip, and keeps a bounded set', async () => {
    const asked = poseApi();
    const cache = new PoseWindowCache(4);
    const { result } = renderHook(() => usePoseWindow(video(120), { cache }));
    await waitFor(() => expect(cache.size).toBe(3));
    expect(asked).toEqual(['0-10', '10-20', '20-30']);
    expect(result.current.pose?.frames[0].t).toBe(0);
    expect(result.current.isLoaded(25)).toBe(true);
    expect(result.current.isLoaded(35)).toBe(false);
    // Within the same window: nothing asked.
    act(() => result.current.onTime(5));
    act(() => result.current.onTime(9.9));
    expect(asked).toHaveLength(3);
    // Into window 3 (a seek): 3, 4, 5 asked (2 is kept); at most 4 windows stay, the wanted ones among them.
    act(() => result.current.onTime(35));
    await waitFor(() => expect(asked).toHaveLength(6));
    expect(asked.slice(3)).toEqual(['30-40', '40-50', '50-60']);
    await waitFor(() => expect(result.current.isLoaded(55)).toBe(true));
    expect(cache.size).toBe(4);
    expect(cache.keys().sort()).toEqual([2, 3, 4, 5]);
    expect(result.current.isLoaded(5)).toBe(false);
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

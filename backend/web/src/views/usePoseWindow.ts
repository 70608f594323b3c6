import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { getPoseWindow } from '../api/analysisActions';
import type { PoseResponse, Video } from '../api/types';
import { PoseWindowCache, wantKey, windowOf, windowRange, wantedWindows, WINDOW_S } from '../pose/window';

export interface PoseWindow {
  /** The frames of the windows fetched so far (null until the first arrived), in the player's PoseResponse shape. */
  pose: PoseResponse | null;
  /** Whether the frame at media time t has its pose here (false: its window is still on the way). */
  isLoaded: (t: number) => boolean;
  /**
   * Tell the hook where the playhead is; call it on every presented frame (the player's onFrame). It costs a
   * few arithmetic operations and a compare, no allocation: only a change of the wanted windows fetches, and only
   * a window's arrival re-renders.
   */
  onTime: (t: number) => void;
}

const durationOf = (v: Video) => v.durationS ?? v.probe?.durationS ?? null;

/**
 * The pose of a finished analysis, window by window (src/pose/window.ts): the window under the playhead, the next
 * one as the playhead nears it and the previous one near a window's start, each one GET /pose?from&to; at most MAX_WINDOWS are kept. A failed
 * or partial window (the job still running) is asked again the next time the playhead wants it. `enabled: false`
 * fetches nothing (pose stays null).
 */
export function usePoseWindow(video: Video, opts: { size?: number; cache?: PoseWindowCache; enabled?: boolean } = {}): PoseWindow {
  const size = opts.size ?? WINDOW_S;
  const enabled = opts.enabled ?? true;
  const duration = durationOf(video);
  const cache = useMemo(() => opts.cache ?? new PoseWindowCache(), [opts.cache]);
  const [pose, setPose] = useState<PoseResponse | null>(null);
  const current = useRef(-1); // wantKey of the last playhead position asked about
  const playhead = useRef(0);
  const inFlight = useRef(new Set<number>());
  const meta = useRef<Omit<PoseResponse, 'frames'> | null>(null);
  const alive = useRef(true);
  const videoId = video.id;

  const want = useCallback(
    (t: number) => {
      if (!enabled) return; // the caller has the pose whole (the share page)
      const wanted = wantedWindows(t, duration, { size });
      cache.touch(wanted);
      for (const k of wanted) {
        if (cache.has(k) || inFlight.current.has(k)) continue;
        inFlight.current.add(k);
        const { from, to } = windowRange(k, size);
        getPoseWindow(videoId, from, to).then(
          (answer) => {
            inFlight.current.delete(k);
            if (!alive.current) return;
            // A window read while the analysis still runs lacks the segments not finished yet, and its track ids are
            // provisional (the API does not let it be cached either): not kept, so it is asked again when next wanted.
            if (answer.partial) return;
            const { frames, ...rest } = answer;
            meta.current = rest;
            // Keep what the playhead wants now (it may have moved on while this window was on the way).
            cache.put(k, frames, wantedWindows(playhead.current, duration, { size }));
            setPose({ ...rest, frames: cache.frames as PoseResponse['frames'] });
          },
          () => inFlight.current.delete(k), // asked again when the playhead next wants it
        );
      }
    },
    [cache, duration, enabled, size, videoId],
  );

  useEffect(() => {
    alive.current = true;
    playhead.current = 0;
    current.current = wantKey(0, duration, { size });
    want(0);
    return () => {
      alive.current = false;
    };
  }, [duration, size, want]);

  const onTime = useCallback(
    (t: number) => {
      playhead.current = t;
      const k = wantKey(t, duration, { size });
      if (k === current.current) return;
      current.current = k;
      want(t);
    },
    [duration, size, want],
  );

  // A new function whenever the kept windows change (the player redraws on it), never per frame.
  const isLoaded = useMemo(() => {
    void pose; // rebuilt with the frames it describes
    return (t: number) => cache.has(windowOf(t, size));
  }, [cache, pose, size]);

  return { pose, isLoaded, onTime };
}

import { useCallback, useEffect, useRef, useState } from 'react';

/** While the video plays, the page under the player follows at most this often (15 times a second). */
export const FOLLOW_MS = 66;

/**
 * The playhead for the part of the page that follows the player (charts' cursor, the 3D pose, the frame line):
 * the player reports every presented frame, but re-rendering that part of the page on each one cost about three
 * times the main thread of the whole page otherwise and dropped playback of a 2-minute clip to ~45 fps
 * (e2e/perf.mjs). So updates are throttled to FOLLOW_MS, with a trailing one: the last frame reported (a pause, a
 * seek, a step) always lands within FOLLOW_MS. The callback it returns is stable and allocates nothing per frame.
 */
export function useFrameFollow(): { cursor: number; frameIdx: number; report: (t: number, idx: number) => void } {
  const [state, setState] = useState({ cursor: 0, frameIdx: -1 });
  const latest = useRef({ t: 0, idx: -1, last: -Infinity, timer: null as ReturnType<typeof setTimeout> | null });
  const flush = useCallback(() => {
    const l = latest.current;
    l.timer = null;
    l.last = performance.now();
    setState((s) => (s.cursor === l.t && s.frameIdx === l.idx ? s : { cursor: l.t, frameIdx: l.idx }));
  }, []);
  const report = useCallback(
    (t: number, idx: number) => {
      const l = latest.current;
      l.t = t;
      l.idx = idx;
      if (l.timer) return; // a trailing update is due and will carry this frame
      const wait = FOLLOW_MS - (performance.now() - l.last);
      if (wait <= 0) flush();
      else l.timer = setTimeout(flush, wait);
    },
    [flush],
  );
  useEffect(() => {
    const l = latest.current;
    return () => {
      if (l.timer) clearTimeout(l.timer);
    };
  }, []);
  return { cursor: state.cursor, frameIdx: state.frameIdx, report };
}

import { useCallback, useRef, useState } from 'react';
import { loopFrom, loopJump, loopTo, type LoopRange } from '../player/loop';

/** How far outside a loop's ends (s) a paused video may sit and still count as inside it. */
const EDGE = 0.002;

/**
 * A loop over part of a player's clip: its range (set from the frame on screen, switched on and off) and the jump back
 * that keeps playback inside it. The jump pauses on the loop's last frame (a playing video goes on presenting frames
 * while it seeks), seeks to its first and plays again once there; that pause and play are the loop's, not the user's,
 * so `jumping()` lets the player keep its controls from flickering.
 */
export function useLoopRange() {
  const [range, setRange] = useState<LoopRange | null>(null);
  const rangeRef = useRef(range);
  rangeRef.current = range;
  const jumping = useRef(false);

  /** At the presented frame at media time t: jump back to the loop's start if that frame is its last. */
  const jumpIfPast = useCallback((video: HTMLVideoElement, t: number) => {
    const back = loopJump(rangeRef.current, t, !video.paused);
    if (back === null) return false;
    jumping.current = true;
    video.pause();
    video.currentTime = back;
    return true;
  }, []);

  return {
    range,
    jumpIfPast,
    /** Whether the video's pause or seek is the loop's jump back. */
    jumping: () => jumping.current,
    /** After any seek: a jump back has landed, so play on. */
    afterSeek(video: HTMLVideoElement) {
      if (!jumping.current) return;
      jumping.current = false;
      void video.play().catch(() => undefined);
    },
    /** At the clip's end: a loop that runs to it starts again from its first frame. */
    atEnd(video: HTMLVideoElement) {
      const l = rangeRef.current;
      if (!l?.on) return;
      video.currentTime = l.a;
      void video.play().catch(() => undefined);
    },
    /** Before play: playing a loop starts inside it. */
    beforePlay(video: HTMLVideoElement) {
      const l = rangeRef.current;
      if (l?.on && (video.currentTime < l.a - EDGE || video.currentTime > l.b + EDGE)) video.currentTime = l.a;
    },
    /** Loop from the frame at t (to the current end, or the clip's end `end`). */
    setStart: (t: number, end: number) => setRange((l) => loopFrom(l, t, end)),
    /** Loop to the frame at t (from the current start, or the clip's start). */
    setEnd: (t: number) => setRange((l) => loopTo(l, t)),
    /** Switch the loop on or off; without one, loop the whole clip (0 to `end`). */
    toggle: (end: number) => setRange((l) => (l ? { ...l, on: !l.on } : { a: 0, b: end, on: true })),
  };
}

import { useEffect, type RefObject } from 'react';

/** Which clock drives the per-frame sync (written on the overlay as data-clock, for tests). */
export type FrameClock = 'video-frame-callback' | 'animation-frame';

export type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number;
  cancelVideoFrameCallback?: (h: number) => void;
};

/**
 * Per-frame sync with a video: `onPresented(t)` for every frame it presents, by requestVideoFrameCallback (the exact
 * presented frame's mediaTime); where the browser has none, by currentTime on every animation frame while playing
 * (the player draws seeks on 'seeked'). Each frame first goes to `jumpIfPast` (a loop's last frame jumps back instead
 * of being presented). `onClock` is told which clock runs. Subscribes again when `src` changes.
 */
export function useFrameClock(
  videoRef: RefObject<FrameCallbackVideo | null>,
  src: string,
  jumpIfPast: (video: HTMLVideoElement, t: number) => boolean,
  onPresented: (t: number) => void,
  onClock: (clock: FrameClock) => void,
) {
  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    let handle = 0;
    let raf = 0;
    let stopped = false;
    if (video.requestVideoFrameCallback) {
      onClock('video-frame-callback');
      const tick = (_now: number, meta: { mediaTime: number }) => {
        if (stopped) return;
        if (!jumpIfPast(video, meta.mediaTime)) onPresented(meta.mediaTime);
        handle = video.requestVideoFrameCallback!(tick);
      };
      handle = video.requestVideoFrameCallback(tick);
    } else {
      onClock('animation-frame');
      const loop = () => {
        if (stopped) return;
        if (!jumpIfPast(video, video.currentTime) && !video.paused) onPresented(video.currentTime);
        raf = requestAnimationFrame(loop);
      };
      raf = requestAnimationFrame(loop);
    }
    return () => {
      stopped = true;
      if (handle && video.cancelVideoFrameCallback) video.cancelVideoFrameCallback(handle);
      if (raf) cancelAnimationFrame(raf);
    };
  }, [videoRef, src, jumpIfPast, onPresented, onClock]);
}

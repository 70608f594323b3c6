import { useCallback, useEffect, useState, type RefObject } from 'react';

type AppleVideo = HTMLVideoElement & { webkitEnterFullscreen?: () => void; webkitDisplayingFullscreen?: boolean };

/**
 * Fullscreen for the whole player (picture, overlays and controls), by the Fullscreen API; where only the video can
 * go fullscreen (Safari on iPhone), the video alone, with the system's own controls.
 */
export function useFullscreen(target: RefObject<HTMLElement | null>, video: RefObject<HTMLVideoElement | null>) {
  const [active, setActive] = useState(false);
  useEffect(() => {
    const onChange = () => setActive(!!target.current && document.fullscreenElement === target.current);
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, [target]);
  const toggle = useCallback(() => {
    const el = target.current;
    if (!el) return;
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
    } else if (typeof el.requestFullscreen === 'function') {
      void el.requestFullscreen({ navigationUI: 'hide' }).catch(() => undefined);
    } else {
      (video.current as AppleVideo | null)?.webkitEnterFullscreen?.();
    }
  }, [target, video]);
  return { active, toggle };
}

import { useEffect, useRef, useState } from 'react';
import { streamUrl } from '../api/client';

/**
 * First-frame thumbnail: a metadata-only <video> seeked to 0.1 s and drawn to a canvas.
 * Loads only once the card scrolls near the viewport.
 */
export function Thumbnail({ videoId, label }: { videoId: string; label: string }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<'idle' | 'loading' | 'ready' | 'error'>('idle');

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    let video: HTMLVideoElement | null = null;
    let cancelled = false;
    const start = () => {
      if (video || cancelled) return;
      setState('loading');
      video = document.createElement('video');
      video.muted = true;
      video.preload = 'metadata';
      video.playsInline = true;
      video.addEventListener('loadedmetadata', () => {
        if (video) video.currentTime = Math.min(0.1, (video.duration || 1) / 2);
      });
      video.addEventListener('seeked', () => {
        if (cancelled || !video) return;
        const ctx = canvas.getContext('2d');
        if (!ctx || !video.videoWidth) return setState('error');
        canvas.width = 320;
        canvas.height = Math.round((320 * video.videoHeight) / video.videoWidth);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        setState('ready');
        video.removeAttribute('src');
        video.load();
      });
      video.addEventListener('error', () => !cancelled && setState('error'));
      video.src = streamUrl(videoId);
    };
    let io: IntersectionObserver | null = null;
    if (typeof IntersectionObserver !== 'undefined') {
      io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && start(), { rootMargin: '200px' });
      io.observe(canvas);
    } else {
      start();
    }
    return () => {
      cancelled = true;
      io?.disconnect();
      if (video) {
        video.removeAttribute('src');
        video.load();
      }
    };
  }, [videoId]);

  return (
    <div className={`thumb thumb-${state}`}>
      <canvas ref={canvasRef} role="img" aria-label={`First frame of ${label}`} />
      {state !== 'ready' && (
        <div className="thumb-placeholder" aria-hidden="true">
          {state === 'error' ? 'No preview' : ''}
        </div>
      )}
    </div>
  );
}

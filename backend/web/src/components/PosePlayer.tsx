import { forwardRef, useCallback, useEffect, useImperativeHandle, useRef, useState } from 'react';
import type { PoseResponse, SpriteLayout } from '../api/types';
import { formatClock } from '../format';
import { drawSkeleton, fitContain, frameAtTime, projectKeypoints, riderOf, stepTarget } from '../pose/skeleton';

export const SPEEDS = [0.25, 0.5, 0.75, 1, 1.5, 2] as const;

export interface PosePlayerHandle {
  video: HTMLVideoElement | null;
  seek: (t: number) => void;
}

interface Props {
  src: string;
  pose: PoseResponse | null;
  label: string;
  /** Called on every presented frame (and on seeks) with the media time and nearest pose frame index. */
  onFrame?: (t: number, frameIndex: number) => void;
  showControls?: boolean;
  showSkeleton: boolean;
  onToggleSkeleton?: (v: boolean) => void;
  /** Extra hooks for a parent that drives playback (comparison). */
  onPlayState?: (playing: boolean) => void;
  onLoadedDuration?: (d: number) => void;
  /** The video's display size (rotation applied), to size the stage before the browser has loaded it. */
  displaySize?: { width: number | null; height: number | null };
  /** Scrub previews: the sprite strip and its layout, when the ingest made one. */
  sprite?: { url: string; layout: SpriteLayout } | null;
  /** Partial results (a running analysis): whether the frame at media time t has its pose yet; if not, no
   * skeleton is drawn and "analysing…" shows over the video. */
  isAnalysed?: (t: number) => boolean;
  /** The score a joint needs to be drawn solid (the metrics' summary.joint_score_min); below, faded or hidden. */
  jointScoreMin?: number;
}

type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number;
  cancelVideoFrameCallback?: (h: number) => void;
};

/** Video with the rider's 2D skeleton drawn on a canvas in sync with the presented frame. */
export const PosePlayer = forwardRef<PosePlayerHandle, Props>(function PosePlayer(
  { src, pose, label, onFrame, showControls = true, showSkeleton, onToggleSkeleton, onPlayState, onLoadedDuration, displaySize, sprite, isAnalysed, jointScoreMin },
  ref,
) {
  const videoRef = useRef<FrameCallbackVideo>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);
  const [speed, setSpeed] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const [waiting, setWaiting] = useState(true);
  const [preview, setPreview] = useState<{ x: number; t: number } | null>(null);
  const [pending, setPending] = useState(false);
  const lastTime = useRef(0);
  const lastPending = useRef(false);
  const props = useRef({ pose, showSkeleton, onFrame, isAnalysed, jointScoreMin });
  props.current = { pose, showSkeleton, onFrame, isAnalysed, jointScoreMin };

  const fps = pose?.fps || 30;

  /** Draw the pose of the frame on screen at media time t (by the frames' true times). */
  const draw = useCallback((t: number) => {
    lastTime.current = t;
    const canvas = canvasRef.current;
    const video = videoRef.current;
    const { pose: p, showSkeleton: on, onFrame: cb, isAnalysed: analysed, jointScoreMin: minScore } = props.current;
    if (!canvas || !video) return;
    const notYet = analysed ? !analysed(t) : false;
    if (notYet !== lastPending.current) {
      lastPending.current = notYet;
      setPending(notYet);
    }
    const w = video.clientWidth;
    const h = video.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    const idx = p && !notYet ? frameAtTime(p.frames, t) : -1;
    canvas.dataset.frameIndex = String(idx);
    canvas.dataset.mediaTime = t.toFixed(6);
    if (ctx) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      const person = p && idx >= 0 ? riderOf(p.frames[idx], p.riderTrackId) : null;
      if (on && person && p) {
        // Keypoints are pixels of the frame as displayed (rotation applied), the same size the rendition plays at.
        const fit = fitContain(p.width || video.videoWidth, p.height || video.videoHeight, w, h);
        const counts = drawSkeleton(ctx, projectKeypoints(person.keypoints, fit, minScore), Math.max(2, Math.min(5, fit.width / 160)));
        // For tests and tools: how many joints this frame drew solid, faded, or not at all.
        canvas.dataset.joints = `seen:${counts.seen},unsure:${counts.unsure},hidden:${counts.hidden}`;
      } else {
        delete canvas.dataset.joints;
      }
    }
    cb?.(t, idx);
  }, []);

  // Per-frame sync: requestVideoFrameCallback gives the exact presented frame's mediaTime.
  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    let handle = 0;
    let raf = 0;
    let stopped = false;
    if (video.requestVideoFrameCallback) {
      if (canvasRef.current) canvasRef.current.dataset.clock = 'video-frame-callback';
      const tick = (_now: number, meta: { mediaTime: number }) => {
        if (stopped) return;
        draw(meta.mediaTime);
        setTime(meta.mediaTime);
        handle = video.requestVideoFrameCallback!(tick);
      };
      handle = video.requestVideoFrameCallback(tick);
    } else {
      // No per-frame callback: follow currentTime every animation frame while playing (seeks draw on 'seeked').
      if (canvasRef.current) canvasRef.current.dataset.clock = 'animation-frame';
      const loop = () => {
        if (stopped) return;
        if (!video.paused) {
          draw(video.currentTime);
          setTime(video.currentTime);
        }
        raf = requestAnimationFrame(loop);
      };
      raf = requestAnimationFrame(loop);
    }
    return () => {
      stopped = true;
      if (handle && video.cancelVideoFrameCallback) video.cancelVideoFrameCallback(handle);
      if (raf) cancelAnimationFrame(raf);
    };
  }, [draw, src]);

  // Redraw when the overlay toggles, pose data arrives or the element is resized.
  useEffect(() => draw(lastTime.current), [draw, pose, showSkeleton, isAnalysed]);
  useEffect(() => {
    const video = videoRef.current;
    if (!video || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => draw(lastTime.current));
    ro.observe(video);
    return () => ro.disconnect();
  }, [draw]);

  useEffect(() => {
    if (videoRef.current) videoRef.current.playbackRate = speed;
  }, [speed]);

  const seek = useCallback((t: number) => {
    const v = videoRef.current;
    if (!v) return;
    const d = Number.isFinite(v.duration) ? v.duration : t;
    v.currentTime = Math.max(0, Math.min(d, t));
  }, []);

  useImperativeHandle(ref, () => ({ get video() { return videoRef.current; }, seek }), [seek]);

  const step = (dir: 1 | -1) => {
    const v = videoRef.current;
    if (!v) return;
    v.pause();
    // By the frames' true times (variable frame rate), landing inside the neighbouring frame.
    seek(stepTarget(props.current.pose?.frames ?? [], v.currentTime, dir, fps));
  };

  const toggle = () => {
    const v = videoRef.current;
    if (!v) return;
    if (v.paused) void v.play().catch(() => undefined);
    else v.pause();
  };

  const onKey = (e: React.KeyboardEvent) => {
    const target = e.target as HTMLElement;
    if (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'BUTTON') return;
    if (e.key === ' ' || e.key === 'k') {
      e.preventDefault();
      toggle();
    } else if (e.key === ',' || e.key === 'ArrowLeft') {
      e.preventDefault();
      step(-1);
    } else if (e.key === '.' || e.key === 'ArrowRight') {
      e.preventDefault();
      step(1);
    } else if (e.key === 's' && onToggleSkeleton) {
      onToggleSkeleton(!showSkeleton);
    }
  };

  return (
    <div className="player" onKeyDown={onKey}>
      <div
        className="player-stage"
        style={displaySize?.width && displaySize.height ? { aspectRatio: `${displaySize.width} / ${displaySize.height}` } : undefined}
        tabIndex={0} aria-label={`${label} video. Space plays or pauses, arrow keys step one frame.`} onClick={toggle}>
        <video
          ref={videoRef}
          src={src}
          preload="auto"
          playsInline
          muted
          onPlay={() => {
            setPlaying(true);
            onPlayState?.(true);
          }}
          onPause={() => {
            setPlaying(false);
            onPlayState?.(false);
          }}
          onLoadedMetadata={(e) => {
            const d = e.currentTarget.duration;
            setDuration(Number.isFinite(d) ? d : 0);
            if (Number.isFinite(d)) onLoadedDuration?.(d);
            e.currentTarget.playbackRate = speed;
          }}
          onLoadedData={(e) => {
            setWaiting(false);
            draw(e.currentTarget.currentTime);
          }}
          onSeeked={(e) => {
            draw(e.currentTarget.currentTime);
            setTime(e.currentTarget.currentTime);
          }}
          onTimeUpdate={(e) => setTime(e.currentTarget.currentTime)}
          onWaiting={() => setWaiting(true)}
          onPlaying={() => setWaiting(false)}
          onError={() => setError('This video could not be played. The file may be missing or in a format this browser cannot decode.')}
        />
        <canvas ref={canvasRef} className="overlay" aria-hidden="true" data-testid="skeleton-canvas" />
        {pending && !error && (
          <div className="player-analysing" data-testid="analysing-overlay">
            <span className="spinner" aria-hidden="true" />
            analysing…
          </div>
        )}
        {waiting && !error && <span className="spinner player-spinner" aria-hidden="true" />}
        {error && (
          <div className="player-error" role="alert">
            {error}
          </div>
        )}
        {!playing && !error && !waiting && (
          <span className="play-badge" aria-hidden="true">
            ▶
          </span>
        )}
      </div>
      {showControls && (
        <div className="controls" role="group" aria-label={`${label} playback`}>
          <button type="button" className="btn btn-icon" onClick={toggle} aria-label={playing ? 'Pause' : 'Play'}>
            {playing ? '❚❚' : '▶'}
          </button>
          <button type="button" className="btn btn-icon" onClick={() => step(-1)} aria-label="Previous frame" title="Previous frame (,)">
            ‹
          </button>
          <button type="button" className="btn btn-icon" onClick={() => step(1)} aria-label="Next frame" title="Next frame (.)">
            ›
          </button>
          <div className="scrubber-wrap">
          {sprite && preview && <ScrubPreview sprite={sprite} at={preview} />}
          <input
            className="scrubber"
            type="range"
            min={0}
            max={duration || 0}
            step={1 / fps}
            value={Math.min(time, duration || 0)}
            onChange={(e) => seek(Number(e.target.value))}
            onPointerMove={(e) => {
              if (!sprite || !duration) return;
              const r = e.currentTarget.getBoundingClientRect();
              const x = Math.max(0, Math.min(r.width, e.clientX - r.left));
              setPreview({ x, t: (x / r.width) * duration });
            }}
            onPointerLeave={() => setPreview(null)}
            aria-label="Position"
            aria-valuetext={`${formatClock(time)} of ${formatClock(duration)}`}
          />
          </div>
          <span className="time small" aria-hidden="true">
            {formatClock(time)} / {formatClock(duration)}
          </span>
          <label className="speed small">
            <span className="visually-hidden">Playback speed</span>
            <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Playback speed">
              {SPEEDS.map((s) => (
                <option key={s} value={s}>
                  {s}×
                </option>
              ))}
            </select>
          </label>
          {onToggleSkeleton && (
            <label className="toggle small">
              <input type="checkbox" checked={showSkeleton} onChange={(e) => onToggleSkeleton(e.target.checked)} />
              <span>Skeleton</span>
            </label>
          )}
        </div>
      )}
    </div>
  );
});

/** The sprite tile for the time under the pointer, shown above the scrubber. */
function ScrubPreview({ sprite, at }: { sprite: { url: string; layout: SpriteLayout }; at: { x: number; t: number } }) {
  const { layout } = sprite;
  const i = Math.max(0, frameAtTime(layout.times.map((t) => ({ t })), at.t));
  const col = i % layout.columns;
  const row = Math.floor(i / layout.columns);
  return (
    <div
      className="scrub-preview"
      data-testid="scrub-preview"
      data-tile={i}
      aria-hidden="true"
      style={{
        left: at.x,
        width: layout.tileWidth,
        height: layout.tileHeight,
        backgroundImage: `url("${sprite.url}")`,
        backgroundPosition: `-${col * layout.tileWidth}px -${row * layout.tileHeight}px`,
      }}
    >
      <span>{formatClock(at.t)}</span>
    </div>
  );
}

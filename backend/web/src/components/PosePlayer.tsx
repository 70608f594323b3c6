import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import type { PoseResponse, SpriteLayout } from '../api/types';
import { DrawingLayer } from '../drawing/DrawingLayer';
import { DrawingTools } from '../drawing/DrawingTools';
import { drawingsAt } from '../drawing/model';
import type { DrawingController } from '../drawing/useDrawings';
import { formatClock } from '../format';
import { IDENTITY_VIEW, panBy, stagePoint, viewTransform, zoomAt, type View } from '../player/geometry';
import { loopFrom, loopJump, loopTo, type LoopRange } from '../player/loop';
import { useFullscreen } from '../player/useFullscreen';
import { drawSkeleton, fitContain, frameAtTime, projectKeypoints, riderOf, stepTarget } from '../pose/skeleton';
import '../player/player.css';

/** Playback rates: slow motion from 0.1× to 1×, then faster. */
export const SPEEDS = [0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2] as const;


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
  /** Line and angle marks over the paused frame (the analysis view's; none in comparisons). */
  drawing?: DrawingController;
}

type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, meta: { mediaTime: number }) => void) => number;
  cancelVideoFrameCallback?: (h: number) => void;
};

/** Video with the rider's 2D skeleton drawn on a canvas in sync with the presented frame. */
export const PosePlayer = forwardRef<PosePlayerHandle, Props>(function PosePlayer(
  { src, pose, label, onFrame, showControls = true, showSkeleton, onToggleSkeleton, onPlayState, onLoadedDuration, displaySize, sprite, isAnalysed, jointScoreMin, drawing },
  ref,
) {
  const videoRef = useRef<FrameCallbackVideo>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const playerRef = useRef<HTMLDivElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<View>(IDENTITY_VIEW);
  const viewRef = useRef(view);
  viewRef.current = view;
  const [loop, setLoop] = useState<LoopRange | null>(null);
  const loopRef = useRef(loop);
  loopRef.current = loop;
  const [frameT, setFrameT] = useState<number | null>(null);
  // The clip's own shape, as the browser decodes it (rotation applied): portrait clips get a portrait stage.
  const [loaded, setNatural] = useState<{ src: string; width: number; height: number } | null>(null);
  const natural = loaded?.src === src ? loaded : null;
  const fullscreen = useFullscreen(playerRef, videoRef);
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
    // Sharp when zoomed (the layer is scaled by CSS), within a bounded backing store.
    const dpr = Math.min(4, (window.devicePixelRatio || 1) * viewRef.current.zoom);
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    const idx = p && !notYet ? frameAtTime(p.frames, t) : -1;
    canvas.dataset.frameIndex = String(idx);
    setFrameT(p && idx >= 0 ? p.frames[idx].t : null);
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

  /**
   * A loop's jump back: pause on its last frame (a playing video goes on presenting frames while it seeks), seek to
   * its first, play again once there. The pause and play are the loop's, not the user's: the controls do not flicker.
   */
  const loopJumping = useRef(false);
  const jumpBack = useCallback((video: HTMLVideoElement, to: number) => {
    loopJumping.current = true;
    video.pause();
    video.currentTime = to;
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
        const back = loopJump(loopRef.current, meta.mediaTime, !video.paused);
        if (back !== null) {
          jumpBack(video, back);
          handle = video.requestVideoFrameCallback!(tick);
          return;
        }
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
        const back = loopJump(loopRef.current, video.currentTime, !video.paused);
        if (back !== null) jumpBack(video, back);
        else if (!video.paused) {
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
  }, [draw, src, jumpBack]);

  // Redraw when the overlay toggles, pose data arrives, the zoom changes or the element is resized.
  useEffect(() => draw(lastTime.current), [draw, pose, showSkeleton, isAnalysed, view.zoom]);
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

  /** The time of the frame on screen (the pose frame's own time; the media time without pose data). */
  const currentFrameTime = () => {
    const v = videoRef.current;
    const frames = props.current.pose?.frames ?? [];
    const i = v ? frameAtTime(frames, v.currentTime) : -1;
    return i >= 0 ? frames[i].t : (v?.currentTime ?? 0);
  };
  const clipEnd = () => {
    const v = videoRef.current;
    return v && Number.isFinite(v.duration) ? v.duration : duration;
  };
  const setLoopStart = () => {
    const t = currentFrameTime();
    setLoop((l) => loopFrom(l, t, clipEnd()));
  };
  const setLoopEnd = () => {
    const t = currentFrameTime();
    setLoop((l) => loopTo(l, t));
  };
  const toggleLoop = () => setLoop((l) => (l ? { ...l, on: !l.on } : { a: 0, b: clipEnd(), on: true }));

  // Zoom: around a stage point (the pointer, a pinch's centre) or the stage's centre (buttons, keys).
  const stageBox = () => ({ w: stageRef.current?.clientWidth ?? 0, h: stageRef.current?.clientHeight ?? 0 });
  const zoomBy = useCallback((factor: number, at?: { x: number; y: number }) => {
    const { w, h } = stageBox();
    setView((v) => zoomAt(v, factor, at ?? { x: w / 2, y: h / 2 }, w, h));
  }, []);
  const resetZoom = () => setView(IDENTITY_VIEW);

  // Wheel (and a trackpad's pinch, which arrives as a wheel with ctrlKey) zooms at the pointer. Not passive: the
  // page must not scroll while the picture zooms.
  useEffect(() => {
    const stage = stageRef.current;
    if (!stage) return;
    const onWheel = (e: WheelEvent) => {
      if (e.deltaY === 0) return;
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 16 : 1;
      zoomBy(Math.exp((-e.deltaY * unit * (e.ctrlKey ? 0.01 : 0.002))), stagePoint(stage, e));
    };
    stage.addEventListener('wheel', onWheel, { passive: false });
    return () => stage.removeEventListener('wheel', onWheel);
  }, [zoomBy]);

  // Touch and mouse on the picture: two pointers pinch-zoom (and pan with their centre), one pans when zoomed; a tap
  // without movement plays or pauses (the click).
  const pointers = useRef(new Map<number, { x: number; y: number }>());
  const gesture = useRef<{ moved: boolean; pinch: { dist: number; mid: { x: number; y: number }; view: View } | null }>({ moved: false, pinch: null });
  const local = (e: React.PointerEvent) => stagePoint(stageRef.current!, e);
  const pinchOf = () => {
    const [p, q] = [...pointers.current.values()];
    return { dist: Math.hypot(p.x - q.x, p.y - q.y), mid: { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 } };
  };
  const onPointerDown = (e: React.PointerEvent) => {
    if (e.button > 0) return;
    pointers.current.set(e.pointerId, local(e));
    if (pointers.current.size === 1) gesture.current = { moved: false, pinch: null };
    if (pointers.current.size === 2) {
      gesture.current.pinch = { ...pinchOf(), view: viewRef.current };
      gesture.current.moved = true;
    }
    if (pointers.current.size <= 2) e.currentTarget.setPointerCapture?.(e.pointerId);
  };
  const onPointerMove = (e: React.PointerEvent) => {
    const prev = pointers.current.get(e.pointerId);
    if (!prev) return;
    const now = local(e);
    pointers.current.set(e.pointerId, now);
    const { w, h } = stageBox();
    const g = gesture.current;
    if (g.pinch && pointers.current.size >= 2) {
      const { dist, mid } = pinchOf();
      const zoomed = zoomAt(g.pinch.view, dist / Math.max(1, g.pinch.dist), g.pinch.mid, w, h);
      setView(panBy(zoomed, mid.x - g.pinch.mid.x, mid.y - g.pinch.mid.y, w, h));
    } else if (pointers.current.size === 1) {
      const dx = now.x - prev.x;
      const dy = now.y - prev.y;
      if (viewRef.current.zoom > 1 && (dx !== 0 || dy !== 0)) {
        setView((v) => panBy(v, dx, dy, w, h));
        // A tap wobbles by a pixel or two; a drag (a pan) is not a tap: it does not play or pause.
        if (Math.hypot(dx, dy) > 2) g.moved = true;
      }
    }
  };
  const onPointerEnd = (e: React.PointerEvent) => {
    pointers.current.delete(e.pointerId);
    if (pointers.current.size < 2) gesture.current.pinch = null;
  };

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
    if (v.paused) {
      // Playing a loop starts inside it.
      const l = loopRef.current;
      if (l?.on && (v.currentTime < l.a - 0.002 || v.currentTime > l.b + 0.002)) v.currentTime = l.a;
      void v.play().catch(() => undefined);
    } else v.pause();
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
    } else if (e.key === 'f') {
      e.preventDefault();
      fullscreen.toggle();
    } else if (e.key === '+' || e.key === '=') {
      e.preventDefault();
      zoomBy(1.25);
    } else if (e.key === '-') {
      e.preventDefault();
      zoomBy(0.8);
    } else if (e.key === '0') {
      e.preventDefault();
      resetZoom();
    } else if (e.key === '[') {
      setLoopStart();
    } else if (e.key === ']') {
      setLoopEnd();
    } else if (e.key === 'l') {
      toggleLoop();
    } else if (e.key === 'Escape' && drawing?.tool) {
      drawing.setTool(null);
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && drawing?.selectedId && !drawing.readOnly) {
      e.preventDefault();
      drawing.remove(drawing.selectedId);
    }
  };

  const frameW = pose?.width || natural?.width || displaySize?.width || 16;
  const frameH = pose?.height || natural?.height || displaySize?.height || 9;
  const shape = natural ?? (pose?.width && pose.height ? pose : null) ?? (displaySize?.width && displaySize.height ? displaySize : null);
  const ratio = shape ? shape.width! / shape.height! : 16 / 9;
  const shown = useMemo(() => {
    if (!drawing) return [];
    return frameT !== null ? drawing.items.filter((d) => d.t === frameT) : drawingsAt(drawing.items, time, fps);
  }, [drawing, frameT, time, fps]);
  const pauseForDrawing = () => videoRef.current?.pause();
  const zoomed = view.zoom > 1.001;

  return (
    <div className={`player${fullscreen.active ? ' is-fullscreen' : ''}`} ref={playerRef} onKeyDown={onKey} data-testid="player">
      <div
        ref={stageRef}
        className={`player-stage${zoomed ? ' is-zoomed' : ''}${drawing?.tool ? ' is-drawing' : ''}`}
        style={{ ['--ratio' as string]: String(ratio), aspectRatio: String(ratio) }}
        data-ratio={ratio.toFixed(4)}
        data-zoom={view.zoom.toFixed(3)}
        role="group"
        tabIndex={0}
        aria-label={`${label} video. Space plays or pauses, arrow keys step one frame, F fullscreen, + and − zoom, 0 resets the zoom, [ and ] set a loop, L loops.`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerEnd}
        onPointerCancel={onPointerEnd}
        onClick={() => {
          if (!gesture.current.moved) toggle();
          gesture.current.moved = false;
        }}>
        <div className="player-zoom" style={{ transform: viewTransform(view) }} data-testid="zoom-layer">
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
            if (loopJumping.current) return;
            setPlaying(false);
            onPlayState?.(false);
          }}
          onLoadedMetadata={(e) => {
            const d = e.currentTarget.duration;
            setDuration(Number.isFinite(d) ? d : 0);
            if (Number.isFinite(d)) onLoadedDuration?.(d);
            e.currentTarget.playbackRate = speed;
            const { videoWidth, videoHeight } = e.currentTarget;
            if (videoWidth > 0 && videoHeight > 0) setNatural({ src, width: videoWidth, height: videoHeight });
          }}
          onLoadedData={(e) => {
            setWaiting(false);
            draw(e.currentTarget.currentTime);
          }}
          onSeeked={(e) => {
            if (loopJumping.current) {
              loopJumping.current = false;
              void e.currentTarget.play().catch(() => undefined);
            }
            draw(e.currentTarget.currentTime);
            setTime(e.currentTarget.currentTime);
          }}
          onTimeUpdate={(e) => setTime(e.currentTarget.currentTime)}
          onEnded={(e) => {
            // A loop that runs to the clip's end starts again from its first frame.
            const l = loopRef.current;
            if (l?.on) {
              e.currentTarget.currentTime = l.a;
              void e.currentTarget.play().catch(() => undefined);
            }
          }}
          onWaiting={() => setWaiting(true)}
          onPlaying={() => setWaiting(false)}
          onError={() => setError('This video could not be played. The file may be missing or in a format this browser cannot decode.')}
        />
        <canvas ref={canvasRef} className="overlay" aria-hidden="true" data-testid="skeleton-canvas" />
        {drawing && (
          <DrawingLayer ctl={drawing} shown={shown} frameT={frameT ?? time} frameW={frameW} frameH={frameH} view={view} stageRef={stageRef} onBeforeDraw={pauseForDrawing} />
        )}
        </div>
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
        <div className="controls player-controls" role="group" aria-label={`${label} playback`}>
          <div className="scrubber-wrap">
            {sprite && preview && <ScrubPreview sprite={sprite} at={preview} />}
            {loop && duration > 0 && (
              <span
                className={`loop-band${loop.on ? ' is-on' : ''}`}
                data-testid="loop-band"
                aria-hidden="true"
                style={{ left: `${(loop.a / duration) * 100}%`, width: `${(Math.max(0, loop.b - loop.a) / duration) * 100}%` }}
              />
            )}
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
          <div className="control-row">
            <button type="button" className="btn btn-icon" onClick={toggle} aria-label={playing ? 'Pause' : 'Play'}>
              {playing ? '❚❚' : '▶'}
            </button>
            <button type="button" className="btn btn-icon" onClick={() => step(-1)} aria-label="Previous frame" title="Previous frame (,)">
              ‹
            </button>
            <button type="button" className="btn btn-icon" onClick={() => step(1)} aria-label="Next frame" title="Next frame (.)">
              ›
            </button>
            <span className="time small" aria-hidden="true">
              {formatClock(time)} / {formatClock(duration)}
            </span>
            <label className="speed small">
              <span className="visually-hidden">Playback speed</span>
              <select value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Playback speed" title="Playback speed (slow motion below 1×)">
                {SPEEDS.map((s) => (
                  <option key={s} value={s}>
                    {s}×
                  </option>
                ))}
              </select>
            </label>
            <span className="control-group" role="group" aria-label="Loop">
              <button type="button" className="btn btn-sm" onClick={setLoopStart} title="Loop from this frame ([)">
                Loop start
              </button>
              <button type="button" className="btn btn-sm" onClick={setLoopEnd} title="Loop to this frame (])">
                Loop end
              </button>
              <button type="button" className="btn btn-sm" onClick={toggleLoop} aria-pressed={!!loop?.on} data-testid="loop-toggle" title="Loop (L)">
                Loop{loop ? ` ${formatClock(loop.a)}–${formatClock(loop.b)}` : ''}
              </button>
            </span>
            <span className="control-group" role="group" aria-label="Zoom">
              <button type="button" className="btn btn-icon" onClick={() => zoomBy(0.8)} aria-label="Zoom out" title="Zoom out (−)" disabled={!zoomed}>
                −
              </button>
              <button type="button" className="btn btn-sm" onClick={resetZoom} title="Reset zoom (0)" disabled={!zoomed}>
                Reset zoom
              </button>
              <span className="zoom-level small" data-testid="zoom-level">
                {view.zoom.toFixed(1)}×
              </span>
              <button type="button" className="btn btn-icon" onClick={() => zoomBy(1.25)} aria-label="Zoom in" title="Zoom in (+; or pinch, or the mouse wheel)">
                +
              </button>
            </span>
            <button type="button" className="btn btn-sm" onClick={fullscreen.toggle} aria-pressed={fullscreen.active} title="Fullscreen (F)">
              {fullscreen.active ? 'Exit fullscreen' : 'Fullscreen'}
            </button>
            {onToggleSkeleton && (
              <label className="toggle small">
                <input type="checkbox" checked={showSkeleton} onChange={(e) => onToggleSkeleton(e.target.checked)} />
                <span>Skeleton</span>
              </label>
            )}
          </div>
          {drawing && <DrawingTools ctl={drawing} shown={shown} />}
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

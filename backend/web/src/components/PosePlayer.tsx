import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import type { PoseResponse, SpriteLayout } from '../api/types';
import { DrawingLayer } from '../drawing/DrawingLayer';
import { drawingsAt } from '../drawing/model';
import type { DrawingController } from '../drawing/useDrawings';
import { useFrameClock, type FrameCallbackVideo, type FrameClock } from '../hooks/useFrameClock';
import { useLoopRange } from '../hooks/useLoopRange';
import { usePlayerZoom } from '../hooks/usePlayerZoom';
import { viewTransform } from '../player/geometry';
import { useFullscreen } from '../player/useFullscreen';
import { frameRate } from '../pose/frameRate';
import { frameAtTime, stepTarget } from '../pose/skeleton';
import { PlayerControls } from './PlayerControls';
import { paintOverlay } from './poseOverlay';
import '../player/player.css';

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

/**
 * Video with the rider's 2D skeleton drawn on a canvas in sync with the presented frame. The parts: the frame clock
 * (useFrameClock), zoom and pan (usePlayerZoom), the loop (useLoopRange), the overlay's painting (poseOverlay) and the
 * controls (PlayerControls); this component holds the playback state, the video's events and the keys.
 */
export const PosePlayer = forwardRef<PosePlayerHandle, Props>(function PosePlayer(
  { src, pose, label, onFrame, showControls = true, showSkeleton, onToggleSkeleton, onPlayState, onLoadedDuration, displaySize, sprite, isAnalysed, jointScoreMin, drawing },
  ref,
) {
  const videoRef = useRef<FrameCallbackVideo>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const playerRef = useRef<HTMLDivElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const zoom = usePlayerZoom(stageRef);
  const { view } = zoom;
  const loop = useLoopRange();
  const { jumpIfPast } = loop;
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
  const [pending, setPending] = useState(false);
  const lastTime = useRef(0);
  const lastPending = useRef(false);
  const props = useRef({ pose, showSkeleton, onFrame, isAnalysed, jointScoreMin, zoom: view.zoom });
  props.current = { pose, showSkeleton, onFrame, isAnalysed, jointScoreMin, zoom: view.zoom };

  const fps = useMemo(() => frameRate(pose), [pose]); // fps null: measured from the frame times

  /** Draw the pose of the frame on screen at media time t (by the frames' true times). */
  const draw = useCallback((t: number) => {
    lastTime.current = t;
    const canvas = canvasRef.current;
    const video = videoRef.current;
    const { pose: p, showSkeleton: on, onFrame: cb, isAnalysed: analysed, jointScoreMin: minScore, zoom: z } = props.current;
    if (!canvas || !video) return;
    const notYet = analysed ? !analysed(t) : false;
    if (notYet !== lastPending.current) {
      lastPending.current = notYet;
      setPending(notYet);
    }
    const idx = p && !notYet ? frameAtTime(p.frames, t) : -1;
    setFrameT(p && idx >= 0 ? p.frames[idx].t : null);
    paintOverlay(canvas, video, { pose: p, index: idx, t, showSkeleton: on, zoom: z, jointScoreMin: minScore });
    cb?.(t, idx);
  }, []);

  const presented = useCallback(
    (t: number) => {
      draw(t);
      setTime(t);
    },
    [draw],
  );
  const markClock = useCallback((clock: FrameClock) => {
    if (canvasRef.current) canvasRef.current.dataset.clock = clock;
  }, []);
  useFrameClock(videoRef, src, jumpIfPast, presented, markClock);

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
  const setLoopStart = () => loop.setStart(currentFrameTime(), clipEnd());
  const setLoopEnd = () => loop.setEnd(currentFrameTime());
  const toggleLoop = () => loop.toggle(clipEnd());

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
      loop.beforePlay(v);
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
      zoom.zoomBy(1.25);
    } else if (e.key === '-') {
      e.preventDefault();
      zoom.zoomBy(0.8);
    } else if (e.key === '0') {
      e.preventDefault();
      zoom.reset();
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

  return (
    <div className={`player${fullscreen.active ? ' is-fullscreen' : ''}`} ref={playerRef} onKeyDown={onKey} data-testid="player">
      <div
        ref={stageRef}
        className={`player-stage${zoom.zoomed ? ' is-zoomed' : ''}${drawing?.tool ? ' is-drawing' : ''}`}
        style={{ ['--ratio' as string]: String(ratio), aspectRatio: String(ratio) }}
        data-ratio={ratio.toFixed(4)}
        data-zoom={view.zoom.toFixed(3)}
        role="group"
        tabIndex={0}
        aria-label={`${label} video. Space plays or pauses, arrow keys step one frame, F fullscreen, + and − zoom, 0 resets the zoom, [ and ] set a loop, L loops.`}
        {...zoom.pointerHandlers}
        onClick={() => {
          if (zoom.takeTap()) toggle();
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
            if (loop.jumping()) return;
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
            loop.afterSeek(e.currentTarget);
            draw(e.currentTarget.currentTime);
            setTime(e.currentTarget.currentTime);
          }}
          onTimeUpdate={(e) => setTime(e.currentTarget.currentTime)}
          onEnded={(e) => loop.atEnd(e.currentTarget)}
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
        <PlayerControls
          label={label}
          playing={playing}
          time={time}
          duration={duration}
          fps={fps}
          onToggle={toggle}
          onStep={step}
          onSeek={seek}
          speed={speed}
          onSpeed={setSpeed}
          loop={loop.range}
          onLoopStart={setLoopStart}
          onLoopEnd={setLoopEnd}
          onLoopToggle={toggleLoop}
          zoom={view.zoom}
          zoomed={zoom.zoomed}
          onZoom={zoom.zoomBy}
          onResetZoom={zoom.reset}
          fullscreen={fullscreen}
          showSkeleton={showSkeleton}
          onToggleSkeleton={onToggleSkeleton}
          sprite={sprite}
          drawing={drawing}
          shown={shown}
        />
      )}
    </div>
  );
});

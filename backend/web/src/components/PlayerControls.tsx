import type { Drawing } from '../drawing/model';
import { DrawingTools } from '../drawing/DrawingTools';
import type { DrawingController } from '../drawing/useDrawings';
import { formatClock } from '../format';
import type { LoopRange } from '../player/loop';
import { PlayerScrubber, type Sprite } from './PlayerScrubber';

/** Playback rates: slow motion from 0.1× to 1×, then faster. */
const SPEEDS = [0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2] as const;

interface Props {
  /** The player's name ("Rider"), which names the group for screen readers. */
  label: string;
  playing: boolean;
  time: number;
  duration: number;
  fps: number;
  onToggle: () => void;
  onStep: (dir: 1 | -1) => void;
  onSeek: (t: number) => void;
  speed: number;
  onSpeed: (rate: number) => void;
  loop: LoopRange | null;
  onLoopStart: () => void;
  onLoopEnd: () => void;
  onLoopToggle: () => void;
  zoom: number;
  zoomed: boolean;
  onZoom: (factor: number) => void;
  onResetZoom: () => void;
  fullscreen: { active: boolean; toggle: () => void };
  showSkeleton: boolean;
  onToggleSkeleton?: (v: boolean) => void;
  sprite?: Sprite | null;
  /** The drawing tools and the marks on the frame shown (the analysis view's; none in comparisons). */
  drawing?: DrawingController;
  shown: Drawing[];
}

/**
 * A player's controls under the picture: position, play/pause, frame steps, speed, loop, zoom, fullscreen, the
 * skeleton toggle and the drawing tools. Each button's title names its key (the player handles the keys).
 */
export function PlayerControls(p: Props) {
  return (
    <div className="controls player-controls" role="group" aria-label={`${p.label} playback`}>
      <PlayerScrubber time={p.time} duration={p.duration} fps={p.fps} onSeek={p.onSeek} loop={p.loop} sprite={p.sprite} />
      <div className="control-row">
        <button type="button" className="btn btn-icon" onClick={p.onToggle} aria-label={p.playing ? 'Pause' : 'Play'}>
          {p.playing ? '❚❚' : '▶'}
        </button>
        <button type="button" className="btn btn-icon" onClick={() => p.onStep(-1)} aria-label="Previous frame" title="Previous frame (,)">
          ‹
        </button>
        <button type="button" className="btn btn-icon" onClick={() => p.onStep(1)} aria-label="Next frame" title="Next frame (.)">
          ›
        </button>
        <span className="time small" aria-hidden="true">
          {formatClock(p.time)} / {formatClock(p.duration)}
        </span>
        <label className="speed small">
          <span className="visually-hidden">Playback speed</span>
          <select value={p.speed} onChange={(e) => p.onSpeed(Number(e.target.value))} aria-label="Playback speed" title="Playback speed (slow motion below 1×)">
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <span className="control-group" role="group" aria-label="Loop">
          <button type="button" className="btn btn-sm" onClick={p.onLoopStart} title="Loop from this frame ([)">
            Loop start
          </button>
          <button type="button" className="btn btn-sm" onClick={p.onLoopEnd} title="Loop to this frame (])">
            Loop end
          </button>
          <button type="button" className="btn btn-sm" onClick={p.onLoopToggle} aria-pressed={!!p.loop?.on} data-testid="loop-toggle" title="Loop (L)">
            Loop{p.loop ? ` ${formatClock(p.loop.a)}–${formatClock(p.loop.b)}` : ''}
          </button>
        </span>
        <span className="control-group" role="group" aria-label="Zoom">
          <button type="button" className="btn btn-icon" onClick={() => p.onZoom(0.8)} aria-label="Zoom out" title="Zoom out (−)" disabled={!p.zoomed}>
            −
          </button>
          <button type="button" className="btn btn-sm" onClick={p.onResetZoom} title="Reset zoom (0)" disabled={!p.zoomed}>
            Reset zoom
          </button>
          <span className="zoom-level small" data-testid="zoom-level">
            {p.zoom.toFixed(1)}×
          </span>
          <button type="button" className="btn btn-icon" onClick={() => p.onZoom(1.25)} aria-label="Zoom in" title="Zoom in (+; or pinch, or the mouse wheel)">
            +
          </button>
        </span>
        <button type="button" className="btn btn-sm" onClick={p.fullscreen.toggle} aria-pressed={p.fullscreen.active} title="Fullscreen (F)">
          {p.fullscreen.active ? 'Exit fullscreen' : 'Fullscreen'}
        </button>
        {p.onToggleSkeleton && (
          <label className="toggle small">
            <input type="checkbox" checked={p.showSkeleton} onChange={(e) => p.onToggleSkeleton?.(e.target.checked)} />
            <span>Skeleton</span>
          </label>
        )}
      </div>
      {p.drawing && <DrawingTools ctl={p.drawing} shown={p.shown} />}
    </div>
  );
}

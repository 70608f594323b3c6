import { useState } from 'react';
import type { SpriteLayout } from '../api/types';
import { formatClock } from '../format';
import type { LoopRange } from '../player/loop';
import { frameAtTime } from '../pose/skeleton';

export type Sprite = { url: string; layout: SpriteLayout };

interface Props {
  time: number;
  duration: number;
  /** One step of the range input (a frame at the clip's rate). */
  fps: number;
  onSeek: (t: number) => void;
  loop: LoopRange | null;
  /** Scrub previews: the sprite strip and its layout, when the ingest made one. */
  sprite?: Sprite | null;
}

/** The player's position slider, the loop's range drawn under it, and a preview tile of the time under the pointer. */
export function PlayerScrubber({ time, duration, fps, onSeek, loop, sprite }: Props) {
  const [preview, setPreview] = useState<{ x: number; t: number } | null>(null);
  return (
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
        onChange={(e) => onSeek(Number(e.target.value))}
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
  );
}

/** The sprite tile for the time under the pointer, shown above the scrubber. */
function ScrubPreview({ sprite, at }: { sprite: Sprite; at: { x: number; t: number } }) {
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

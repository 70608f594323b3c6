import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { AirborneSegment, Series } from '../api/types';
import { extent, linearScale, linePath, niceDomain } from '../charts/scale';

/** One line; `t` overrides the chart's time axis (e.g. a reference clip rescaled onto the rider's). */
export interface ChartLine { label: string; color: string; values: Series; t?: number[] }

interface Props {
  title: string;
  unit: string;
  t: number[];
  lines: ChartLine[];
  segments: AirborneSegment[];
  /** Current playback time (s); drawn as a vertical cursor. */
  cursor: number;
  onSeek: (t: number) => void;
  /** Seconds moved by the arrow keys. */
  keyStep?: number;
}

const HEIGHT = 150;
const M = { top: 10, right: 12, bottom: 22, left: 42 };

function useWidth<T extends HTMLElement>(fallback: number): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.clientWidth) setW(el.clientWidth);
    if (typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => el.clientWidth && setW(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}

/** Hand-drawn SVG line chart over time: airborne shading, a playback cursor, click/arrow keys to seek. */
export const TimeSeriesChart = memo(function TimeSeriesChart({ title, unit, t, lines, segments, cursor, onSeek, keyStep = 1 / 30 }: Props) {
  const [wrapRef, width] = useWidth<HTMLDivElement>(600);
  const tMax = t.length ? t[t.length - 1] : 0;
  const tMin = t.length ? t[0] : 0;

  const geom = useMemo(() => {
    const ext = extent(lines.map((l) => l.values));
    if (!ext) return null;
    const { domain, ticks } = niceDomain(ext[0], ext[1], 3);
    const x = linearScale([tMin, tMax], [M.left, width - M.right]);
    const y = linearScale(domain, [HEIGHT - M.bottom, M.top]);
    const xTicks = niceDomain(tMin, tMax, Math.max(2, Math.floor(width / 90))).ticks.filter((v) => v >= tMin && v <= tMax);
    return { x, y, ticks, xTicks, paths: lines.map((l) => linePath(l.t ?? t, l.values, x, y)) };
  }, [lines, t, tMin, tMax, width]);

  const seekFromEvent = (e: React.MouseEvent<SVGSVGElement>) => {
    if (!geom) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * width;
    onSeek(Math.max(tMin, Math.min(tMax, geom.x.invert(px))));
  };

  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const dir = e.key === 'ArrowRight' ? 1 : -1;
      onSeek(Math.max(tMin, Math.min(tMax, cursor + dir * (e.shiftKey ? 1 : keyStep))));
    }
  };

  return (
    <figure className="chart" ref={wrapRef}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-legend">
          {lines.map((l) => (
            <span key={l.label} className="legend-item">
              <span className="legend-swatch" style={{ background: l.color }} aria-hidden="true" />
              {l.label}
            </span>
          ))}
          {segments.length > 0 && (
            <span className="legend-item">
              <span className="legend-swatch legend-air" aria-hidden="true" />
              airborne
            </span>
          )}
        </span>
      </figcaption>
      {!geom ? (
        <div className="chart-empty">No data: the rider was not seen in any analysed frame.</div>
      ) : (
        <svg
          width={width}
          height={HEIGHT}
          viewBox={`0 0 ${width} ${HEIGHT}`}
          className="chart-svg"
          role="slider"
          tabIndex={0}
          aria-label={`${title} over time; click or use arrow keys to seek`}
          aria-valuemin={tMin}
          aria-valuemax={tMax}
          aria-valuenow={Number(cursor.toFixed(2))}
          aria-valuetext={`${cursor.toFixed(2)} s`}
          onClick={seekFromEvent}
          onKeyDown={onKey}
          data-testid="chart"
        >
          {segments.map((s, i) => (
            <rect
              key={i}
              className="air"
              x={geom.x(s.start_s)}
              y={M.top}
              width={Math.max(1, geom.x(s.end_s) - geom.x(s.start_s))}
              height={HEIGHT - M.top - M.bottom}
            />
          ))}
          {geom.ticks.map((v) => (
            <g key={v}>
              <line className="grid" x1={M.left} x2={width - M.right} y1={geom.y(v)} y2={geom.y(v)} />
              <text className="tick" x={M.left - 6} y={geom.y(v)} dy="0.32em" textAnchor="end">
                {Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toFixed(2))}
                {unit}
              </text>
            </g>
          ))}
          {geom.xTicks.map((v) => (
            <text key={v} className="tick" x={geom.x(v)} y={HEIGHT - 6} textAnchor="middle">
              {Number(v.toFixed(1))}s
            </text>
          ))}
          {geom.paths.map((d, i) => (
            <path key={lines[i].label} d={d} className="series" stroke={lines[i].color} />
          ))}
          <line className="cursor" x1={geom.x(cursor)} x2={geom.x(cursor)} y1={M.top - 4} y2={HEIGHT - M.bottom} />
        </svg>
      )}
    </figure>
  );
});

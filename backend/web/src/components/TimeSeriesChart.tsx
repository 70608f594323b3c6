import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { AirborneSegment, Series } from '../api/types';
import { extent, linearScale, linePath, niceDomain } from '../charts/scale';

/** One line; `t` overrides the chart's time axis (e.g. a reference clip rescaled onto the rider's). */
export interface ChartLine { label: string; color: string; values: Series; t?: number[] }

interface Props {
  title: string;
  /** Suffix on the value ticks and readout ('°'); '' for a unit that is too long for a tick (see axisLabel). */
  unit: string;
  /** One line under the title: what the curve measures and in what unit. */
  note?: string;
  /** Name of the value axis with its unit, written along it ("torso lengths above the ground line"). */
  axisLabel?: string;
  /** Why there is no data when every value is null (summary.unavailable's reason, e.g. "legs not visible"). */
  emptyReason?: string | null;
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
const M = { top: 10, right: 12, bottom: 34, left: 52 };

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

/** Each line's value at the sample nearest to time `at` (null where the rider was not seen there). */
export function valuesAt(t: number[], lines: ChartLine[], at: number): { label: string; value: number | null }[] {
  return lines.map((l) => {
    const ts = l.t ?? t;
    // Times ascend: binary search for the first sample at or after `at`, then take the nearer neighbour.
    let lo = 0;
    let hi = ts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    const best = ts.length === 0 ? -1 : lo > 0 && Math.abs(ts[lo - 1] - at) <= Math.abs(ts[lo] - at) ? lo - 1 : lo;
    const v = best >= 0 ? l.values[best] : null;
    return { label: l.label, value: v === null || v === undefined || !Number.isFinite(v) ? null : v };
  });
}

function formatValue(v: number | null, unit: string): string {
  if (v === null) return 'not seen';
  return `${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)}${unit}`;
}

/**
 * Hand-drawn SVG line chart over time: airborne shading, a playback cursor, click/arrow keys to seek, the values
 * under the pointer (or at the playhead) in words, and a time axis whose labels run to the end of the data.
 */
export const TimeSeriesChart = memo(function TimeSeriesChart({ title, unit, note, axisLabel, emptyReason, t, lines, segments, cursor, onSeek, keyStep = 1 / 30 }: Props) {
  const [wrapRef, width] = useWidth<HTMLDivElement>(600);
  const [hoverT, setHoverT] = useState<number | null>(null);
  const tMax = t.length ? t[t.length - 1] : 0;
  const tMin = t.length ? t[0] : 0;

  const geom = useMemo(() => {
    const ext = extent(lines.map((l) => l.values));
    if (!ext) return null;
    const { domain, ticks } = niceDomain(ext[0], ext[1], 3);
    // The time axis is widened to whole ticks so the last label sits at or past the last sample.
    const time = niceDomain(tMin, tMax, Math.max(2, Math.floor(width / 90)));
    const x = linearScale(time.domain, [M.left, width - M.right]);
    const y = linearScale(domain, [HEIGHT - M.bottom, M.top]);
    return { x, y, ticks, xTicks: time.ticks, paths: lines.map((l) => linePath(l.t ?? t, l.values, x, y)) };
  }, [lines, t, tMin, tMax, width]);

  const timeAt = (e: React.MouseEvent<SVGSVGElement>): number | null => {
    if (!geom) return null;
    const rect = e.currentTarget.getBoundingClientRect();
    const px = ((e.clientX - rect.left) / rect.width) * width;
    return Math.max(tMin, Math.min(tMax, geom.x.invert(px)));
  };
  const readoutT = hoverT ?? cursor;
  const readout = valuesAt(t, lines, readoutT);

  const seekFromEvent = (e: React.MouseEvent<SVGSVGElement>) => {
    const at = timeAt(e);
    if (at !== null) onSeek(at);
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
              airborne (both feet off the ground)
            </span>
          )}
          <span className="legend-item">
            <span className="legend-swatch legend-cursor" aria-hidden="true" />
            playhead
          </span>
        </span>
        {note && <p className="chart-note">{note}</p>}
      </figcaption>
      {geom && (
        <div className="chart-readout" data-testid="chart-readout">
          {hoverT !== null ? 'At' : 'Playhead at'} {readoutT.toFixed(2)} s:{' '}
          {readout.map((r) => `${r.label} ${formatValue(r.value, unit)}`).join(' · ')}
        </div>
      )}
      {!geom ? (
        <div className="chart-empty">No data: {emptyReason ?? 'the rider was not seen in any analysed frame'}.</div>
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
          aria-valuetext={`${cursor.toFixed(2)} s: ${valuesAt(t, lines, cursor).map((r) => `${r.label} ${formatValue(r.value, unit)}`).join(', ')}`}
          onClick={seekFromEvent}
          onMouseMove={(e) => setHoverT(timeAt(e))}
          onMouseLeave={() => setHoverT(null)}
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
            <text key={v} className="tick" x={geom.x(v)} y={HEIGHT - M.bottom + 13} textAnchor="middle">
              {Number(v.toFixed(1))}s
            </text>
          ))}
          <text className="axis-label" x={(M.left + width - M.right) / 2} y={HEIGHT - 3} textAnchor="middle">
            time (s)
          </text>
          {axisLabel && (
            <text className="axis-label" transform={`translate(10 ${(M.top + HEIGHT - M.bottom) / 2}) rotate(-90)`} textAnchor="middle">
              {axisLabel}
            </text>
          )}
          {geom.paths.map((d, i) => (
            <path key={lines[i].label} d={d} className="series" stroke={lines[i].color} />
          ))}
          {hoverT !== null && <line className="hover" x1={geom.x(hoverT)} x2={geom.x(hoverT)} y1={M.top} y2={HEIGHT - M.bottom} />}
          <line className="cursor" x1={geom.x(cursor)} x2={geom.x(cursor)} y1={M.top - 4} y2={HEIGHT - M.bottom} />
        </svg>
      )}
    </figure>
  );
});

import type { MetricsSummary } from '../api/types';
import { formatDeg } from '../format';

const DIRECTION: Record<string, string> = { clockwise: 'clockwise', counterclockwise: 'counter-clockwise' };

/** Headline numbers of a run. */
export function SummaryCards({ summary }: { summary: MetricsSummary }) {
  const spins = summary.max_rotation_deg != null ? Math.round(Math.abs(summary.max_rotation_deg) / 180) * 180 : null;
  const cards = [
    {
      label: 'Max rotation',
      value: formatDeg(summary.max_rotation_deg != null ? Math.abs(summary.max_rotation_deg) : null),
      note: summary.rotation_direction ? `${DIRECTION[summary.rotation_direction]}${spins ? ` · ≈ ${spins}` : ''}` : 'no clear spin',
    },
    {
      label: 'Airtime',
      value: summary.airtime_s != null ? `${summary.airtime_s.toFixed(2)} s` : '—',
      note: `${summary.airborne_segments.length} airborne segment${summary.airborne_segments.length === 1 ? '' : 's'}`,
    },
    { label: 'Stance', value: summary.stance ? summary.stance[0].toUpperCase() + summary.stance.slice(1) : '—', note: summary.stance ? 'from the lead foot' : 'not determined' },
    { label: 'Min knee angle', value: formatDeg(summary.min_knee_angle_deg), note: 'deepest flex' },
  ];
  return (
    <div className="summary" data-testid="summary">
      {cards.map((c) => (
        <div key={c.label} className="stat">
          <div className="stat-label">{c.label}</div>
          <div className="stat-value">{c.value}</div>
          <div className="stat-note">{c.note}</div>
        </div>
      ))}
      <div className="summary-foot muted small">
        Rider seen in {summary.frames_with_rider} of {summary.frames_analysed} analysed frames
      </div>
    </div>
  );
}

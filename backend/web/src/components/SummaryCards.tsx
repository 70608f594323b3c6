import type { MetricsSummary, SummaryKey } from '../api/types';
import { formatDeg } from '../format';

const DIRECTION: Record<string, string> = { clockwise: 'clockwise', counterclockwise: 'counter-clockwise' };

interface Tile {
  key: SummaryKey;
  label: string;
  /** One line: what the number is and its unit, so it reads without a manual. */
  explain: string;
  value: string;
  note: string;
}

/** The tiles of a summary; an unavailable value says "not measured" with the reason instead of a number. */
export function summaryTiles(summary: MetricsSummary): (Tile & { reason: string | null })[] {
  const spins = summary.max_rotation_deg != null ? Math.round(Math.abs(summary.max_rotation_deg) / 180) * 180 : null;
  const airs = summary.airborne_segments.length;
  const tiles: Tile[] = [
    {
      key: 'max_rotation_deg',
      label: 'Max rotation',
      explain: 'Largest turn of the shoulders and hips from the start, in degrees (360° is one full spin).',
      value: formatDeg(summary.max_rotation_deg != null ? Math.abs(summary.max_rotation_deg) : null),
      note: summary.rotation_direction ? `${DIRECTION[summary.rotation_direction]}${spins ? ` · ≈ ${spins}` : ''}` : 'no clear spin (under 90°)',
    },
    {
      key: 'airtime_s',
      label: 'Airtime',
      explain: 'Seconds with both feet above the ground line, added over all jumps.',
      value: summary.airtime_s != null ? `${summary.airtime_s.toFixed(2)} s` : '—',
      note: `${airs} airborne segment${airs === 1 ? '' : 's'}`,
    },
    {
      key: 'stance',
      label: 'Stance',
      explain: 'Which foot leads in the direction of travel: left foot = regular, right foot = goofy.',
      value: summary.stance ? summary.stance[0].toUpperCase() + summary.stance.slice(1) : '—',
      note: summary.stance ? 'from the lead foot' : 'not determined',
    },
    {
      key: 'min_knee_angle_deg',
      label: 'Min knee angle',
      explain: 'Smallest hip–knee–ankle angle of either leg, in degrees: 180° is a straight leg, lower is deeper flex.',
      value: formatDeg(summary.min_knee_angle_deg),
      note: 'deepest flex',
    },
  ];
  // rotation_direction shares the rotation tile; its reason is the same body part's.
  return tiles.map((t) => ({ ...t, reason: summary.unavailable?.[t.key] ?? null }));
}

/** "Rider seen in N of M analysed frames", plus where the legs and feet were seen when the metrics say. */
export function riderSeenLine(summary: MetricsSummary): string {
  const base = `Rider seen in ${summary.frames_with_rider} of ${summary.frames_analysed} analysed frames`;
  const seen = summary.frames_seen;
  if (!seen) return base;
  return `${base} (shoulders and hips visible) · legs in ${seen.legs} · feet in ${seen.feet}`;
}

/** Headline numbers of a run; each tile explains itself, and a value the pose cannot support says why. */
export function SummaryCards({ summary }: { summary: MetricsSummary }) {
  return (
    <div className="summary" data-testid="summary">
      {summaryTiles(summary).map((c) => (
        <div key={c.key} className={`stat${c.reason ? ' stat-unavailable' : ''}`} data-testid={`stat-${c.key}`} data-unavailable={c.reason ? 'true' : undefined}>
          <div className="stat-label">{c.label}</div>
          {c.reason ? (
            <div className="stat-missing">not measured — {c.reason}</div>
          ) : (
            <>
              <div className="stat-value">{c.value}</div>
              <div className="stat-note">{c.note}</div>
            </>
          )}
          <div className="stat-explain">{c.explain}</div>
        </div>
      ))}
      <div className="summary-foot muted small" data-testid="rider-seen">
        {riderSeenLine(summary)}
      </div>
    </div>
  );
}

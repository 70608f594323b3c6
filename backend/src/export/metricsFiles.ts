/*
 * Metrics as files to download (issue 18, item 9): a per-frame CSV (one row per analysed frame, every series raw and
 * smoothed, the unit in each column's header), a summary CSV (one row per summary value, with its unit and, when
 * the pose could not support it, the reason), and a JSON document holding both with the units. Pure functions.
 */

export interface MetricsJson {
  series: Record<string, unknown> & { t: unknown[]; smoothed?: Record<string, unknown[]> };
  summary: Record<string, unknown> | null;
}

/** Units of the per-frame series (pose_service/metrics/: posture.py, rotation.py and ground.py say how each is measured). */
export const SERIES_UNITS: Readonly<Record<string, string>> = {
  left_knee_angle: 'deg',
  right_knee_angle: 'deg',
  left_hip_angle: 'deg',
  right_hip_angle: 'deg',
  stance_width: 'hip widths',
  upper_body_rotation: 'deg',
  body_tilt: 'deg',
  hip_height: 'torso lengths',
  cumulative_rotation: 'deg',
};

/** Units and one line of meaning for each summary value, in the summary CSV's order. */
export const SUMMARY_ROWS: ReadonlyArray<readonly [key: string, unit: string, meaning: string]> = [
  ['max_rotation_deg', 'deg', 'largest total spin of the body during the clip'],
  ['rotation_direction', '', 'direction of that spin seen from above'],
  ['airtime_s', 's', 'total time with both feet off the ground line'],
  ['airborne_segments', 's', 'start-end of each airborne stretch'],
  ['stance', '', 'regular (left foot leads) or goofy (right foot leads)'],
  ['min_knee_angle_deg', 'deg', 'deepest knee flex (180 is straight)'],
  ['frames_analysed', 'frames', 'frames the pose model analysed'],
  ['frames_with_rider', 'frames', 'frames showing the rider\'s shoulders and hips'],
  ['frames_seen.torso', 'frames', 'frames showing both shoulders and hips'],
  ['frames_seen.legs', 'frames', 'frames showing hip, knee and ankle of one side'],
  ['frames_seen.feet', 'frames', 'frames showing both ankles and hips'],
  ['joint_score_min', 'score 0-1', 'keypoint score a joint needs to count as seen'],
];

/** One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break; null and undefined are empty. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const row = (cells: unknown[]) => cells.map(csvCell).join(',');
const withUnit = (name: string, unit: string) => (unit ? `${name} (${unit})` : name);

/** The series keys present in the metrics, in the contract's order (then any others). */
export function seriesKeys(m: MetricsJson): string[] {
  const present = Object.keys(m.series).filter((k) => k !== 't' && k !== 'smoothed' && Array.isArray(m.series[k]));
  return [...Object.keys(SERIES_UNITS).filter((k) => present.includes(k)), ...present.filter((k) => !(k in SERIES_UNITS))];
}

/**
 * Per-frame CSV: `frame` (the video's frame number, from the pose frames), `t (s)`, each series, then each smoothed
 * series. Lines end with CRLF (RFC 4180; spreadsheets open it either way).
 */
export function framesCsv(m: MetricsJson, frameIndices: readonly (number | null)[]): string {
  const keys = seriesKeys(m);
  const smoothed = keys.filter((k) => Array.isArray(m.series.smoothed?.[k]));
  const header = [
    'frame',
    't (s)',
    ...keys.map((k) => withUnit(k, SERIES_UNITS[k] ?? '')),
    ...smoothed.map((k) => withUnit(`smoothed ${k}`, SERIES_UNITS[k] ?? '')),
  ];
  const lines = [row(header)];
  m.series.t.forEach((t, i) => {
    const raw = keys.map((k) => (m.series[k] as unknown[])[i]);
    const smooth = smoothed.map((k) => m.series.smoothed![k]![i]);
    lines.push(row([frameIndices[i] ?? null, t, ...raw, ...smooth]));
  });
  return `${lines.join('\r\n')}\r\n`;
}

function pathValue(obj: Record<string, unknown> | null, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** Summary CSV: `metric,value,unit,unavailable reason,meaning`, one row per summary value. */
export function summaryCsv(m: MetricsJson): string {
  const unavailable = (m.summary?.unavailable ?? {}) as Record<string, string>;
  const lines = [row(['metric', 'value', 'unit', 'unavailable reason', 'meaning'])];
  for (const [key, unit, meaning] of SUMMARY_ROWS) {
    let value = pathValue(m.summary, key);
    if (key === 'airborne_segments' && Array.isArray(value)) {
      value = value.map((s: { start_s: number; end_s: number }) => `${s.start_s}-${s.end_s}`).join(' ');
    }
    // airborne_segments is empty for the same reason airtime is unknown
    const why = unavailable[key] ?? (key === 'airborne_segments' ? unavailable.airtime_s : undefined) ?? null;
    lines.push(row([key, value ?? null, unit, why, meaning]));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The JSON download: the metrics as GET /metrics serves them, plus the video, the frame numbers and the units. */
export function metricsDocument(
  m: MetricsJson,
  frameIndices: readonly (number | null)[],
  video: { id: string; title: string | null; originalName: string | null; fps: number | null; width: number | null; height: number | null; durationS: number | null },
  exportedAt = new Date(),
) {
  return {
    format: 'snowboarding-metrics',
    version: 1,
    exportedAt: exportedAt.toISOString(),
    video,
    units: { t: 's', ...Object.fromEntries(seriesKeys(m).map((k) => [k, SERIES_UNITS[k] ?? null])) },
    summaryUnits: Object.fromEntries(SUMMARY_ROWS.map(([k, u]) => [k, u || null])),
    frames: frameIndices,
    series: m.series,
    summary: m.summary,
  };
}

/** A download's file name from the video's title (or upload name), without its extension or unsafe characters. */
export function downloadBase(video: { title: string | null; originalName: string | null; _id: { toHexString(): string } }): string {
  const raw = (video.title || video.originalName || video._id.toHexString()).replace(/\.[A-Za-z0-9]{1,5}$/, '');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a file name
  const safe = raw.replace(/[\\/:*?"<>|\x00-\x1f]+/g, '_').trim().slice(0, 80);
  return safe || video._id.toHexString();
}

import type { Metrics, SeriesKey, SummaryKey } from '../api/types';
import { eventTime, type SyncEvent } from './events';

/**
 * Per-metric differences between the rider's run and the reference, in numbers and in a coach's words
 * ("you flex 24° more at take-off"). Event values are read at each run's own take-off or landing (so the runs
 * need not be in sync to compare); a value either run could not measure is reported as unavailable with the
 * reason (summary.unavailable, or the event not being found), never as a number.
 */
export interface Difference {
  key: string;
  label: string;
  unit: '°' | 's' | '';
  rider: number | null;
  reference: number | null;
  /** rider − reference, in the metric's own sense (more flex, more rotation, longer air); null when unavailable. */
  diff: number | null;
  text: string;
  unavailable: string | null;
}

/** Below these the runs are "about the same": pose angles are good to a couple of degrees, times to about a frame. */
export const SAME_DEG = 2;
export const SAME_S = 0.04;
/** How far (in samples) from the event a value may be read when the event's own sample is missing. */
const NEAR_SAMPLES = 2;

const pick = (m: Metrics, key: SeriesKey) => m.series.smoothed?.[key] ?? m.series[key] ?? [];

/** A series' value at time t: the nearest sample, else the nearest seen one within NEAR_SAMPLES; null if none. */
export function valueAt(m: Metrics, key: SeriesKey, t: number): number | null {
  const ts = m.series.t;
  const vs = pick(m, key);
  if (ts.length === 0) return null;
  let best = 0;
  for (let i = 1; i < ts.length; i++) if (Math.abs(ts[i] - t) < Math.abs(ts[best] - t)) best = i;
  for (let d = 0; d <= NEAR_SAMPLES; d++) {
    for (const i of d === 0 ? [best] : [best - d, best + d]) {
      const v = vs[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) return v;
    }
  }
  return null;
}

/** Mean knee angle of the legs seen at t (one leg when only one was seen). */
function kneeAt(m: Metrics, t: number): number | null {
  const v = [valueAt(m, 'left_knee_angle', t), valueAt(m, 'right_knee_angle', t)].filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

const deg = (v: number) => `${Math.round(Math.abs(v))}°`;
const sec = (v: number) => `${Math.abs(v).toFixed(2)} s`;

type Side = 'rider' | 'reference';
const WHOSE: Record<Side, string> = { rider: 'your run', reference: 'the reference' };

/** Why a value is missing in one run: the summary's reason for the key it depends on, or the event not found. */
function whyMissing(m: Metrics, side: Side, needs: SummaryKey, event: SyncEvent | null, fallback: string): string {
  const reason = m.summary.unavailable?.[needs];
  if (reason) return `${reason} in ${WHOSE[side]}`;
  if (event) {
    const e = eventTime(m, event);
    if (e.t === null) return `${e.why} in ${WHOSE[side]}`;
  }
  return `${fallback} in ${WHOSE[side]}`;
}

interface Spec {
  key: string;
  label: string;
  unit: '°' | 's';
  needs: SummaryKey;
  event: SyncEvent | null;
  /** The value in one run (in the sense compared: flex, not angle), or null. */
  read: (m: Metrics) => number | null;
  fallback: string;
  /** Words for a difference d = rider − reference (|d| at or above the "same" threshold). */
  words: (d: number) => string;
  same: () => string;
}

/** Read a series at this run's event, turned into the compared quantity. */
const atEvent = (event: SyncEvent, read: (m: Metrics, t: number) => number | null) => (m: Metrics) => {
  const e = eventTime(m, event);
  return e.t === null ? null : read(m, e.t);
};

const more = (d: number) => (d > 0 ? 'more' : 'less');

const SPECS: Spec[] = [
  {
    key: 'knee_flex_takeoff', label: 'Knee flex at take-off', unit: '°', needs: 'min_knee_angle_deg', event: 'takeoff', fallback: 'legs not seen at take-off',
    read: atEvent('takeoff', (m, t) => { const k = kneeAt(m, t); return k === null ? null : 180 - k; }),
    words: (d) => `you flex ${deg(d)} ${more(d)} at take-off`, same: () => 'the same knee flex at take-off',
  },
  {
    key: 'knee_flex_landing', label: 'Knee flex at landing', unit: '°', needs: 'min_knee_angle_deg', event: 'landing', fallback: 'legs not seen at landing',
    read: atEvent('landing', (m, t) => { const k = kneeAt(m, t); return k === null ? null : 180 - k; }),
    words: (d) => `you flex ${deg(d)} ${more(d)} at landing`, same: () => 'the same knee flex at landing',
  },
  {
    key: 'deepest_flex', label: 'Deepest knee flex', unit: '°', needs: 'min_knee_angle_deg', event: null, fallback: 'legs not seen',
    read: (m) => (m.summary.min_knee_angle_deg == null ? null : 180 - m.summary.min_knee_angle_deg),
    words: (d) => `your deepest flex is ${deg(d)} ${more(d)} than the reference's`, same: () => 'the same deepest flex',
  },
  {
    key: 'rotation', label: 'Rotation', unit: '°', needs: 'max_rotation_deg', event: null, fallback: 'rotation not measured',
    read: (m) => m.summary.max_rotation_deg,
    words: (d) => `rotation ${deg(d)} ${more(d)} than the reference`, same: () => 'the same rotation',
  },
  {
    key: 'windup_takeoff', label: 'Shoulders against hips at take-off', unit: '°', needs: 'max_rotation_deg', event: 'takeoff', fallback: 'shoulders and hips not seen at take-off',
    read: atEvent('takeoff', (m, t) => { const v = valueAt(m, 'upper_body_rotation', t); return v === null ? null : Math.abs(v); }),
    words: (d) => `your shoulders are turned ${deg(d)} ${more(d)} against the hips at take-off`, same: () => 'the same shoulder turn at take-off',
  },
  {
    key: 'tilt_landing', label: 'Body lean at landing', unit: '°', needs: 'max_rotation_deg', event: 'landing', fallback: 'shoulders and hips not seen at landing',
    read: atEvent('landing', (m, t) => valueAt(m, 'body_tilt', t)),
    words: (d) => `you lean ${deg(d)} ${more(d)} at landing`, same: () => 'the same lean at landing',
  },
  {
    key: 'airtime', label: 'Air time', unit: 's', needs: 'airtime_s', event: null, fallback: 'no air time measured',
    read: (m) => m.summary.airtime_s,
    words: (d) => `you are in the air ${sec(d)} ${d > 0 ? 'longer' : 'shorter'} than the reference`, same: () => 'the same air time',
  },
];

const fmt = (v: number, unit: '°' | 's') => (unit === 's' ? sec(v) : deg(v));

/** Every compared metric, in the order shown. */
export function differences(rider: Metrics, reference: Metrics): Difference[] {
  const out: Difference[] = SPECS.map((s) => {
    const r = s.read(rider);
    const f = s.read(reference);
    if (r === null || f === null) {
      const why = [r === null && whyMissing(rider, 'rider', s.needs, s.event, s.fallback), f === null && whyMissing(reference, 'reference', s.needs, s.event, s.fallback)]
        .filter(Boolean)
        .join('; ');
      return { key: s.key, label: s.label, unit: s.unit, rider: r, reference: f, diff: null, text: `not available: ${why}`, unavailable: why };
    }
    const d = r - f;
    const same = Math.abs(d) < (s.unit === 's' ? SAME_S : SAME_DEG);
    const text = same ? s.same() : s.words(d);
    return { key: s.key, label: s.label, unit: s.unit, rider: r, reference: f, diff: d, text: `${text} (${fmt(r, s.unit)} vs ${fmt(f, s.unit)})`, unavailable: null };
  });
  out.push(stance(rider, reference));
  return out;
}

function stance(rider: Metrics, reference: Metrics): Difference {
  const r = rider.summary.stance;
  const f = reference.summary.stance;
  const base = { key: 'stance', label: 'Stance', unit: '' as const, rider: null, reference: null, diff: null };
  if (!r || !f) {
    const why = [!r && `${rider.summary.unavailable?.stance ?? 'stance not measured'} in your run`, !f && `${reference.summary.unavailable?.stance ?? 'stance not measured'} in the reference`]
      .filter(Boolean)
      .join('; ');
    return { ...base, text: `not available: ${why}`, unavailable: why };
  }
  return { ...base, text: r === f ? `both ride ${r}` : `you ride ${r}, the reference ${f}`, unavailable: null };
}

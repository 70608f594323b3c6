/**
 * How the reference's clock follows the rider's. Each run has an anchor (the chosen event, or a point the user
 * set); the reference plays at the same speed from there, shifted by a fine offset the coach nudges in frames or
 * milliseconds. "Whole clip" is the old behaviour: both start and end together (the reference stretched).
 */
export type SyncMapping =
  | { kind: 'anchor'; rider: number; reference: number; offsetS: number }
  | { kind: 'progress'; riderDuration: number; referenceDuration: number; offsetS: number };

/** Reference time that matches the rider's playback progress (both clips start and end together). */
export function syncedTime(riderT: number, riderDuration: number, refDuration: number): number {
  if (!(riderDuration > 0) || !(refDuration > 0)) return 0;
  return Math.max(0, Math.min(refDuration, (riderT / riderDuration) * refDuration));
}

/** The reference time shown with rider time t, unclamped (it may fall before the reference starts or after it ends). */
export function referenceTime(map: SyncMapping, riderT: number): number {
  if (map.kind === 'progress') {
    const k = map.riderDuration > 0 && map.referenceDuration > 0 ? map.referenceDuration / map.riderDuration : 1;
    return riderT * k + map.offsetS;
  }
  return riderT - map.rider + map.reference + map.offsetS;
}

/** The rider time at which the reference shows time refT (the inverse of referenceTime). */
export function riderTime(map: SyncMapping, refT: number): number {
  if (map.kind === 'progress') {
    const k = map.riderDuration > 0 && map.referenceDuration > 0 ? map.referenceDuration / map.riderDuration : 1;
    return (refT - map.offsetS) / k;
  }
  return refT - map.offsetS - map.reference + map.rider;
}

/** Playback rate of the reference for a rider rate (the same, unless the whole-clip mode stretches it). */
export function referenceRate(map: SyncMapping, riderRate: number): number {
  const k = map.kind === 'progress' && map.riderDuration > 0 && map.referenceDuration > 0 ? map.referenceDuration / map.riderDuration : 1;
  return Math.max(0.0625, Math.min(16, riderRate * k));
}

/** Clamp to the reference clip; `outside` says the reference has not started yet or has already ended. */
export function clampToClip(t: number, duration: number): { t: number; outside: 'before' | 'after' | null } {
  if (t < 0) return { t: 0, outside: 'before' };
  if (duration > 0 && t > duration) return { t: duration, outside: 'after' };
  return { t, outside: null };
}

/** An offset given in frames of the reference and milliseconds, in seconds. */
export function offsetSeconds(frames: number, ms: number, refFps: number): number {
  return frames / (refFps || 30) + ms / 1000;
}

/** The offset in the coach's words: "no offset", "+2 frames = +83 ms", "−10 ms", "+1 frame +10 ms = +52 ms". */
export function describeOffset(frames: number, ms: number, refFps: number): string {
  if (frames === 0 && ms === 0) return 'no offset';
  const sign = (v: number) => (v > 0 ? '+' : v < 0 ? '−' : '±');
  const parts: string[] = [];
  if (frames !== 0) parts.push(`${sign(frames)}${Math.abs(frames)} frame${Math.abs(frames) === 1 ? '' : 's'}`);
  if (ms !== 0) parts.push(`${sign(ms)}${Math.abs(ms)} ms`);
  if (frames === 0) return parts[0];
  const total = Math.round(offsetSeconds(frames, ms, refFps) * 1000);
  return `${parts.join(' ')} = ${sign(total)}${Math.abs(total)} ms`;
}

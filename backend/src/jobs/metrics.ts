import type { ObjectId } from 'mongodb';
import type { Collections } from '../db.js';

/*
 * A video's metrics as GET /api/videos/:id/metrics has always answered them (docs/contracts.md, Metrics), read from
 * either shape: the split one the finish task writes (`metrics` summary document + `metric_series` chunks of
 * 1,000 frames, so a 30-minute clip stays far under MongoDB's 16 MB per document), or an old single document.
 */

type Series = Record<string, unknown[]>;

/** The reassembled metrics JSON; undefined when none are stored (or a chunk is still missing). */
export async function readMetrics(c: Collections, videoId: ObjectId): Promise<unknown> {
  const doc = await c.metrics.findOne({ _id: videoId });
  if (!doc) return undefined;
  if (doc.metrics !== undefined && doc.seriesChunks === undefined) return doc.metrics; // the old single document
  const chunks = await c.metricSeries.find({ videoId }).sort({ chunk: 1 }).toArray();
  const expected = doc.seriesChunks ?? 0;
  if (chunks.length !== expected || chunks.some((ch, i) => ch.chunk !== i)) return undefined;
  const keys = doc.seriesKeys ?? [...new Set(chunks.flatMap((ch) => Object.keys(ch.series ?? {})))];
  const smoothedKeys = [...new Set(chunks.flatMap((ch) => Object.keys(ch.smoothed ?? {})))];
  const t: unknown[] = [];
  const series: Series = Object.fromEntries(keys.map((k) => [k, []]));
  const smoothed: Series = Object.fromEntries(smoothedKeys.map((k) => [k, []]));
  for (const ch of chunks) {
    const n = ch.t.length;
    t.push(...ch.t);
    // A key a chunk lacks reads as "not seen" for its frames, so every series keeps the length of `t`.
    for (const k of keys) series[k]!.push(...(ch.series?.[k] ?? new Array(n).fill(null)));
    for (const k of smoothedKeys) smoothed[k]!.push(...(ch.smoothed?.[k] ?? new Array(n).fill(null)));
  }
  return { series: { t, ...series, smoothed }, summary: doc.summary ?? null };
}

/**
 * The summary alone (`GET …/metrics?series=0`): one small document read, no series chunks, so the analysis view can
 * show its tiles and the player before a long clip's series (about 125 KB for 2 minutes) arrive. Undefined exactly
 * when readMetrics is (nothing stored, or a series chunk still missing), so the two answers never disagree on 409.
 */
export async function readMetricsSummary(c: Collections, videoId: ObjectId): Promise<{ summary: unknown } | undefined> {
  const doc = await c.metrics.findOne({ _id: videoId });
  if (!doc) return undefined;
  if (doc.metrics !== undefined && doc.seriesChunks === undefined) {
    return { summary: (doc.metrics as { summary?: unknown }).summary ?? null }; // the old single document
  }
  const stored = await c.metricSeries.countDocuments({ videoId });
  if (stored !== (doc.seriesChunks ?? 0)) return undefined;
  return { summary: doc.summary ?? null };
}

/** The library's rotation sort key from a summary: the spin's size in degrees, null when not measured. */
export function rotationSortKey(summary: unknown): number | null {
  const value = (summary as { max_rotation_deg?: unknown } | null | undefined)?.max_rotation_deg;
  return typeof value === 'number' && Number.isFinite(value) ? Math.abs(value) : null;
}

/**
 * Videos analysed before the finish wrote `maxRotationDeg` get it from their stored summary (once: afterwards every
 * done video has the field, null included). Returns how many were set.
 */
export async function backfillRotationSortKey(c: Collections): Promise<number> {
  let count = 0;
  for await (const video of c.videos.find({ status: 'done', maxRotationDeg: { $exists: false } }, { projection: { _id: 1 } })) {
    const doc = await c.metrics.findOne({ _id: video._id });
    const summary = doc?.summary ?? (doc?.metrics as { summary?: unknown } | undefined)?.summary;
    await c.videos.updateOne({ _id: video._id, maxRotationDeg: { $exists: false } }, { $set: { maxRotationDeg: rotationSortKey(summary) } });
    count += 1;
  }
  return count;
}

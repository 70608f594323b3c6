import { useEffect } from 'react';
import { getMetrics, getMetricsSummary, getPose, getVideo } from '../api/client';
import { watchJob } from '../api/jobEvents';
import type { Metrics, MetricsSummary, PoseResponse, Video } from '../api/types';
import { useAsync } from '../hooks/useAsync';

/** `metrics` null with a `summary`: only the summary was asked for (`summaryOnly`); the series come later. */
export interface Analysis { video: Video; pose: PoseResponse | null; summary: MetricsSummary | null; metrics: Metrics | null }

/**
 * A video plus, once its job is done, its pose frames and metrics; follows an unfinished job live.
 * `withPose: false` leaves the pose out (null): the analysis page reads it by time window (views/usePoseWindow.ts)
 * instead of all at once. `summaryOnly: true` reads the summary alone (`?series=0`) and leaves `metrics` null: the
 * analysis page shows the player first and reads the charts' series after it (views/AnalysisView.tsx).
 */
export function useAnalysis(id: string | null, { withPose = true, summaryOnly = false }: { withPose?: boolean; summaryOnly?: boolean } = {}) {
  const [state, reload, update] = useAsync<Analysis | null>(async () => {
    if (!id) return null;
    const video = await getVideo(id);
    if (video.status !== 'done') return { video, pose: null, summary: null, metrics: null };
    if (summaryOnly) {
      const [pose, summary] = await Promise.all([withPose ? getPose(id) : null, getMetricsSummary(id)]);
      return { video, pose, summary, metrics: null };
    }
    const [pose, metrics] = await Promise.all([withPose ? getPose(id) : null, getMetrics(id)]);
    return { video, pose, summary: metrics.summary, metrics };
  }, [id, withPose, summaryOnly]);

  const video = state.status === 'ready' ? state.data?.video : undefined;
  const jobId = video && video.status !== 'done' && video.status !== 'failed' ? video.job?.id : undefined;
  useEffect(() => {
    if (!jobId) return;
    return watchJob(jobId, {
      onJob: (job) => {
        if (job.state === 'done') reload();
        else update((d) => (d ? { ...d, video: { ...d.video, status: job.state, job } } : d));
      },
    });
  }, [jobId, reload, update]);

  return [state, reload] as const;
}

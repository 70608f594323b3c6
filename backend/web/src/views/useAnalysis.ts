import { useEffect } from 'react';
import { getMetrics, getPose, getVideo } from '../api/client';
import { watchJob } from '../api/jobEvents';
import type { Metrics, PoseResponse, Video } from '../api/types';
import { useAsync } from '../hooks';

export interface Analysis { video: Video; pose: PoseResponse | null; metrics: Metrics | null }

/**
 * A video plus, once its job is done, its pose frames and metrics; follows an unfinished job live.
 * `withPose: false` leaves the pose out (null): the analysis page reads it by time window (views/usePoseWindow.ts)
 * instead of all at once.
 */
export function useAnalysis(id: string | null, { withPose = true }: { withPose?: boolean } = {}) {
  const [state, reload, update] = useAsync<Analysis | null>(async () => {
    if (!id) return null;
    const video = await getVideo(id);
    if (video.status !== 'done') return { video, pose: null, metrics: null };
    const [pose, metrics] = await Promise.all([withPose ? getPose(id) : null, getMetrics(id)]);
    return { video, pose, metrics };
  }, [id, withPose]);

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

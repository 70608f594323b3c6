import { useEffect, useRef } from 'react';
import { getVideo } from '../api/client';
import { watchJob } from '../api/jobEvents';
import type { Job, Video } from '../api/types';

/** Whether a video's analysis has ended (nothing more to watch). */
export const isFinal = (s: Video['status']) => s === 'done' || s === 'failed';

/**
 * Live status for one unfinished video: SSE with polling fallback; refetches the video once its ingest is done
 * (poster, size) and once finished. Subscribes again only when the job changes, not on every progress event; the
 * callbacks and the video are read at each event (the latest given).
 */
export function useLiveVideo(video: Video, onChange: (v: Video) => void, onGone: (id: string) => void) {
  const jobId = video.job?.id;
  const videoId = video.id;
  const unfinished = !isFinal(video.status);
  const latest = useRef({ video, onChange, onGone });
  latest.current = { video, onChange, onGone };
  useEffect(() => {
    if (!jobId || !unfinished) return;
    let ingestRead = false;
    const changed = (v: Video) => latest.current.onChange(v);
    return watchJob(jobId, {
      onJob: (job: Job) => {
        changed({ ...latest.current.video, status: job.state, job });
        if (!ingestRead && job.stage && job.stage !== 'ingest' && !latest.current.video.posterUrl) {
          ingestRead = true;
          getVideo(videoId).then((v) => changed({ ...v, status: latest.current.video.status, job: latest.current.video.job }), () => undefined);
        }
        // Duration, fps and size arrive with the finished analysis.
        if (job.state === 'done' || job.state === 'failed') {
          getVideo(videoId).then(changed, () => undefined);
        }
      },
      onDeleted: () => latest.current.onGone(videoId),
    });
  }, [jobId, unfinished, videoId]);
}

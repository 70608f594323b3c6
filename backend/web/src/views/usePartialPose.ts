import { useEffect, useMemo, useRef, useState } from 'react';
import { getPoseWindow } from '../api/analysisActions';
import type { Job, PoseFrame, PoseResponse, Video } from '../api/types';
import { analysedAt, mergeFrames, missingWindows } from '../pose/partial';

export interface PartialPose {
  /** The frames of the finished segments so far (null before the first arrived). */
  pose: PoseResponse | null;
  /** Whether the frame at media time t is analysed yet (false: the player shows "analysing…"). */
  isAnalysed: (t: number) => boolean;
}

const durationOf = (v: Video) => v.durationS ?? v.probe?.durationS ?? null;
const fpsOf = (v: Video) => v.fps ?? v.probe?.fps ?? null;

/**
 * The skeleton of a running analysis, segment by segment: each time the job reports another finished segment,
 * ask for the windows still missing (GET /pose?from&to) and merge what comes back. One round of requests at a
 * time; a change during a round starts one more round after it.
 */
export function usePartialPose(video: Video, job: Job | null | undefined): PartialPose {
  const [pose, setPose] = useState<PoseResponse | null>(null);
  const frames = useRef<PoseFrame[]>([]);
  const inFlight = useRef(false);
  const again = useRef(false);
  const active = !!job && job.state !== 'done' && job.state !== 'failed' && (job.partial === true || (job.framesDone ?? 0) > 0);
  // Workers store a segment's block every 25 analysed frames and count them in framesDone: each step asks again.
  const trigger = `${job?.id}:${job?.framesDone ?? 0}:${job?.partial ? 1 : 0}`;
  const duration = durationOf(video);
  const fps = fpsOf(video);

  const latest = useRef({ id: video.id, duration, fps });
  latest.current = { id: video.id, duration, fps };
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (!active) return;
    const round = async () => {
      if (inFlight.current) {
        again.current = true;
        return;
      }
      inFlight.current = true;
      try {
        do {
          again.current = false;
          const { id, duration: d, fps: f } = latest.current;
          const windows = missingWindows(frames.current, d, f);
          const answers = await Promise.all(windows.map((w) => getPoseWindow(id, w.from, w.to).catch(() => null)));
          if (!alive.current) return;
          let merged = frames.current;
          let meta: PoseResponse | null = null;
          for (const a of answers) {
            if (!a) continue; // not readable yet (or a hiccup): the next finished segment asks again
            merged = mergeFrames(merged, a.frames);
            meta = a;
          }
          if (meta && merged !== frames.current) {
            frames.current = merged;
            setPose({ ...meta, frames: merged });
          }
        } while (again.current && alive.current);
      } finally {
        inFlight.current = false;
      }
    };
    void round();
    // A new round when more frames were stored (the trigger); a round already in flight runs once more.
  }, [active, trigger]);

  const isAnalysed = useMemo(() => analysedAt(pose?.frames ?? [], duration, fps), [pose, duration, fps]);
  return { pose, isAnalysed };
}

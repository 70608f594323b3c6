import { useRef } from 'react';
import { describeJob, mergeJob, progressFraction } from '../api/jobProgress';
import type { Job } from '../api/types';

/**
 * An unfinished job in words and a bar: its place in the queue and the wait, or its stage ("Preparing video",
 * "Analysing 3 of 8 parts", "Joining results") with frames finished / total; or why it is waiting.
 * What it shows never goes backwards for the same job, whatever order its updates arrive in.
 */
export function JobProgress({ job, className = '' }: { job: Job; className?: string }) {
  const shownRef = useRef<Job | null>(null);
  const shown = mergeJob(shownRef.current, job);
  shownRef.current = shown;
  const words = describeJob(shown);
  const fraction = progressFraction(shown);
  const pct = Math.round(fraction * 100);
  return (
    <div
      className={`job-progress${shown.waiting ? ' is-waiting' : ''} ${className}`.trim()}
      data-testid="job-progress"
      data-stage={shown.stage ?? ''}
      data-waiting={shown.waiting ?? ''}
      data-frames-done={shown.framesDone ?? ''}
    >
      <div className="job-progress-headline" data-testid="job-progress-headline">
        {words.headline}
      </div>
      {words.showBar && (
        // A native <progress> (role progressbar), labelled with what it counts.
        <progress className="job-progress-bar" max={100} value={pct} aria-label={`Analysis progress: ${words.headline}`} aria-valuetext={`${pct}%`} />
      )}
      {words.detail && (
        <div className="job-progress-detail muted small" data-testid="job-progress-detail">
          {words.detail}
        </div>
      )}
    </div>
  );
}

import type { JobState } from '../api/types';

const LABELS: Record<JobState, string> = { queued: 'Queued', running: 'Analysing', done: 'Ready', failed: 'Failed' };

export function StatusChip({ state, progress }: { state: JobState; progress?: number | null }) {
  const pct = state === 'running' && progress != null ? ` ${Math.round(progress * 100)}%` : '';
  return (
    <span className={`chip chip-${state}`} data-state={state} role="status" aria-label={`Status: ${LABELS[state]}${pct}`}>
      <span className="chip-dot" aria-hidden="true" />
      {LABELS[state]}
      {pct}
    </span>
  );
}

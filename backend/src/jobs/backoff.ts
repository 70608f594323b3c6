/** Delay before attempt `attempt + 1` after `attempt` failed: exponential, capped at five minutes. */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 5 * 60_000);
}

/** What to do with a job whose attempt just failed. */
export function nextStateAfterFailure(attempts: number, maxAttempts: number, retryable: boolean): 'queued' | 'failed' {
  return retryable && attempts < maxAttempts ? 'queued' : 'failed';
}

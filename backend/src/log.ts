import { truncateForLog } from './text.js';

/** Longest message or error text one log line carries; a request can never push megabytes into the log. */
export const MAX_LOG_FIELD = 2_000;

/** The one-line JSON for a log entry, each free-text field cut to MAX_LOG_FIELD characters. */
export function formatLogLine(msg: string, err?: unknown, time = new Date()): string {
  const line: Record<string, unknown> = { time: time.toISOString(), msg: truncateForLog(msg, MAX_LOG_FIELD) };
  if (err !== undefined) {
    line.level = 'error';
    line.error = truncateForLog(err instanceof Error ? err.message : String(err), MAX_LOG_FIELD);
    if (err instanceof Error && err.stack) line.stack = truncateForLog(err.stack, 2 * MAX_LOG_FIELD);
  }
  return JSON.stringify(line);
}

/** One-line JSON logs on stdout/stderr, which the container runtime collects. */
export function log(msg: string, err?: unknown): void {
  if (err !== undefined) console.error(formatLogLine(msg, err));
  else console.log(formatLogLine(msg));
}

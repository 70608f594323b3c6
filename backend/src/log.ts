/** One-line JSON logs on stdout/stderr, which the container runtime collects. */
export function log(msg: string, err?: unknown): void {
  const line: Record<string, unknown> = { time: new Date().toISOString(), msg };
  if (err !== undefined) {
    line.level = 'error';
    line.error = err instanceof Error ? err.message : String(err);
    if (err instanceof Error && err.stack) line.stack = err.stack;
    console.error(JSON.stringify(line));
  } else {
    console.log(JSON.stringify(line));
  }
}

/** An API failure a person can read: the contract's {error, detail} plus the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

const FALLBACK_BY_STATUS: Record<number, string> = {
  400: 'The request was not accepted. Check the form and try again.',
  404: 'Not found. It may have been deleted.',
  409: 'Not ready yet. The analysis is still running.',
  413: 'That file is too large for the server. Trim the clip or export it smaller.',
  415: 'That file type is not supported. Use an MP4, MOV or WebM video.',
  500: 'The server hit an error. Try again in a moment.',
  502: 'The API is not reachable right now. Try again in a moment.',
  503: 'The service is starting up. Try again in a moment.',
};

/** Turn a status and (maybe unparsable) body into an ApiError with a one-line human message. */
export function toApiError(status: number, bodyText: string | null | undefined): ApiError {
  let code = `http_${status}`;
  let detail = '';
  if (bodyText) {
    try {
      const body = JSON.parse(bodyText) as { error?: unknown; detail?: unknown };
      if (typeof body.error === 'string') code = body.error;
      if (typeof body.detail === 'string') detail = body.detail;
    } catch {
      // Not JSON (a proxy's HTML page, for example): fall back to the status text below.
    }
  }
  if (status === 0) {
    return new ApiError(0, 'network_error', 'Network error: the server could not be reached. Check your connection and try again.');
  }
  const fallback = FALLBACK_BY_STATUS[status] ?? (status >= 500 ? FALLBACK_BY_STATUS[500] : `Request failed (HTTP ${status}).`);
  return new ApiError(status, code, detail || fallback);
}

/** The line shown to a person for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}

import type { ErrorRequestHandler, RequestHandler } from 'express';
import { truncateForLog } from './text.js';

/** An error with an HTTP status and a contract-shaped body {error, detail}. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, detail: string) => new HttpError(400, code, detail);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);

/** Fallthrough for unknown routes. */
export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${truncateForLog(req.path, 200)}`));
};

/** The one error middleware, registered last: every failure leaves as {error, detail}. */
export function errorMiddleware(log: (msg: string, err: unknown) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let body = { error: 'internal', detail: 'internal server error' };
    let headers: Record<string, string> = {};
    if (err instanceof HttpError) {
      status = err.status;
      body = { error: err.code, detail: err.message };
      headers = err.headers;
    } else if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      // Errors raised by Express/body parsers (e.g. malformed JSON) carry a client status.
      status = err.status;
      body =
        err.type === 'entity.too.large'
          ? { error: 'payload_too_large', detail: `the request body is larger than ${err.limit ?? 'the limit'} bytes` }
          : { error: err.type ?? 'bad_request', detail: err.expose ? String(err.message) : 'bad request' };
    } else {
      log(`${req.method} ${req.originalUrl} failed`, err);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).set(headers).json(body);
  };
}

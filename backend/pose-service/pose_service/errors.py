"""One error shape for every failure: JSON {error, detail} with a meaningful status."""

from __future__ import annotations

import logging

from flask import Flask, Response, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client can act on; rendered as {"error": code, "detail": detail}."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    resp = jsonify({"error": code, "detail": detail})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


# Werkzeug's names become stable snake_case codes so clients never parse HTML or prose.
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    503: "unavailable",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError) -> Response:
        return error_response(err.status, err.code, err.detail, err.headers)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        status = err.code or 500
        code = _HTTP_CODES.get(status, (err.name or "error").lower().replace(" ", "_"))
        detail = err.description or err.name or "HTTP error"
        if status == 413:
            # The route's own limit when it set one (images, JSON bodies), else the app-wide one.
            limit = (request.max_content_length if has_request_context() else None) or app.config.get(
                "MAX_CONTENT_LENGTH"
            )
            detail = f"upload exceeds the limit of {limit} bytes; send a smaller file"
        headers = {k: v for k, v in err.get_headers() if k.lower() not in ("content-type", "content-length")}
        return error_response(status, code, detail, headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        # A bug of ours, never the client's input: log it and keep the JSON shape.
        log.exception("unhandled error")
        return error_response(500, "internal_error", f"{type(err).__name__}: the service failed unexpectedly")

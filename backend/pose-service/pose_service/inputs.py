"""Validation at the edge: JSON bodies with a size limit, paths confined to the uploads directory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import ApiError

# What of a client's string may appear in a detail or a log line.
CLIP_CHARS = 200


def clip(value: Any, limit: int = CLIP_CHARS) -> str:
    """repr-free short form of a client-supplied value: never a multi-megabyte string in a reply or a log."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def json_object(limit: int) -> dict[str, Any]:
    """The request's JSON object, refused with 413 over `limit` bytes before any of it is parsed.

    The body is read here, at most limit + 1 bytes, because a chunked body declares no length and Werkzeug's
    parser would silently see a truncated document instead of refusing it.
    """
    too_large = ApiError(413, "payload_too_large", f"the JSON body exceeds the limit of {limit} bytes for this route")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    request.max_content_length = limit
    try:
        raw = request.stream.read(limit)
        if request.stream.read(1):
            raise too_large
    except RequestEntityTooLarge:
        raise too_large from None
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", 'the JSON body must be an object like {"path": "/data/uploads/x.mp4"}')
    return body


def _inside(real: Path, root: Path) -> bool:
    return real == root or real.is_relative_to(root)


def resolve_upload_path(raw: Any, upload_root: str) -> Path:
    """The real file a JSON 'path' names, refused unless it lies inside upload_root after resolving symlinks."""
    if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
        raise ApiError(400, "invalid_path", "'path' must be a non-empty string")
    root = Path(os.path.realpath(upload_root))
    candidate = Path(raw) if os.path.isabs(raw) else root / raw
    real = Path(os.path.realpath(candidate))
    if not _inside(real, root):
        raise ApiError(400, "invalid_path", f"'path' must point inside the uploads directory {upload_root}")
    if not real.is_file():
        raise ApiError(404, "file_not_found", f"no file at {clip(raw)} inside the uploads directory")
    return real


def resolve_output_dir(raw: Any, upload_root: str) -> Path:
    """A directory strictly inside upload_root (created if missing) for derived files such as renditions."""
    if not isinstance(raw, str) or not raw.strip() or "\x00" in raw:
        raise ApiError(400, "invalid_out_dir", "'out_dir' must be a non-empty string")
    if not os.path.isabs(raw):
        raise ApiError(400, "invalid_out_dir", "'out_dir' must be an absolute path inside the uploads directory")
    root = Path(os.path.realpath(upload_root))
    real = Path(os.path.realpath(raw))
    if real == root or not _inside(real, root):
        raise ApiError(400, "invalid_out_dir", f"'out_dir' must be a directory inside {upload_root}")
    if real.exists() and not real.is_dir():
        raise ApiError(400, "invalid_out_dir", f"'out_dir' {clip(raw)} exists and is not a directory")
    try:
        real.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ApiError(
            507 if exc.errno == 28 else 403, "out_dir_not_writable", f"cannot create 'out_dir': {exc.strerror}"
        ) from None
    # A symlink swapped in while we created the directory must not lead out of the root either.
    if not _inside(Path(os.path.realpath(real)), root):
        raise ApiError(400, "invalid_out_dir", f"'out_dir' must be a directory inside {upload_root}")
    return real

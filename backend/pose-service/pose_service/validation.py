"""Validation of the pose options: numbers from a form or JSON body, checked before any work starts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import ApiError
from .media import Sampling


def _number(raw: Any, name: str, kind: type) -> float | int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ApiError(400, "invalid_option", f"{name} must be a number")
    try:
        value = kind(raw) if kind is float else int(str(raw).strip())
    except (TypeError, ValueError):
        what = "an integer" if kind is int else "a number"
        raise ApiError(400, "invalid_option", f"{name} must be {what}, got {raw!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ApiError(400, "invalid_option", f"{name} must be finite")
    return value


def parse_sampling(opts: Mapping[str, Any], max_frames_limit: int) -> Sampling:
    """Validate the options that do not depend on the video itself (pure, raises ApiError)."""
    sample_fps = _number(opts.get("sample_fps"), "sample_fps", float)
    max_frames = _number(opts.get("max_frames"), "max_frames", int)
    start_s = _number(opts.get("start_s"), "start_s", float)
    end_s = _number(opts.get("end_s"), "end_s", float)
    if sample_fps is not None and sample_fps <= 0:
        raise ApiError(400, "invalid_option", "sample_fps must be > 0")
    limit = min(100_000, max_frames_limit)
    if max_frames is not None and not 1 <= max_frames <= limit:
        raise ApiError(400, "invalid_option", f"max_frames must be between 1 and {limit}")
    if start_s is not None and start_s < 0:
        raise ApiError(400, "invalid_option", "start_s must be ≥ 0")
    if end_s is not None and end_s <= (start_s or 0.0):
        raise ApiError(400, "invalid_option", "end_s must be greater than start_s")
    return Sampling(
        sample_fps=None if sample_fps is None else float(sample_fps),
        max_frames=int(max_frames) if max_frames is not None else limit,
        start_s=float(start_s or 0.0),
        end_s=None if end_s is None else float(end_s),
    )

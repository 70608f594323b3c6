"""Service configuration, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

BACKEND_CHOICES = ("auto", "mediapipe", "hmr2")


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{key} must be an integer, got {raw!r}") from exc


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Config:
    """Everything the service can be told from outside; see from_env for the variable names."""

    backend: str = "auto"
    upload_root: str = "/data/uploads"
    model_dir: str = "/data/models"
    max_content_length: int = 500 * 1024 * 1024
    max_inflight: int = 2
    retry_after_s: int = 5
    max_frames_limit: int = 100_000
    max_image_pixels: int = 60_000_000
    model_complexity: int = 1
    warmup: bool = True
    tmp_dir: str | None = None
    # Frames are shrunk to this longest side before pose (the model works at ~256 px; 4K RGB is 25 MB a frame).
    analysis_max_side: int = 1280
    # JSON bodies only carry a path and options; anything bigger is refused before it is parsed.
    max_json_bytes: int = 64 * 1024
    max_image_bytes: int = 50 * 1024 * 1024
    ffmpeg_bin: str = "ffmpeg"
    rendition_max_side: int = 1080
    rendition_preset: str = "veryfast"
    rendition_crf: int = 23
    # ffmpeg decoder and encoder threads: 2 fits the 2-core target and keeps a 4K decode near 210 MB.
    rendition_threads: int = 2
    ingest_timeout_s: int = 3600
    max_ingests: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        """Build from POSE_* variables (and UPLOAD_ROOT / MAX_CONTENT_LENGTH as the contract names them)."""
        e = os.environ if env is None else env
        backend = e.get("POSE_BACKEND", "auto").strip().lower() or "auto"
        if backend not in BACKEND_CHOICES:
            raise ValueError(f"POSE_BACKEND must be one of {', '.join(BACKEND_CHOICES)}, got {backend!r}")
        return cls(
            backend=backend,
            upload_root=e.get("UPLOAD_ROOT", "/data/uploads"),
            model_dir=e.get("POSE_MODEL_DIR", "/data/models"),
            max_content_length=_int(e, "MAX_CONTENT_LENGTH", 500 * 1024 * 1024),
            max_inflight=max(1, _int(e, "POSE_MAX_INFLIGHT", 2)),
            retry_after_s=max(1, _int(e, "POSE_RETRY_AFTER_S", 5)),
            max_frames_limit=max(1, _int(e, "POSE_MAX_FRAMES", 100_000)),
            max_image_pixels=max(1, _int(e, "POSE_MAX_IMAGE_PIXELS", 60_000_000)),
            model_complexity=_int(e, "POSE_MODEL_COMPLEXITY", 1),
            warmup=_bool(e, "POSE_WARMUP", True),
            tmp_dir=e.get("POSE_TMP_DIR") or None,
            analysis_max_side=max(64, _int(e, "POSE_ANALYSIS_MAX_SIDE", 1280)),
            max_json_bytes=max(1024, _int(e, "POSE_MAX_JSON_BYTES", 64 * 1024)),
            max_image_bytes=max(1024, _int(e, "POSE_MAX_IMAGE_BYTES", 50 * 1024 * 1024)),
            ffmpeg_bin=e.get("FFMPEG_BIN") or "ffmpeg",
            rendition_max_side=max(16, _int(e, "RENDITION_MAX_SIDE", 1080)),
            rendition_preset=e.get("RENDITION_PRESET") or "veryfast",
            rendition_crf=_int(e, "RENDITION_CRF", 23),
            rendition_threads=max(0, _int(e, "RENDITION_THREADS", 2)),
            ingest_timeout_s=max(1, _int(e, "POSE_INGEST_TIMEOUT", 3600)),
            max_ingests=max(1, _int(e, "POSE_MAX_INGESTS", 1)),
        )

    def with_overrides(self, **kwargs: Any) -> Config:
        return replace(self, **kwargs)

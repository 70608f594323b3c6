"""HTTP endpoints: GET /health, GET /ready and GET /v1/info."""

from __future__ import annotations

import platform

import cv2
import numpy as np
from flask import Blueprint, Response, jsonify

from .. import __version__
from ..backends import cuda_device
from ..errors import error_response
from .context import app_config, app_runtime

health_bp = Blueprint("health", __name__)


@health_bp.get("/health")
def health() -> Response:
    rt = app_runtime()
    return jsonify({"status": rt.status, "backend": rt.backend_name, "device": rt.device, "detail": rt.detail})


@health_bp.get("/ready")
def ready() -> Response:
    rt = app_runtime()
    if rt.ready:
        return jsonify({"ready": True})
    detail = rt.detail or rt.status
    return error_response(503, "not_ready", f"{rt.status}: {detail}", {"Retry-After": "2"})


def _versions() -> dict[str, str | None]:
    import flask

    def ver(mod: str) -> str | None:
        try:
            return str(__import__(mod).__version__)
        except Exception:
            return None

    return {
        "service": __version__,
        "python": platform.python_version(),
        "flask": getattr(flask, "__version__", None) or _dist_version("flask"),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "mediapipe": _dist_version("mediapipe"),
        "av": _dist_version("av"),
        "torch": ver("torch") if app_runtime().device == "cuda" else None,
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


@health_bp.get("/v1/info")
def info() -> Response:
    rt, cfg = app_runtime(), app_config()
    gpu = None
    if rt.device == "cuda":
        _, name, memory = cuda_device()
        gpu = {"name": name, "memory_bytes": memory}
    return jsonify(
        {
            "backend": rt.backend_name,
            "device": rt.device,
            "status": rt.status,
            "detail": rt.detail,
            "gpu": gpu,
            "model": rt.describe(),
            "versions": _versions(),
            "limits": {
                "max_content_length_bytes": cfg.max_content_length,
                "max_inflight_requests": cfg.max_inflight,
                "max_frames": cfg.max_frames_limit,
                "max_image_pixels": cfg.max_image_pixels,
                "max_image_bytes": cfg.max_image_bytes,
                "max_json_bytes": cfg.max_json_bytes,
                "rendition_max_side": cfg.rendition_max_side,
                "rendition_preset": cfg.rendition_preset,
                "upload_root": cfg.upload_root,
                "image_types": ["jpeg", "png", "webp"],
                "video_types": ["mp4", "mov", "webm"],
            },
        }
    )

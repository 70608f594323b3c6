"""HTTP endpoints: health/readiness/info and the two pose resources (probe and ingest: media_api.py)."""

from __future__ import annotations

import functools
import math
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import cv2
import numpy as np
from flask import Blueprint, Response, current_app, jsonify, request

from . import __version__
from .analysis import compute_metrics
from .backends import cuda_device
from .config import Config
from .errors import ApiError, error_response
from .inputs import json_object, resolve_upload_path
from .media import Sampling, analysis_scale, decode_frames, decode_image, sample_indices, sniff_video
from .probe import VideoProbe, probe_video
from .runtime import PoseRuntime
from .tracking import choose_rider, rider_track

health_bp = Blueprint("health", __name__)
pose_bp = Blueprint("pose", __name__, url_prefix="/v1")

F = TypeVar("F", bound=Callable[..., Any])


def _runtime() -> PoseRuntime:
    return cast(PoseRuntime, current_app.extensions["pose_runtime"])


def _config() -> Config:
    return cast(Config, current_app.extensions["pose_config"])


@health_bp.get("/health")
def health() -> Response:
    rt = _runtime()
    return jsonify({"status": rt.status, "backend": rt.backend_name, "device": rt.device, "detail": rt.detail})


@health_bp.get("/ready")
def ready() -> Response:
    rt = _runtime()
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
        "torch": ver("torch") if _runtime().device == "cuda" else None,
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


@pose_bp.get("/info")
def info() -> Response:
    rt, cfg = _runtime(), _config()
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


def bounded(view: F) -> F:
    """Refuse with 503 + Retry-After beyond max_inflight concurrent pose requests, before reading the body."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rt, cfg = _runtime(), _config()
        if not rt.ready:
            raise ApiError(503, "not_ready", f"model {rt.status}: {rt.detail}", {"Retry-After": "2"})
        slots = cast(threading.BoundedSemaphore, current_app.extensions["pose_slots"])
        if not slots.acquire(blocking=False):
            raise ApiError(
                503,
                "overloaded",
                f"{cfg.max_inflight} pose requests already running; retry later",
                {"Retry-After": str(cfg.retry_after_s)},
            )
        try:
            return view(*args, **kwargs)
        finally:
            slots.release()

    return cast(F, wrapper)


@pose_bp.post("/pose/image")
@bounded
def pose_image() -> Response:
    cfg = _config()
    request.max_content_length = min(cfg.max_content_length, cfg.max_image_bytes)
    upload = request.files.get("image")
    if upload is None:
        raise ApiError(400, "missing_file", "send the picture as multipart form field 'image'")
    rgb = decode_image(upload.stream, cfg.max_image_pixels)
    rt = _runtime()
    assert rt.backend is not None
    persons = rt.backend.estimate_image(rgb)
    return jsonify(
        {
            "width": int(rgb.shape[1]),
            "height": int(rgb.shape[0]),
            "persons": [p.to_json() for p in persons],
            "backend": rt.backend_name,
            "device": rt.device,
        }
    )


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


@pose_bp.post("/pose/video")
@bounded
def pose_video() -> Response:
    cfg = _config()
    tmp_path: str | None = None
    try:
        if request.is_json:
            body = json_object(cfg.max_json_bytes)
            path = resolve_upload_path(body.get("path"), cfg.upload_root)
            if path.stat().st_size > cfg.max_content_length:
                raise ApiError(
                    413, "payload_too_large", f"the file exceeds the limit of {cfg.max_content_length} bytes"
                )
            opts: Mapping[str, Any] = body
            video_path = str(path)
        else:
            upload = request.files.get("video")
            if upload is None:
                raise ApiError(
                    400, "missing_file", "send the clip as multipart form field 'video' or JSON {\"path\": ...}"
                )
            opts = request.form
            fd, tmp_path = tempfile.mkstemp(prefix="pose-", suffix=".video", dir=cfg.tmp_dir)
            with os.fdopen(fd, "wb") as out:
                upload.save(out)
            video_path = tmp_path
        sampling = parse_sampling(opts, cfg.max_frames_limit)
        with open(video_path, "rb") as fh:
            head = fh.read(16)
        if not head:
            raise ApiError(422, "empty_video", "the video file is empty")
        if sniff_video(head) is None:
            raise ApiError(415, "unsupported_media_type", "the file is not an MP4, MOV or WebM video")
        return jsonify(_analyse(video_path, sampling))
    finally:
        if tmp_path is not None:
            os.unlink(tmp_path)


def _probe_for_pose(video_path: str) -> VideoProbe:
    """The probe, with this route's historical error: an unreadable stream is 422 'undecodable_video'."""
    try:
        return probe_video(video_path)
    except ApiError as err:
        if err.code == "unsupported_media":
            raise ApiError(422, "undecodable_video", f"the video cannot be decoded: {err.detail}") from None
        raise


def video_json(probe: VideoProbe) -> dict[str, Any]:
    """The 'video' object of a pose reply: display size, true average fps, orientation and codec."""
    return {
        "fps": round(probe.fps, 4),
        "frame_count": probe.frame_count,
        "width": probe.display_width,
        "height": probe.display_height,
        "duration_s": round(probe.duration_s, 4),
        "rotation": probe.orientation.rotation,
        "mirrored": probe.orientation.mirrored,
        "frame_rate_mode": probe.frame_rate_mode,
        "codec": probe.video_codec,
    }


def _analyse(video_path: str, sampling: Sampling) -> dict[str, Any]:
    rt, cfg = _runtime(), _config()
    assert rt.backend is not None
    started = time.perf_counter()
    probe = _probe_for_pose(video_path)
    # A variable-frame-rate clip may be sampled up to its fastest stretch (its average is lower).
    if sampling.sample_fps is not None and sampling.sample_fps > round(probe.peak_fps, 3) + 1e-6:
        raise ApiError(400, "invalid_option", f"sample_fps must be ≤ the video's frame rate ({probe.peak_fps:.3f})")
    if sampling.start_s >= probe.duration_s:
        raise ApiError(400, "invalid_option", f"start_s is beyond the video's duration ({probe.duration_s:.3f} s)")
    indices = sample_indices(probe.frame_times, probe.duration_s, sampling)
    frames = rt.backend.track_video(decode_frames(video_path, probe, indices, cfg.analysis_max_side))
    if not frames and indices:
        raise ApiError(422, "undecodable_video", "no frame could be decoded: the stream is corrupt")
    # Frames shrunk for the model: keypoints back to display pixels.
    factor = 1.0 / analysis_scale(probe.coded_width, probe.coded_height, cfg.analysis_max_side)
    for f in frames:
        f.persons = [p.scaled(factor) for p in f.persons]
    rider = choose_rider(frames)
    metrics = compute_metrics(rider_track(frames, rider))
    seconds = time.perf_counter() - started
    return {
        "backend": rt.backend_name,
        "device": rt.device,
        "video": video_json(probe),
        "rider_track_id": rider,
        "frames": [{"index": f.index, "t": round(f.t, 6), "persons": [p.to_json() for p in f.persons]} for f in frames],
        "metrics": metrics,
        "timing": {
            "seconds": round(seconds, 3),
            "frames_per_second": round(len(frames) / seconds, 2) if seconds else None,
        },
    }


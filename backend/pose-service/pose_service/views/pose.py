"""HTTP endpoints: POST /v1/pose/image and POST /v1/pose/video, at most max_inflight at a time."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, jsonify, request

from ..errors import ApiError
from ..inputs import json_object, resolve_upload_path
from ..media import decode_image, sniff_video
from ..pipeline import analyse_video
from ..validation import parse_sampling
from .context import app_config, app_runtime, bounded_slot

pose_bp = Blueprint("pose", __name__, url_prefix="/v1")

F = TypeVar("F", bound=Callable[..., Any])


def bounded(view: F) -> F:
    """Refuse with 503 + Retry-After beyond max_inflight concurrent pose requests, before reading the body."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rt, cfg = app_runtime(), app_config()
        if not rt.ready:
            raise ApiError(503, "not_ready", f"model {rt.status}: {rt.detail}", {"Retry-After": "2"})
        with bounded_slot("pose_slots", f"{cfg.max_inflight} pose requests"):
            return view(*args, **kwargs)

    return cast(F, wrapper)


@pose_bp.post("/pose/image")
@bounded
def pose_image() -> Response:
    cfg = app_config()
    request.max_content_length = min(cfg.max_content_length, cfg.max_image_bytes)
    upload = request.files.get("image")
    if upload is None:
        raise ApiError(400, "missing_file", "send the picture as multipart form field 'image'")
    rgb = decode_image(upload.stream, cfg.max_image_pixels)
    rt = app_runtime()
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


@pose_bp.post("/pose/video")
@bounded
def pose_video() -> Response:
    cfg = app_config()
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
        return jsonify(analyse_video(app_runtime(), video_path, sampling, cfg.analysis_max_side))
    finally:
        if tmp_path is not None:
            os.unlink(tmp_path)

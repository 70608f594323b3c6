"""HTTP endpoints for media facts and derived files: POST /v1/probe and POST /v1/ingest (no model needed)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..inputs import json_object, resolve_output_dir, resolve_upload_path
from ..probe import probe_video
from ..rendition import ingest
from .context import app_config, bounded_slot

media_bp = Blueprint("media", __name__, url_prefix="/v1")


@media_bp.post("/probe")
def probe() -> Response:
    cfg = app_config()
    body = json_object(cfg.max_json_bytes)
    path = resolve_upload_path(body.get("path"), cfg.upload_root)
    return jsonify(probe_video(str(path)).to_json())


@media_bp.post("/ingest")
def ingest_video() -> Response:
    cfg = app_config()
    body = json_object(cfg.max_json_bytes)
    path = resolve_upload_path(body.get("path"), cfg.upload_root)
    out_dir = resolve_output_dir(body.get("out_dir"), cfg.upload_root)
    with bounded_slot("ingest_slots", f"{cfg.max_ingests} ingest(s)"):
        facts = probe_video(str(path))
        reply = ingest(path, out_dir, facts, ffmpeg=cfg.ffmpeg_bin, max_side=cfg.rendition_max_side,
                       preset=cfg.rendition_preset, crf=cfg.rendition_crf, timeout_s=cfg.ingest_timeout_s,
                       threads=cfg.rendition_threads)  # fmt: skip
        return jsonify(reply)

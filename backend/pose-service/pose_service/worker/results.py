"""The documents a worker writes for results: pose_frames chunks and the split metrics (pure conversions)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from bson import ObjectId

from ..backends.base import FramePoses
from ..keypoints import PersonPose
from ..metrics.compute import SERIES_KEYS
from ..pipeline import GridBlock

# Frames of metric series per metric_series document: 1,000 frames × 19 series ≈ 200 KB of BSON doubles.
SERIES_PER_CHUNK = 1000

Doc = dict[str, Any]


def frame_json(f: FramePoses) -> Doc:
    """A frame as /v1/pose/video writes it (pipeline.analyse_video), so both paths store the same JSON."""
    return {"index": f.index, "t": round(f.t, 6), "persons": [p.to_json() for p in f.persons]}


def chunk_doc(video_id: ObjectId, block: GridBlock) -> Doc:
    """A pose_frames chunk; `warmup` keeps the overlap frames this block's tracker saw, for the finish's join."""
    return {
        "videoId": video_id,
        "chunk": block.chunk,
        "tStart": round(block.frames[0].t, 6),
        "tEnd": round(block.frames[-1].t, 6),
        "frames": [frame_json(f) for f in block.frames],
        "warmup": [frame_json(f) for f in block.warmup],
    }


def person_from_json(p: Doc) -> PersonPose:
    kp2d = np.array([(k["x"], k["y"], k["score"]) for k in p["keypoints"]], dtype=np.float64)
    kp3d = None
    if p.get("keypoints_3d") is not None:
        kp3d = np.array([(k["x"], k["y"], k["z"]) for k in p["keypoints_3d"]], dtype=np.float64)
    x1, y1, x2, y2 = (float(v) for v in p["bbox"])
    return PersonPose(kp2d=kp2d, kp3d=kp3d, bbox=(x1, y1, x2, y2), score=float(p["score"]), track_id=p["track_id"])


def frames_from_json(frames: Sequence[Doc]) -> list[FramePoses]:
    return [FramePoses(f["index"], float(f["t"]), [person_from_json(p) for p in f["persons"]]) for f in frames]


def split_metrics(video_id: ObjectId, metrics: Doc, per_chunk: int = SERIES_PER_CHUNK) -> tuple[Doc, list[Doc]]:
    """The `metrics` document (summary + index) and the `metric_series` chunks of one compute_metrics result.

    GET /api/videos/:id/metrics joins them back into exactly `metrics` (docs/contracts.md).
    """
    series = metrics["series"]
    t = series["t"]
    keys = [k for k in SERIES_KEYS if k in series]
    n = len(t)
    count = math.ceil(n / per_chunk)
    chunks = [
        {
            "videoId": video_id,
            "chunk": c,
            "t": t[c * per_chunk : (c + 1) * per_chunk],
            "series": {k: series[k][c * per_chunk : (c + 1) * per_chunk] for k in keys},
            "smoothed": {k: series["smoothed"][k][c * per_chunk : (c + 1) * per_chunk] for k in keys},
        }
        for c in range(count)
    ]
    head = {"_id": video_id, "summary": metrics["summary"], "seriesKeys": keys, "frames": n, "seriesChunks": count}
    return head, chunks


def join_metrics(head: Doc, chunks: Sequence[Doc]) -> Doc:
    """The inverse of split_metrics (what the API does when it reads; here for the tests and the bench)."""
    ordered = sorted(chunks, key=lambda c: c["chunk"])
    keys = head["seriesKeys"]
    series: Doc = {"t": [v for c in ordered for v in c["t"]]}
    for k in keys:
        series[k] = [v for c in ordered for v in c["series"][k]]
    series["smoothed"] = {k: [v for c in ordered for v in c["smoothed"][k]] for k in keys}
    return {"series": series, "summary": head["summary"]}

"""The video pose pipeline, without Flask: probe → decode the sampled frames → pose → rider tracking → metrics.

The view (views/pose.py) and the benchmark (bench/bench_pose.py) both call analyse_video.
"""

from __future__ import annotations

import time
from typing import Any

from .analysis import compute_metrics
from .errors import ApiError
from .media import Sampling, analysis_scale, decode_frames, sample_indices
from .probe import VideoProbe, probe_video
from .runtime import PoseRuntime
from .tracking import choose_rider, rider_track


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


def analyse_video(rt: PoseRuntime, video_path: str, sampling: Sampling, analysis_max_side: int) -> dict[str, Any]:
    """The body of a /v1/pose/video reply for a ready runtime; raises ApiError for a video it cannot analyse."""
    assert rt.backend is not None
    started = time.perf_counter()
    probe = _probe_for_pose(video_path)
    # A variable-frame-rate clip may be sampled up to its fastest stretch (its average is lower).
    if sampling.sample_fps is not None and sampling.sample_fps > round(probe.peak_fps, 3) + 1e-6:
        raise ApiError(400, "invalid_option", f"sample_fps must be ≤ the video's frame rate ({probe.peak_fps:.3f})")
    if sampling.start_s >= probe.duration_s:
        raise ApiError(400, "invalid_option", f"start_s is beyond the video's duration ({probe.duration_s:.3f} s)")
    indices = sample_indices(probe.frame_times, probe.duration_s, sampling)
    frames = rt.backend.track_video(decode_frames(video_path, probe, indices, analysis_max_side))
    if not frames and indices:
        raise ApiError(422, "undecodable_video", "no frame could be decoded: the stream is corrupt")
    # Frames shrunk for the model: keypoints back to display pixels.
    factor = 1.0 / analysis_scale(probe.coded_width, probe.coded_height, analysis_max_side)
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

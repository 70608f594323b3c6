"""`compute_metrics`: the contract's Metrics object (docs/contracts.md) for one rider — every per-frame series,
its smoothed twin, and the summary, with each summary value null (and summary.unavailable saying why) when its
body part was not seen enough."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .ground import airborne_segments, hip_height, stance_with_reason
from .posture import body_tilt, hip_angles, knee_angles, stance_width, upper_body_rotation
from .rotation import cumulative_rotation, spin_summary, yaw_2d, yaw_3d
from .timeseries import smooth
from .track import LH, LS, NEEDS, PART_WORDS, RH, RS, VISIBLE_SCORE, RiderTrack, masked_points, part_reason, parts_seen

SERIES_KEYS = (
    "left_knee_angle", "right_knee_angle", "left_hip_angle", "right_hip_angle", "stance_width",
    "upper_body_rotation", "body_tilt", "hip_height", "cumulative_rotation",
)  # fmt: skip


def _json_list(x: np.ndarray, digits: int = 3) -> list[float | None]:
    return [round(float(v), digits) if math.isfinite(v) else None for v in x]


def compute_metrics(track: RiderTrack) -> dict[str, Any]:
    """The contract's Metrics object (docs/contracts.md) for one rider."""
    # Frames without the rider are NaN by design; numpy's "mean of empty slice" warnings say nothing new.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _compute_metrics(track)


def _compute_metrics(track: RiderTrack) -> dict[str, Any]:
    t = np.asarray(track.t, dtype=np.float64)
    n = len(t)
    xy, xyz = masked_points(track)
    seen_parts = parts_seen(xy)
    counts = {part: int(v.sum()) for part, v in seen_parts.items()}
    rider_frames = counts["torso"]
    reasons = {part: part_reason(part, counts[part], rider_frames, n) for part in PART_WORDS}
    unavailable: dict[str, str] = {}
    for key, part in NEEDS.items():
        why = reasons[part]
        if why is not None:
            unavailable[key] = why
    lk, rk = knee_angles(xy, xyz)
    lh, rh = hip_angles(xy, xyz)
    use_3d = xyz is not None and bool(np.isfinite(xyz[:, [LH, RH, LS, RS]]).any())
    yaw = yaw_3d(xyz) if use_3d and xyz is not None else yaw_2d(xy)
    cum = cumulative_rotation(t, yaw)
    series = {
        "left_knee_angle": lk,
        "right_knee_angle": rk,
        "left_hip_angle": lh,
        "right_hip_angle": rh,
        "stance_width": stance_width(xy, xyz),
        "upper_body_rotation": upper_body_rotation(xy, xyz),
        "body_tilt": body_tilt(xy, xyz),
        "hip_height": hip_height(xy, t) if n else np.zeros(0),
        "cumulative_rotation": cum,
    }
    smoothed = {k: smooth(t, v) for k, v in series.items()}
    airborne = airborne_segments(t, xy) if "airtime_s" not in unavailable else []
    # The peak of the smoothed curve, so one noisy frame cannot add degrees to the spin.
    max_rot, direction = spin_summary(smoothed["cumulative_rotation"])
    if "max_rotation_deg" in unavailable:
        max_rot, direction = None, None
    knees = np.concatenate([smoothed["left_knee_angle"], smoothed["right_knee_angle"]])
    min_knee = None
    if "min_knee_angle_deg" not in unavailable and np.isfinite(knees).any():
        min_knee = float(np.nanmin(knees))
    stance = None
    if "stance" not in unavailable:
        stance, why_not = stance_with_reason(t, xy, airborne)
        if why_not is not None:
            unavailable["stance"] = why_not
    return {
        "series": {
            "t": [round(float(v), 4) for v in t],
            **{k: _json_list(v) for k, v in series.items()},
            "smoothed": {k: _json_list(v) for k, v in smoothed.items()},
        },
        "summary": {
            "max_rotation_deg": None if max_rot is None else round(max_rot, 1),
            "rotation_direction": direction,
            "airtime_s": None if "airtime_s" in unavailable else round(sum(b - a for a, b in airborne), 3),
            "airborne_segments": [{"start_s": round(a, 3), "end_s": round(b, 3)} for a, b in airborne],
            "stance": stance,
            "min_knee_angle_deg": None if min_knee is None else round(min_knee, 1),
            "frames_analysed": n,
            "frames_with_rider": rider_frames,
            "frames_seen": counts,
            "joint_score_min": VISIBLE_SCORE,
            "unavailable": unavailable,
        },
    }

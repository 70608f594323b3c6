"""From per-frame detections to the rider's keypoint time series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .analysis import RiderTrack
from .backends.base import FramePoses


def choose_rider(frames: Sequence[FramePoses]) -> int | None:
    """The track seen in the most frames; ties go to the larger mean bbox (the subject the camera follows)."""
    count: dict[int, int] = defaultdict(int)
    area: dict[int, float] = defaultdict(float)
    for f in frames:
        for p in f.persons:
            if p.track_id is None:
                continue
            count[p.track_id] += 1
            x1, y1, x2, y2 = p.bbox
            area[p.track_id] += max(0.0, x2 - x1) * max(0.0, y2 - y1)
    if not count:
        return None
    return max(count, key=lambda tid: (count[tid], area[tid] / count[tid], -tid))


def rider_track(frames: Sequence[FramePoses], track_id: int | None) -> RiderTrack:
    """Stack the rider's keypoints over all frames; NaN rows where the rider is absent."""
    n = len(frames)
    t = np.array([f.t for f in frames], dtype=np.float64)
    kp2d = np.full((n, 17, 3), np.nan)
    kp3d = np.full((n, 17, 3), np.nan)
    has_3d = False
    for i, f in enumerate(frames):
        for p in f.persons:
            if track_id is not None and p.track_id == track_id:
                kp2d[i] = p.kp2d
                if p.kp3d is not None:
                    kp3d[i] = p.kp3d
                    has_3d = True
                break
    return RiderTrack(t=t, kp2d=kp2d, kp3d=kp3d if has_3d else None)

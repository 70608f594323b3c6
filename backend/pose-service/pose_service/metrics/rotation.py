"""Rotation over the clip: the body's yaw per frame (3D, or estimated from one 2D view), the degrees turned
since the rider was first seen, and the spin it adds up to."""

from __future__ import annotations

import numpy as np

from .posture import line_yaw_3d, mid, torso_length_px
from .track import LH, LS, NOSE, RH, RS

# Below this total rotation a clip holds no spin, so a direction would be noise.
SPIN_MIN_DEG = 90.0
# Lower bounds, in torso lengths, for the 2D yaw's full-scale shoulder width, hip width and nose offset
# (adult proportions: shoulders ~0.7, hip joints ~0.4, nose ~0.2 torso lengths ahead of the shoulder line),
# set a little under the real values so a clip that does show them full-size scales by what it shows.
SHOULDER_WIDTH_TORSOS = 0.6
HIP_WIDTH_TORSOS = 0.3
NOSE_OFFSET_TORSOS = 0.18
# The rotation's zero: the median yaw over the first this-many seconds the rider is seen.
ROTATION_ANCHOR_S = 0.15


def yaw_3d(xyz: np.ndarray) -> np.ndarray:
    """Body yaw (rad, wrapped) as the circular mean of the hip-line and shoulder-line yaws."""
    yh, ys = line_yaw_3d(xyz, LH, RH), line_yaw_3d(xyz, LS, RS)
    s = np.nanmean(np.stack([np.sin(yh), np.sin(ys)]), axis=0)
    c = np.nanmean(np.stack([np.cos(yh), np.cos(ys)]), axis=0)
    return np.arctan2(s, c)


def yaw_2d(xy: np.ndarray) -> np.ndarray:
    """Body yaw (rad, wrapped) from one camera view, assuming a roughly orthographic side view.

    Turning by yaw θ shrinks the apparent shoulder/hip width to W·cos θ (signed by which side is on the
    left of the image) and moves the nose sideways off the shoulder centre by d·sin θ, so
    θ = atan2(offset/d, width/W). W and d are the largest values seen in the clip (95th percentile), but
    never less than a body-proportion floor in torso lengths: a rider who never turns shows only noise
    in the small component, and scaling that noise up to full size would read as ±45° of rotation.
    """
    torso = torso_length_px(xy)
    widths = []
    for (left, right), floor in (((LS, RS), SHOULDER_WIDTH_TORSOS), ((LH, RH), HIP_WIDTH_TORSOS)):
        dx = xy[:, left, 0] - xy[:, right, 0]
        seen = np.abs(dx[np.isfinite(dx)])
        scale = max(float(np.percentile(seen, 95)), floor * torso) if len(seen) else np.nan
        widths.append(dx / scale)
    c = np.clip(np.nanmean(np.stack(widths), axis=0), -1.0, 1.0)
    off = xy[:, NOSE, 0] - mid(xy, LS, RS)[:, 0]
    seen = np.abs(off[np.isfinite(off)])
    d = max(float(np.percentile(seen, 95)), NOSE_OFFSET_TORSOS * torso) if len(seen) else np.nan
    s = np.clip(off / d, -1.0, 1.0)
    return np.arctan2(s, c)


def cumulative_rotation(t: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Degrees turned since the rider was first seen (positive = CCW from above); NaN where unseen.

    Unwrapping runs over the seen frames only, so a dropped frame never fakes a jump of 360°; it assumes
    less than 180° of turn between consecutive seen frames (≥ 4 frames per turn). The zero is the median
    over the first ROTATION_ANCHOR_S of seen frames, not one frame, so that frame's jitter does not shift
    the whole curve.
    """
    out = np.full(len(t), np.nan)
    ok = np.isfinite(yaw)
    if not ok.any():
        return out
    unwrapped = np.unwrap(yaw[ok])
    ts = t[ok]
    anchor = float(np.median(unwrapped[ts <= ts[0] + ROTATION_ANCHOR_S]))
    out[ok] = np.degrees(unwrapped - anchor)
    return out


def spin_summary(cum: np.ndarray) -> tuple[float | None, str | None]:
    """(largest absolute rotation reached, 'clockwise'|'counterclockwise' seen from above, or None)."""
    ok = np.isfinite(cum)
    if not ok.any():
        return None, None
    i = int(np.nanargmax(np.abs(cum)))
    peak = float(abs(cum[i]))
    if peak < SPIN_MIN_DEG:
        return peak, None
    return peak, "counterclockwise" if cum[i] > 0 else "clockwise"

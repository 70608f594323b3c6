"""Per-frame posture: joint angles, stance width, upper-body twist and tilt, and the body's scale in pixels.

Each series prefers the 3D keypoints (view-independent) and falls back to the 2D ones frame by frame.
"""

from __future__ import annotations

import numpy as np

from .track import LA, LH, LK, LS, RA, RH, RK, RS


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Interior angle ABC at b in degrees (180 = straight), row-wise; NaN where any point is missing."""
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / (nu * nv)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def prefer_3d(v3: np.ndarray | None, v2: np.ndarray) -> np.ndarray:
    """3D value where it exists (view-independent), the 2D one elsewhere."""
    if v3 is None:
        return v2
    return np.where(np.isnan(v3), v2, v3)


def mid(p: np.ndarray, i: int, j: int) -> np.ndarray:
    """Per frame, the point halfway between joints i and j."""
    return (p[:, i] + p[:, j]) / 2.0


def knee_angles(xy: np.ndarray, xyz: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Hip-knee-ankle angle per side; 180 is a straight leg, smaller is more flexion."""
    out = []
    for h, k, a in ((LH, LK, LA), (RH, RK, RA)):
        v2 = joint_angle(xy[:, h], xy[:, k], xy[:, a])
        v3 = None if xyz is None else joint_angle(xyz[:, h], xyz[:, k], xyz[:, a])
        out.append(prefer_3d(v3, v2))
    return out[0], out[1]


def hip_angles(xy: np.ndarray, xyz: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Shoulder-hip-knee angle per side; 180 is upright, smaller is more hip flexion."""
    out = []
    for s, h, k in ((LS, LH, LK), (RS, RH, RK)):
        v2 = joint_angle(xy[:, s], xy[:, h], xy[:, k])
        v3 = None if xyz is None else joint_angle(xyz[:, s], xyz[:, h], xyz[:, k])
        out.append(prefer_3d(v3, v2))
    return out[0], out[1]


def stance_width(xy: np.ndarray, xyz: np.ndarray | None) -> np.ndarray:
    """Ankle-to-ankle distance divided by hip width (dimensionless, so camera distance cancels)."""

    def ratio(p: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.linalg.norm(p[:, LA] - p[:, RA], axis=-1) / np.linalg.norm(p[:, LH] - p[:, RH], axis=-1)
        r[~np.isfinite(r)] = np.nan
        return r

    return prefer_3d(None if xyz is None else ratio(xyz), ratio(xy))


def line_yaw_3d(p: np.ndarray, left: int, right: int) -> np.ndarray:
    """Yaw (rad) about +y of the right→left line; 0 when the person faces the camera, CCW from above positive."""
    v = p[:, left] - p[:, right]
    return np.arctan2(-v[:, 2], v[:, 0])


def _wrap_deg(a: np.ndarray) -> np.ndarray:
    return (a + 180.0) % 360.0 - 180.0


def upper_body_rotation(xy: np.ndarray, xyz: np.ndarray | None) -> np.ndarray:
    """Shoulder-line yaw minus hip-line yaw, degrees in [-180, 180) (positive = shoulders turned CCW from above).

    With 3D keypoints this is the true twist about the vertical axis. With 2D only, the twist itself is not
    observable, so the value is the angle between the two lines in the image plane — what a viewer sees.
    """
    v2 = xy[:, LS] - xy[:, RS]
    h2 = xy[:, LH] - xy[:, RH]
    # Image y points down; negate so a positive angle is CCW on screen like the 3D convention.
    a2 = _wrap_deg(np.degrees(np.arctan2(-v2[:, 1], v2[:, 0]) - np.arctan2(-h2[:, 1], h2[:, 0])))
    a3 = None
    if xyz is not None:
        a3 = _wrap_deg(np.degrees(line_yaw_3d(xyz, LS, RS) - line_yaw_3d(xyz, LH, RH)))
    return prefer_3d(a3, a2)


def body_tilt(xy: np.ndarray, xyz: np.ndarray | None) -> np.ndarray:
    """Angle (0..180) between the hip-centre→shoulder-centre axis and vertical (image-up in 2D)."""
    ax2 = mid(xy, LS, RS) - mid(xy, LH, RH)
    t2 = np.degrees(np.arctan2(np.abs(ax2[:, 0]), -ax2[:, 1]))
    t3 = None
    if xyz is not None:
        ax3 = mid(xyz, LS, RS) - mid(xyz, LH, RH)
        t3 = np.degrees(np.arctan2(np.linalg.norm(ax3[:, [0, 2]], axis=-1), ax3[:, 1]))
    return prefer_3d(t3, t2)


def torso_length_px(xy: np.ndarray) -> float:
    """Median 2D shoulder-centre to hip-centre distance over the clip: the body's scale in pixels."""
    d = np.linalg.norm(mid(xy, LS, RS) - mid(xy, LH, RH), axis=-1)
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if len(d) else float("nan")

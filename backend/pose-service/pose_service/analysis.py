"""Snowboard metrics: pure functions over the rider's keypoint time series (numpy only).

Inputs use the COCO-17 order of keypoints.py. ``kp2d`` is (n, 17, 3): x, y pixels (y down) and a score;
``kp3d`` is (n, 17, 3) metres, hip-centred, y up, z toward the camera, or None. A frame where the rider was
not seen is all-NaN. Angles are degrees.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .keypoints import INDEX

# A joint counts as seen when the pose model's score (MediaPipe: visibility) is at least this; below it the joint
# is treated as missing everywhere: in every series, every summary value and (the web app reads it from
# summary.joint_score_min) in the drawing. MediaPipe places joints outside the picture anyway, with visibility
# mostly under 0.5 (legs of a waist-up clip: 0.01-0.5), and its own examples use 0.5 as "visible".
VISIBLE_SCORE = 0.5
# A summary value needs its body part seen in at least this many frames and this share of the frames with the
# rider; fewer and it would rest on a glimpse, so it is null and summary.unavailable says why.
MIN_PART_FRAMES = 5
MIN_PART_SHARE = 0.25
# Smoothing kernel width: long enough to kill jitter at 30-60 fps, short enough to keep a 0.3 s pop.
SMOOTH_SIGMA_S = 0.08
# Airborne hysteresis thresholds on the lowest ankle's clearance over the ground line, in torso lengths.
AIR_ENTER = 0.35
AIR_EXIT = 0.10
MIN_AIR_S = 0.1
GROUND_WINDOW_S = 3.0
# Below this total rotation a clip holds no spin, so a direction would be noise.
SPIN_MIN_DEG = 90.0
STANCE_MIN_TRAVEL_TORSOS = 1.0
# Lower bounds, in torso lengths, for the 2D yaw's full-scale shoulder width, hip width and nose offset
# (adult proportions: shoulders ~0.7, hip joints ~0.4, nose ~0.2 torso lengths ahead of the shoulder line),
# set a little under the real values so a clip that does show them full-size scales by what it shows.
SHOULDER_WIDTH_TORSOS = 0.6
HIP_WIDTH_TORSOS = 0.3
NOSE_OFFSET_TORSOS = 0.18
# The rotation's zero: the median yaw over the first this-many seconds the rider is seen.
ROTATION_ANCHOR_S = 0.15
STANCE_MIN_FRAMES = 5
STANCE_MAJORITY = 0.7

LS, RS = INDEX["left_shoulder"], INDEX["right_shoulder"]
LH, RH = INDEX["left_hip"], INDEX["right_hip"]
LK, RK = INDEX["left_knee"], INDEX["right_knee"]
LA, RA = INDEX["left_ankle"], INDEX["right_ankle"]
NOSE = INDEX["nose"]

# Body parts a summary value needs, and the words that say which part was missing. "legs" is one whole
# hip-knee-ankle chain (either side); "torso" both shoulders and both hips (the rider counts as seen);
# "feet" both ankles and both hips (stance compares the ankles; airtime measures them from the ground line).
PART_WORDS = {"torso": "shoulders and hips", "legs": "legs", "feet": "feet"}
NEEDS = {
    "max_rotation_deg": "torso",
    "rotation_direction": "torso",
    "min_knee_angle_deg": "legs",
    "airtime_s": "feet",
    "stance": "feet",
}

SERIES_KEYS = (
    "left_knee_angle", "right_knee_angle", "left_hip_angle", "right_hip_angle", "stance_width",
    "upper_body_rotation", "body_tilt", "hip_height", "cumulative_rotation",
)  # fmt: skip


@dataclass
class RiderTrack:
    """The rider's keypoints over the analysed frames (see module docstring for shapes)."""

    t: np.ndarray
    kp2d: np.ndarray
    kp3d: np.ndarray | None


# ---------------------------------------------------------------- per-frame geometry


def masked_points(track: RiderTrack) -> tuple[np.ndarray, np.ndarray | None]:
    """2D xy (n,17,2) and 3D (n,17,3) with low-confidence keypoints set to NaN."""
    low = ~(track.kp2d[:, :, 2] >= VISIBLE_SCORE)  # NaN scores count as not seen
    xy = track.kp2d[:, :, :2].astype(np.float64).copy()
    xy[low] = np.nan
    xyz = None
    if track.kp3d is not None:
        xyz = track.kp3d.astype(np.float64).copy()
        xyz[low] = np.nan
    return xy, xyz


def joint_angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Interior angle ABC at b in degrees (180 = straight), row-wise; NaN where any point is missing."""
    u, v = a - b, c - b
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(u * v, axis=-1) / (nu * nv)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _prefer_3d(v3: np.ndarray | None, v2: np.ndarray) -> np.ndarray:
    """3D value where it exists (view-independent), the 2D one elsewhere."""
    if v3 is None:
        return v2
    return np.where(np.isnan(v3), v2, v3)


def _mid(p: np.ndarray, i: int, j: int) -> np.ndarray:
    return (p[:, i] + p[:, j]) / 2.0


def knee_angles(xy: np.ndarray, xyz: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Hip-knee-ankle angle per side; 180 is a straight leg, smaller is more flexion."""
    out = []
    for h, k, a in ((LH, LK, LA), (RH, RK, RA)):
        v2 = joint_angle(xy[:, h], xy[:, k], xy[:, a])
        v3 = None if xyz is None else joint_angle(xyz[:, h], xyz[:, k], xyz[:, a])
        out.append(_prefer_3d(v3, v2))
    return out[0], out[1]


def hip_angles(xy: np.ndarray, xyz: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Shoulder-hip-knee angle per side; 180 is upright, smaller is more hip flexion."""
    out = []
    for s, h, k in ((LS, LH, LK), (RS, RH, RK)):
        v2 = joint_angle(xy[:, s], xy[:, h], xy[:, k])
        v3 = None if xyz is None else joint_angle(xyz[:, s], xyz[:, h], xyz[:, k])
        out.append(_prefer_3d(v3, v2))
    return out[0], out[1]


def stance_width(xy: np.ndarray, xyz: np.ndarray | None) -> np.ndarray:
    """Ankle-to-ankle distance divided by hip width (dimensionless, so camera distance cancels)."""

    def ratio(p: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.linalg.norm(p[:, LA] - p[:, RA], axis=-1) / np.linalg.norm(p[:, LH] - p[:, RH], axis=-1)
        r[~np.isfinite(r)] = np.nan
        return r

    return _prefer_3d(None if xyz is None else ratio(xyz), ratio(xy))


def _line_yaw_3d(p: np.ndarray, left: int, right: int) -> np.ndarray:
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
        a3 = _wrap_deg(np.degrees(_line_yaw_3d(xyz, LS, RS) - _line_yaw_3d(xyz, LH, RH)))
    return _prefer_3d(a3, a2)


def body_tilt(xy: np.ndarray, xyz: np.ndarray | None) -> np.ndarray:
    """Angle (0..180) between the hip-centre→shoulder-centre axis and vertical (image-up in 2D)."""
    ax2 = _mid(xy, LS, RS) - _mid(xy, LH, RH)
    t2 = np.degrees(np.arctan2(np.abs(ax2[:, 0]), -ax2[:, 1]))
    t3 = None
    if xyz is not None:
        ax3 = _mid(xyz, LS, RS) - _mid(xyz, LH, RH)
        t3 = np.degrees(np.arctan2(np.linalg.norm(ax3[:, [0, 2]], axis=-1), ax3[:, 1]))
    return _prefer_3d(t3, t2)


def torso_length_px(xy: np.ndarray) -> float:
    """Median 2D shoulder-centre to hip-centre distance over the clip: the body's scale in pixels."""
    d = np.linalg.norm(_mid(xy, LS, RS) - _mid(xy, LH, RH), axis=-1)
    d = d[np.isfinite(d) & (d > 0)]
    return float(np.median(d)) if len(d) else float("nan")


def _rolling_nanmedian(x: np.ndarray, half: int) -> np.ndarray:
    out = np.full_like(x, np.nan)
    for i in range(len(x)):
        w = x[max(0, i - half) : i + half + 1]
        w = w[np.isfinite(w)]
        if len(w):
            out[i] = np.median(w)
    return out


def _frame_step(t: np.ndarray) -> float:
    dt = np.diff(t)
    dt = dt[dt > 0]
    return float(np.median(dt)) if len(dt) else 1.0 / 30.0


def ground_line(xy: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Image y of the ground under the rider: rolling median of the lowest ankle over GROUND_WINDOW_S.

    A median ignores jumps shorter than half the window, and rolling (not global) follows a slope or a
    slowly tilting camera.
    """
    low_ankle = np.nanmax(np.stack([xy[:, LA, 1], xy[:, RA, 1]]), axis=0) if len(xy) else np.array([])
    half = max(1, round(GROUND_WINDOW_S / 2 / _frame_step(t)))
    return _rolling_nanmedian(low_ankle, half)


def hip_height(xy: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Hip-centre height above the ground line, in torso lengths (2D image; rises in a jump, drops in a crouch)."""
    torso = torso_length_px(xy)
    return (ground_line(xy, t) - _mid(xy, LH, RH)[:, 1]) / torso


# ---------------------------------------------------------------- over the clip


def _interp_gaps(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return x.copy()
    out = x.copy()
    inside = (t >= t[ok][0]) & (t <= t[ok][-1])
    out[inside] = np.interp(t[inside], t[ok], x[ok])
    return out


def yaw_3d(xyz: np.ndarray) -> np.ndarray:
    """Body yaw (rad, wrapped) as the circular mean of the hip-line and shoulder-line yaws."""
    yh, ys = _line_yaw_3d(xyz, LH, RH), _line_yaw_3d(xyz, LS, RS)
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
    off = xy[:, NOSE, 0] - _mid(xy, LS, RS)[:, 0]
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


def airborne_segments(t: np.ndarray, xy: np.ndarray) -> list[tuple[float, float]]:
    """(start_s, end_s) of each flight: both ankles above the ground line, found by hysteresis.

    A segment starts once the lowest ankle clears the ground by AIR_ENTER torso lengths and is extended
    while it stays above AIR_EXIT, so take-off and landing are placed where the feet actually leave and
    meet the ground. Edges sit halfway between the last ground frame and the first air frame. Assumes the
    camera does not track the rider vertically during the jump (a tripod or slow pan).
    """
    n = len(t)
    if n < 3:
        return []
    torso = torso_length_px(xy)
    if not math.isfinite(torso):
        return []
    low_ankle = np.nanmax(np.stack([xy[:, LA, 1], xy[:, RA, 1]]), axis=0)
    clearance = _interp_gaps(t, (ground_line(xy, t) - low_ankle) / torso)
    high = np.nan_to_num(clearance, nan=-np.inf) > AIR_ENTER
    low = np.nan_to_num(clearance, nan=-np.inf) > AIR_EXIT
    segs: list[tuple[float, float]] = []
    i = 0
    while i < n:
        if not high[i]:
            i += 1
            continue
        a = i
        while a > 0 and low[a - 1]:
            a -= 1
        b = i
        while b < n - 1 and low[b + 1]:
            b += 1
        start = (t[a - 1] + t[a]) / 2 if a > 0 else t[a]
        end = (t[b] + t[b + 1]) / 2 if b < n - 1 else t[b]
        if end - start >= MIN_AIR_S:
            segs.append((float(start), float(end)))
        i = b + 1
    return segs


def detect_stance(t: np.ndarray, xy: np.ndarray, airborne: Sequence[tuple[float, float]]) -> str | None:
    """'regular' (left foot leads) or 'goofy' (right foot leads), else None when it cannot be told."""
    return stance_with_reason(t, xy, airborne)[0]


def stance_with_reason(
    t: np.ndarray, xy: np.ndarray, airborne: Sequence[tuple[float, float]]
) -> tuple[str | None, str | None]:
    """(stance, None), or (None, why it cannot be told in words for the rider).

    How: the direction of travel is the sign of the hip centre's net horizontal displacement in the image;
    the leading foot is the ankle further along that direction. Each on-ground frame with the feet clearly
    apart (> 0.2 torso lengths horizontally) votes; a 70% majority of at least 5 votes decides. Undeterminable
    (None) when the rider travels less than one torso length across the image (a camera that pans with the
    rider hides the travel) or when riding switch makes the votes split.
    """
    torso = torso_length_px(xy)
    hip_x = _mid(xy, LH, RH)[:, 0]
    ok = np.isfinite(hip_x)
    if not math.isfinite(torso) or ok.sum() < 2:
        return None, "hips not visible"
    travel = hip_x[ok][-1] - hip_x[ok][0]
    if abs(travel) < STANCE_MIN_TRAVEL_TORSOS * torso:
        return None, "rider does not travel across the picture (a camera that follows the rider hides it)"
    on_ground = np.ones(len(t), dtype=bool)
    for a, b in airborne:
        on_ground &= ~((t >= a) & (t <= b))
    lead = (xy[:, LA, 0] - xy[:, RA, 0]) * np.sign(travel)
    votes = lead[on_ground & np.isfinite(lead) & (np.abs(lead) > 0.2 * torso)]
    if len(votes) < STANCE_MIN_FRAMES:
        return None, "feet not clearly apart along the direction of travel"
    left_leads = float(np.mean(votes > 0))
    if left_leads >= STANCE_MAJORITY:
        return "regular", None
    if left_leads <= 1 - STANCE_MAJORITY:
        return "goofy", None
    return None, "lead foot changes during the clip (riding switch?)"


def smooth(t: np.ndarray, x: np.ndarray, sigma_s: float = SMOOTH_SIGMA_S) -> np.ndarray:
    """Gaussian smoothing that skips missing samples (normalised convolution); NaN stays NaN."""
    ok = np.isfinite(x)
    if not ok.any():
        return x.copy()
    sigma = max(sigma_s / _frame_step(t), 1e-6)
    half = max(1, math.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    # Full convolution then slicing stays aligned even when the kernel is longer than the clip.
    n = len(x)
    num = np.convolve(np.where(ok, x, 0.0), k)[half : half + n]
    den = np.convolve(ok.astype(np.float64), k)[half : half + n]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[~ok] = np.nan
    return out


def _json_list(x: np.ndarray, digits: int = 3) -> list[float | None]:
    return [round(float(v), digits) if math.isfinite(v) else None for v in x]


def compute_metrics(track: RiderTrack) -> dict[str, Any]:
    """The contract's Metrics object (docs/contracts.md) for one rider."""
    # Frames without the rider are NaN by design; numpy's "mean of empty slice" warnings say nothing new.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _compute_metrics(track)


def parts_seen(xy: np.ndarray) -> dict[str, np.ndarray]:
    """Per frame, whether each body part of PART_WORDS was seen (every joint it needs at least VISIBLE_SCORE)."""

    def all_seen(*joints: int) -> np.ndarray:
        return np.isfinite(xy[:, list(joints), 0]).all(axis=1)

    return {
        "torso": all_seen(LS, RS, LH, RH),
        "legs": all_seen(LH, LK, LA) | all_seen(RH, RK, RA),
        "feet": all_seen(LH, RH, LA, RA),
    }


def part_reason(part: str, frames: int, rider_frames: int, analysed: int) -> str | None:
    """Why a value needing `part` cannot be given (words for the rider), or None when it was seen enough.

    The torso is counted against the analysed frames and needs MIN_PART_FRAMES (a rider may cross a long clip
    quickly); the other parts also need MIN_PART_SHARE of the frames with the rider.
    """
    if rider_frames == 0:
        return "rider not seen (no frame shows both shoulders and hips)"
    if frames == 0:
        return f"{PART_WORDS[part]} not visible"
    of = analysed if part == "torso" else rider_frames
    share = 0.0 if part == "torso" else MIN_PART_SHARE
    if frames < max(MIN_PART_FRAMES, share * of):
        return f"{PART_WORDS[part]} visible in only {frames} of {of} frames"
    return None


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

"""The rider against the ground: where the ground line runs in the image, how high the hips are above it, when
both feet leave it (flights), and which foot leads while on it (stance)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .posture import mid, torso_length_px
from .timeseries import frame_step, interp_gaps, rolling_nanmedian
from .track import LA, LH, RA, RH

# Airborne hysteresis thresholds on the lowest ankle's clearance over the ground line, in torso lengths.
AIR_ENTER = 0.35
AIR_EXIT = 0.10
MIN_AIR_S = 0.1
GROUND_WINDOW_S = 3.0
STANCE_MIN_TRAVEL_TORSOS = 1.0
STANCE_MIN_FRAMES = 5
STANCE_MAJORITY = 0.7


def ground_line(xy: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Image y of the ground under the rider: rolling median of the lowest ankle over GROUND_WINDOW_S.

    A median ignores jumps shorter than half the window, and rolling (not global) follows a slope or a
    slowly tilting camera.
    """
    low_ankle = np.nanmax(np.stack([xy[:, LA, 1], xy[:, RA, 1]]), axis=0) if len(xy) else np.array([])
    half = max(1, round(GROUND_WINDOW_S / 2 / frame_step(t)))
    return rolling_nanmedian(low_ankle, half)


def hip_height(xy: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Hip-centre height above the ground line, in torso lengths (2D image; rises in a jump, drops in a crouch)."""
    torso = torso_length_px(xy)
    return (ground_line(xy, t) - mid(xy, LH, RH)[:, 1]) / torso


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
    clearance = interp_gaps(t, (ground_line(xy, t) - low_ankle) / torso)
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
    hip_x = mid(xy, LH, RH)[:, 0]
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

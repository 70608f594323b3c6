"""The rider's keypoint track and what counts as seen: a joint above VISIBLE_SCORE, a body part whose joints all
are, and a summary value whose body part was seen often enough (conventions in the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..keypoints import INDEX

# A joint counts as seen when the pose model's score (MediaPipe: visibility) is at least this; below it the joint
# is treated as missing everywhere: in every series, every summary value and (the web app reads it from
# summary.joint_score_min) in the drawing. MediaPipe places joints outside the picture anyway, with visibility
# mostly under 0.5 (legs of a waist-up clip: 0.01-0.5), and its own examples use 0.5 as "visible".
VISIBLE_SCORE = 0.5
# A summary value needs its body part seen in at least this many frames and this share of the frames with the
# rider; fewer and it would rest on a glimpse, so it is null and summary.unavailable says why.
MIN_PART_FRAMES = 5
MIN_PART_SHARE = 0.25

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


@dataclass
class RiderTrack:
    """The rider's keypoints over the analysed frames (see the package docstring for shapes)."""

    t: np.ndarray
    kp2d: np.ndarray
    kp3d: np.ndarray | None


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

"""COCO-17 keypoints: the one person format every backend produces (docs/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
INDEX = {name: i for i, name in enumerate(COCO17)}

# BlazePose landmark index for each COCO-17 keypoint, in COCO order.
BLAZEPOSE_TO_COCO17 = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

# Keypoints below this confidence do not shape the bbox (MediaPipe extrapolates off-screen joints).
BBOX_MIN_SCORE = 0.5


@dataclass
class PersonPose:
    """One detected person: kp2d (17, 3) = x px, y px, score; kp3d (17, 3) metres hip-centred y-up, or None."""

    kp2d: np.ndarray
    kp3d: np.ndarray | None
    bbox: tuple[float, float, float, float]
    score: float
    track_id: int | None = None

    def scaled(self, factor: float) -> PersonPose:
        """The same pose with its 2D pixel coordinates multiplied by factor (scores and 3D unchanged)."""
        if factor == 1.0:
            return self
        kp2d = self.kp2d.copy()
        kp2d[:, :2] *= factor
        x1, y1, x2, y2 = self.bbox
        box = (x1 * factor, y1 * factor, x2 * factor, y2 * factor)
        return PersonPose(kp2d=kp2d, kp3d=self.kp3d, bbox=box, score=self.score, track_id=self.track_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "bbox": [round(float(v), 2) for v in self.bbox],
            "score": round(float(self.score), 4),
            "keypoints": [
                {"name": n, "x": round(float(x), 2), "y": round(float(y), 2), "score": round(float(s), 4)}
                for n, (x, y, s) in zip(COCO17, self.kp2d, strict=True)
            ],
            "keypoints_3d": None
            if self.kp3d is None
            else [
                {"name": n, "x": round(float(x), 4), "y": round(float(y), 4), "z": round(float(z), 4)}
                for n, (x, y, z) in zip(COCO17, self.kp3d, strict=True)
            ],
        }


def bbox_from_keypoints(kp2d: np.ndarray, width: int, height: int) -> tuple[float, float, float, float]:
    """Tight box around the confident keypoints (all of them if none is confident), clipped to the frame."""
    pts = kp2d[kp2d[:, 2] >= BBOX_MIN_SCORE, :2]
    if len(pts) == 0:
        pts = kp2d[:, :2]
    x1, y1 = np.clip(pts.min(axis=0), 0, [width, height])
    x2, y2 = np.clip(pts.max(axis=0), 0, [width, height])
    return float(x1), float(y1), float(x2), float(y2)


def hip_centred_y_up(world: np.ndarray) -> np.ndarray:
    """MediaPipe-style camera-aligned world coords (x right, y down, z away) → hip-centred, y up, z toward camera.

    Flipping y and z together is a 180° rotation about x, so the frame stays right-handed and yaw
    about +y is counterclockwise seen from above.
    """
    out = np.asarray(world, dtype=np.float64).copy()
    out -= (out[INDEX["left_hip"]] + out[INDEX["right_hip"]]) / 2.0
    out[:, 1] *= -1.0
    out[:, 2] *= -1.0
    return out


def from_blazepose(
    landmarks: np.ndarray, world: np.ndarray | None, width: int, height: int, track_id: int | None
) -> PersonPose:
    """landmarks (33, 3): normalised x, y and visibility; world (33, 3) metres in MediaPipe's frame."""
    sel = np.asarray(landmarks, dtype=np.float64)[list(BLAZEPOSE_TO_COCO17)]
    kp2d = np.column_stack([sel[:, 0] * width, sel[:, 1] * height, np.clip(sel[:, 2], 0.0, 1.0)])
    kp3d = None
    if world is not None:
        kp3d = hip_centred_y_up(np.asarray(world, dtype=np.float64)[list(BLAZEPOSE_TO_COCO17)])
    # MediaPipe's legacy API exposes no detection score; the mean keypoint visibility is the
    # closest honest stand-in for "how much of a person was seen".
    score = float(kp2d[:, 2].mean())
    return PersonPose(
        kp2d=kp2d, kp3d=kp3d, bbox=bbox_from_keypoints(kp2d, width, height), score=score, track_id=track_id
    )

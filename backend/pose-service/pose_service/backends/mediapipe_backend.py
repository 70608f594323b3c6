"""MediaPipe BlazePose *full* on CPU, through the legacy solutions API of mediapipe==0.10.21.

Only model_complexity=1 is bundled in the wheel; 0 and 2 download their model at construction,
which an offline deployment cannot do, so they are refused up front with a clear message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..keypoints import PersonPose, from_blazepose
from .base import BackendUnavailable, FramePoses, PoseBackend, SampledFrame

# BlazePose tracks one person, so the rider keeps one id for the whole clip.
RIDER_TRACK_ID = 1


def _landmark_array(landmark_list: Any) -> np.ndarray:
    return np.array([(lm.x, lm.y, lm.visibility) for lm in landmark_list.landmark], dtype=np.float64)


def _world_array(landmark_list: Any) -> np.ndarray:
    return np.array([(lm.x, lm.y, lm.z) for lm in landmark_list.landmark], dtype=np.float64)


class MediaPipeBackend(PoseBackend):
    name = "mediapipe"
    device = "cpu"
    max_persons = 1

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5):
        if model_complexity != 1:
            raise BackendUnavailable(
                f"POSE_MODEL_COMPLEXITY={model_complexity} is not supported: only 1 (BlazePose full) ships "
                "inside the mediapipe wheel; 0 and 2 download a model at start-up. Set POSE_MODEL_COMPLEXITY=1."
            )
        self.model_complexity = model_complexity
        self.min_detection_confidence = min_detection_confidence
        self._mp: Any = None
        self._image_pose: Any = None
        # One graph per mode; a graph is not safe to drive from two threads at once.
        self._image_lock = threading.Lock()

    def load(self) -> None:
        try:
            import mediapipe as mp
        except ImportError as exc:  # pragma: no cover - the image always has it
            raise BackendUnavailable(f"mediapipe is not installed ({exc}); pip install mediapipe==0.10.21") from exc
        if not hasattr(mp, "solutions"):  # pragma: no cover - guards against an upgraded wheel
            raise BackendUnavailable(
                f"mediapipe {mp.__version__} has no legacy solutions API; install mediapipe==0.10.21"
            )
        self._mp = mp
        self._image_pose = self._new_pose(static_image_mode=True)

    def _new_pose(self, static_image_mode: bool) -> Any:
        return self._mp.solutions.pose.Pose(
            static_image_mode=static_image_mode,
            model_complexity=self.model_complexity,
            smooth_landmarks=True,
            enable_segmentation=False,
            min_detection_confidence=self.min_detection_confidence,
            min_tracking_confidence=0.5,
        )

    def warmup(self) -> None:
        blank = np.zeros((256, 256, 3), dtype=np.uint8)
        self.estimate_image(blank)
        self.track_video([SampledFrame(0, 0.0, blank), SampledFrame(1, 0.04, blank)])

    @staticmethod
    def _to_person(result: Any, width: int, height: int, track_id: int | None) -> list[PersonPose]:
        if result.pose_landmarks is None:
            return []
        world = _world_array(result.pose_world_landmarks) if result.pose_world_landmarks is not None else None
        return [from_blazepose(_landmark_array(result.pose_landmarks), world, width, height, track_id)]

    def estimate_image(self, rgb: np.ndarray) -> list[PersonPose]:
        if self._image_pose is None:
            raise BackendUnavailable("MediaPipe backend used before load()")
        h, w = rgb.shape[:2]
        with self._image_lock:
            result = self._image_pose.process(rgb)
        return self._to_person(result, w, h, None)

    def track_video(self, frames: Iterable[SampledFrame]) -> list[FramePoses]:
        return list(self.track_frames(frames))

    def track_frames(self, frames: Iterable[SampledFrame]) -> Iterator[FramePoses]:
        if self._mp is None:
            raise BackendUnavailable("MediaPipe backend used before load()")
        # A fresh graph per clip: tracking state must not leak between videos, and construction
        # costs ~15 ms against ~100 ms for the first frame the raw API pays as well.
        with self._new_pose(static_image_mode=False) as pose:
            for f in frames:
                h, w = f.rgb.shape[:2]
                yield FramePoses(f.index, f.t, self._to_person(pose.process(f.rgb), w, h, RIDER_TRACK_ID))

    def describe(self) -> dict[str, Any]:
        version = getattr(self._mp, "__version__", None)
        return {"model": "BlazePose full (model_complexity=1)", "mediapipe": version, "max_persons": 1}

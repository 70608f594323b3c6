"""MediaPipe BlazePose *full* on CPU, through the legacy solutions API of mediapipe==0.10.21.

Only model_complexity=1 is bundled in the wheel; 0 and 2 download their model at construction,
which an offline deployment cannot do, so they are refused up front with a clear message.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
import types
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ..keypoints import PersonPose, from_blazepose
from .base import BackendUnavailable, FramePoses, PoseBackend, SampledFrame

# BlazePose tracks one person, so the rider keeps one id for the whole clip.
RIDER_TRACK_ID = 1


class _DeferredModule(types.ModuleType):
    """Stands in for a module imported at a dependency's top level and used only inside functions this service never
    calls: the first attribute read imports the real module (by then no stand-in is registered) and forwards."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)


@contextlib.contextmanager
def _deferring_pyplot() -> Iterator[None]:
    """Stand-ins for matplotlib and matplotlib.pyplot in sys.modules while mediapipe is imported, then gone.

    `import mediapipe` imports mediapipe.python.solutions.drawing_utils, whose top level does `import
    matplotlib.pyplot as plt` for plot_landmarks() alone: about 0.43 s of CPU (0.10 matplotlib, 0.32 pyplot with
    its font cache) of the ~0.95 s a pose worker spends from fork to ready. drawing_utils keeps the stand-in as its
    `plt`, so plot_landmarks still works (its first plt.* imports pyplot then). Names already imported stay as they
    are; a thread that imports matplotlib during these ~0.3 s gets a stand-in too, which forwards the same way.
    """
    names = ("matplotlib", "matplotlib.pyplot")
    standins = {name: _DeferredModule(name) for name in names if name not in sys.modules}
    if "matplotlib" in standins and "matplotlib.pyplot" in standins:
        # `import matplotlib.pyplot as plt` reads plt as an attribute of the package: no import there either.
        standins["matplotlib"].pyplot = standins["matplotlib.pyplot"]  # type: ignore[attr-defined]
    sys.modules.update(standins)
    try:
        yield
    finally:
        for name, standin in standins.items():
            if sys.modules.get(name) is standin:
                del sys.modules[name]


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
            with _deferring_pyplot():
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
        self.warmup_image()
        self.warmup_rest()

    def warmup_image(self) -> None:
        """The image graph's first inference (its lazy TFLite/XNNPACK set-up): the first /v1/pose/image pays it
        otherwise."""
        self.estimate_image(np.zeros((256, 256, 3), dtype=np.uint8))

    def warmup_rest(self) -> None:
        """A two-frame clip through a tracking graph (detector, then ROI tracking): the video path's first use."""
        blank = np.zeros((256, 256, 3), dtype=np.uint8)
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

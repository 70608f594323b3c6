"""The one interface every pose backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..keypoints import PersonPose


class BackendUnavailable(Exception):
    """The backend cannot run here; the message says what is missing and how to supply it."""


@dataclass
class SampledFrame:
    """One decoded frame chosen for analysis: source frame number, timestamp (s), RGB uint8 pixels.

    scale: rgb's size over the display size (< 1 when a large frame was shrunk for the model).
    """

    index: int
    t: float
    rgb: np.ndarray
    scale: float = 1.0


@dataclass
class FramePoses:
    index: int
    t: float
    persons: list[PersonPose] = field(default_factory=list)


class PoseBackend(ABC):
    """load() once per worker, warmup() once, then any number of estimate_* calls (thread-safe)."""

    name: str = "base"
    device: str = "cpu"
    # 1 when the model follows a single person (its track id then means nothing across tracker restarts).
    max_persons: int | None = None

    @abstractmethod
    def load(self) -> None:
        """Load weights; raise BackendUnavailable with an actionable message when they are missing."""

    @abstractmethod
    def warmup(self) -> None:
        """Run one inference so the first real request does not pay for lazy initialisation."""

    def warmup_image(self) -> None:
        """The part of warmup() an image request needs: the HTTP service is ready once this returns and does
        warmup_rest() afterwards (readiness means "an image is answered now", not "every graph is hot").
        This default warms everything; a backend with a separate image path overrides it."""
        self.warmup()

    def warmup_rest(self) -> None:
        """What warmup() does beyond warmup_image() (nothing by default)."""
        return None

    @abstractmethod
    def estimate_image(self, rgb: np.ndarray) -> list[PersonPose]:
        """All persons in a single RGB image; track_id is None."""

    @abstractmethod
    def track_video(self, frames: Iterable[SampledFrame]) -> list[FramePoses]:
        """Poses per frame with track ids that stay stable across the clip."""

    def track_frames(self, frames: Iterable[SampledFrame]) -> Iterator[FramePoses]:
        """track_video's frames one by one as each is analysed (the worker stores partial blocks from them).
        This default yields them all at the end; a backend that tracks frame by frame overrides it."""
        yield from self.track_video(frames)

    def describe(self) -> dict[str, Any]:
        """Backend-specific facts for /v1/info (model, versions)."""
        return {}

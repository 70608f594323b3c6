"""The model a worker holds: loaded once, warmed up in the background, shared by request threads.

Ready means "an image request is answered now": the image graph is warmed before ready, the rest (the video
path's tracking graph) right after it in the same thread. The pose workers, not this service, analyse the uploads
(the API asks this service for /ready only), so /v1/pose/video is its rare path; warming it before ready cost
~0.3-0.5 s of every start, and of every code change → healthy in the dev loop.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .backends import BackendChoice, BackendUnavailable, PoseBackend, create_backend
from .config import Config

log = logging.getLogger(__name__)


class PoseRuntime:
    """status: 'warming_up' → 'ready' | 'error'; requests must check ready before using backend."""

    def __init__(self, config: Config):
        self.config = config
        self.status = "warming_up"
        self.detail: str | None = "loading model"
        self.backend: PoseBackend | None = None
        self.choice: BackendChoice | None = None
        self.load_seconds: float | None = None
        self.warmup_rest_seconds: float | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        # Set once the rest of the warm-up (after ready) has finished, or was not to be done.
        self.warmed = threading.Event()

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def backend_name(self) -> str:
        return (
            self.choice.name if self.choice else ("mediapipe" if self.config.backend == "auto" else self.config.backend)
        )

    @property
    def device(self) -> str:
        return self.choice.device if self.choice else "cpu"

    def start(self, background: bool = True) -> None:
        """Load and warm up; in a daemon thread so /health answers 'warming_up' meanwhile. In the foreground it
        returns warm (ready and the rest of the warm-up done)."""
        if background:
            self._thread = threading.Thread(target=self._load, name="pose-warmup", daemon=True)
            self._thread.start()
        else:
            self._load()

    def wait(self, timeout: float | None = None) -> bool:
        """Until ready or failed (not until the warm-up after ready)."""
        return self._done.wait(timeout)

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            backend, self.choice = create_backend(self.config)
            log.info("pose backend %s (%s)", self.choice.name, self.choice.reason)
            backend.load()
            if self.config.warmup:
                self.detail = "warming up"
                backend.warmup_image()
            self.backend = backend
            self.load_seconds = time.perf_counter() - started
            self.status, self.detail = "ready", None
            log.info("pose backend ready in %.2f s", self.load_seconds)
        except BackendUnavailable as exc:
            self.status, self.detail = "error", str(exc)
            log.error("pose backend unavailable: %s", exc)
        except Exception as exc:  # any load failure must surface in /health, not kill the worker
            self.status, self.detail = "error", f"model failed to load: {type(exc).__name__}: {exc}"
            log.exception("pose backend failed to load")
        finally:
            self._done.set()
        try:
            if self.ready and self.config.warmup:
                self._warmup_rest()
        finally:
            self.warmed.set()

    def _warmup_rest(self) -> None:
        """The warm-up that ready does not wait for. A failure here leaves the image path (ready, warmed) serving;
        the path that failed reports its own error when a request uses it."""
        assert self.backend is not None
        started = time.perf_counter()
        try:
            self.backend.warmup_rest()
        except Exception:
            log.exception("pose backend: the warm-up after ready failed")
            return
        self.warmup_rest_seconds = time.perf_counter() - started
        log.info("pose backend: rest of the warm-up done in %.2f s", self.warmup_rest_seconds)

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "reason": self.choice.reason if self.choice else None,
            "load_seconds": self.load_seconds,
            "warmup_rest_seconds": self.warmup_rest_seconds,
        }
        if self.backend is not None:
            info.update(self.backend.describe())
        return info

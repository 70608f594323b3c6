"""The model a worker holds: loaded once, warmed up in the background, shared by request threads."""

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
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

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
        """Load and warm up; in a daemon thread so /health answers 'warming_up' meanwhile."""
        if background:
            self._thread = threading.Thread(target=self._load, name="pose-warmup", daemon=True)
            self._thread.start()
        else:
            self._load()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _load(self) -> None:
        started = time.perf_counter()
        try:
            backend, self.choice = create_backend(self.config)
            log.info("pose backend %s (%s)", self.choice.name, self.choice.reason)
            backend.load()
            if self.config.warmup:
                self.detail = "warming up"
                backend.warmup()
            self.backend = backend
            self.load_seconds = time.perf_counter() - started
            self.status, self.detail = "ready", None
        except BackendUnavailable as exc:
            self.status, self.detail = "error", str(exc)
            log.error("pose backend unavailable: %s", exc)
        except Exception as exc:  # any load failure must surface in /health, not kill the worker
            self.status, self.detail = "error", f"model failed to load: {type(exc).__name__}: {exc}"
            log.exception("pose backend failed to load")
        finally:
            self._done.set()

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "reason": self.choice.reason if self.choice else None,
            "load_seconds": self.load_seconds,
        }
        if self.backend is not None:
            info.update(self.backend.describe())
        return info

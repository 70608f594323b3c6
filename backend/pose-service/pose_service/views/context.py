"""What create_app put in the app's extensions, typed for the views."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import cast

from flask import current_app

from ..config import Config
from ..errors import ApiError
from ..runtime import PoseRuntime


def app_runtime() -> PoseRuntime:
    return cast(PoseRuntime, current_app.extensions["pose_runtime"])


def app_config() -> Config:
    return cast(Config, current_app.extensions["pose_config"])


@contextlib.contextmanager
def bounded_slot(extension: str, busy: str) -> Iterator[None]:
    """Hold one of the app's bounded slots (`extension`) for the block; when all are taken, 503 "overloaded" with
    Retry-After, `busy` saying what already runs."""
    slots = cast(threading.BoundedSemaphore, current_app.extensions[extension])
    if not slots.acquire(blocking=False):
        retry = {"Retry-After": str(app_config().retry_after_s)}
        raise ApiError(503, "overloaded", f"{busy} already running; retry later", retry)
    try:
        yield
    finally:
        slots.release()

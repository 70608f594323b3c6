"""What create_app put in the app's extensions, typed for the views."""

from __future__ import annotations

from typing import cast

from flask import current_app

from ..config import Config
from ..runtime import PoseRuntime


def app_runtime() -> PoseRuntime:
    return cast(PoseRuntime, current_app.extensions["pose_runtime"])


def app_config() -> Config:
    return cast(Config, current_app.extensions["pose_config"])

"""Flask application factory."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask

from .config import Config
from .errors import register_error_handlers
from .logsafe import install_log_truncation
from .runtime import PoseRuntime
from .views.health import health_bp
from .views.media import media_bp
from .views.pose import pose_bp


def create_app(config: Config | Mapping[str, Any] | None = None, *, start_runtime: bool = True) -> Flask:
    """Build the app; config is a Config, a mapping of env-style variables, or None (read os.environ).

    The model starts loading in a background thread right away, so construct the app once per worker.
    """
    if isinstance(config, Config):
        cfg = config
    else:
        cfg = Config.from_env(None if config is None else {str(k): str(v) for k, v in config.items()})
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_content_length
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runtime = PoseRuntime(cfg)
    app.extensions["pose_config"] = cfg
    app.extensions["pose_runtime"] = runtime
    app.extensions["pose_slots"] = threading.BoundedSemaphore(cfg.max_inflight)
    app.extensions["ingest_slots"] = threading.BoundedSemaphore(cfg.max_ingests)
    register_error_handlers(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(pose_bp)
    app.register_blueprint(media_bp)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_truncation()
    if start_runtime:
        runtime.start(background=True)
    return app

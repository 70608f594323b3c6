"""gunicorn settings; every value can be overridden from the environment."""

import os


def _bind() -> str:
    """POSE_BIND (host:port, the tests' and the bench's) or every interface on PORT, which the image sets and
    compose passes from stack.toml, as the API and the web server read theirs."""
    if os.environ.get("POSE_BIND"):
        return os.environ["POSE_BIND"]
    port = os.environ.get("PORT", "")
    if not port.isdigit():
        raise SystemExit(f"gunicorn.conf.py: PORT={port!r} is not a port: set PORT (as the image does) or POSE_BIND")
    return f"0.0.0.0:{port}"


bind = _bind()
workers = int(os.environ.get("POSE_WORKERS", "1"))
# Threads let /health and /ready answer while a long video request holds a worker.
worker_class = "gthread"
threads = int(os.environ.get("POSE_THREADS", "4"))
timeout = int(os.environ.get("POSE_TIMEOUT", "300"))
graceful_timeout = 30
# No preload: each worker loads its own model after fork (MediaPipe/TFLite graphs are not fork-safe).
preload_app = False
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("POSE_LOG_LEVEL", "info")

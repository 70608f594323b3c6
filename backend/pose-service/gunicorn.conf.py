"""gunicorn settings; every value can be overridden from the environment."""

import os

bind = os.environ.get("POSE_BIND", "0.0.0.0:5000")
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

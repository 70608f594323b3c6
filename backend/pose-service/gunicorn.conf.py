"""gunicorn settings; every value can be overridden from the environment."""

import logging
import os
import sys
from typing import Any


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
# No keep-alive: a stopping worker lets a kept-alive connection linger for up to 2 s (gunicorn's STOP_KEEPALIVE_LINGER)
# before it exits, so a client that had just asked /ready made 8 of 12 `docker stop`s take 1.84-1.97 s instead of
# 0.39-0.45 s, and a code change's recreate waits for that stop. The callers (the API, healthchecks) make few,
# heavy requests on a local network: a new connection each costs nothing they would notice.
keepalive = 0
# No preload: each worker loads its own model after fork (MediaPipe/TFLite graphs are not fork-safe).
preload_app = False
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("POSE_LOG_LEVEL", "info")
# gunicorn's control socket (gunicornc) lives under $HOME, which the read-only root cannot hold: it logged an ERROR at
# every start, and nothing here uses it.
control_socket_disable = True


def worker_exit(server: Any, worker: Any) -> None:
    """A worker whose loop has ended (its requests answered, or graceful_timeout spent) leaves with os._exit and its
    SystemExit code: the interpreter's teardown of MediaPipe, matplotlib and the thread pools took ~1 s of every
    `docker stop` (measured 1.45 s → 0.68 s), and a code change's recreate waits for the old container to stop.
    gunicorn calls this hook in the worker, in the `finally` around the worker's run, where the SystemExit that
    carries the code (0, or the boot/load error codes the master acts on) is the exception being handled."""
    exc = sys.exc_info()[1]
    code = exc.code if isinstance(exc, SystemExit) else 1
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if code is None else code if isinstance(code, int) else 1)

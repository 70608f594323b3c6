"""`python -m pose_service.worker.health`: the pose-worker container's health check (the image's own check
probes the HTTP service, which a worker does not run). Healthy = the worker's heartbeat thread touched its
file within the last POSE_WORKER_HEALTH_MAX_AGE_S seconds (default 15): the model is loaded, the worker is
registered and its loop is alive. It needs no MongoDB access of its own."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

DEFAULT_FILE = "/tmp/pose-worker-alive"


def health_file() -> Path:
    return Path(os.environ.get("POSE_WORKER_HEALTH_FILE") or DEFAULT_FILE)


def check(path: Path, max_age_s: float, now: float | None = None) -> str | None:
    """None when healthy, else why not (pure apart from the stat)."""
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return f"{path} does not exist yet: the worker is loading its model or waiting for MongoDB"
    if age > max_age_s:
        return f"the worker's heartbeat is {age:.0f} s old (over {max_age_s:g} s): its loop is stuck or gone"
    return None


def main() -> int:
    problem = check(health_file(), float(os.environ.get("POSE_WORKER_HEALTH_MAX_AGE_S") or 15))
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

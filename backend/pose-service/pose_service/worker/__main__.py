"""`python -m pose_service.worker`: load the pose backend once, then claim and run tasks until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
from pathlib import Path

from pymongo import MongoClient

from ..backends import BackendUnavailable, create_backend
from ..logsafe import install_log_truncation
from .context import WorkerContext
from .loop import Worker
from .queue import TaskQueue
from .settings import WorkerSettings
from .store import MediaStore

log = logging.getLogger("pose_service.worker")


def main() -> int:
    install_log_truncation()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = WorkerSettings.from_env()
    except ValueError as exc:
        print(f"pose worker: {exc}", file=sys.stderr)
        return 2
    try:
        backend, choice = create_backend(settings.pose)
        backend.load()
        if settings.pose.warmup:
            backend.warmup()
    except BackendUnavailable as exc:
        print(f"pose worker: {exc}", file=sys.stderr)
        return 3
    log.info("pose backend %s (%s)", choice.name, choice.reason)
    client: MongoClient = MongoClient(settings.mongodb_uri, **settings.client_options())
    db = client[settings.database]
    queue = TaskQueue(db, settings)
    workdir = Path(tempfile.mkdtemp(prefix="pose-worker-", dir=settings.pose.tmp_dir))
    worker = Worker(WorkerContext(db, queue, MediaStore(db), backend, settings, workdir))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    try:
        worker.run()
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

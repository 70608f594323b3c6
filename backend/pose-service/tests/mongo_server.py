"""A real MongoDB-wire server for the worker tests: SecantusDB from the repo's .venv on a free port (the same
stand-in backend/test/support/secantus.ts starts for the API tests), or MONGODB_TEST_URI when set."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from pose_service.worker.queue import queued_task

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def secantus_python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return os.environ.get("SECANTUS_PYTHON") or (str(venv) if venv.exists() else sys.executable)


class MongoServer:
    """start() / stop() / restart() on the same port and storage (restart simulates a MongoDB outage)."""

    def __init__(self) -> None:
        self.external = os.environ.get("MONGODB_TEST_URI")
        self.port = free_port()
        self.storage = Path(tempfile.mkdtemp(prefix="secantus-worker-"))
        self.uri = self.external or f"mongodb://127.0.0.1:{self.port}/?directConnection=true"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.storage.parent / f"{self.storage.name}.log"

    def start(self) -> None:
        if not self.external:
            with open(self.log, "ab") as out:
                self.proc = subprocess.Popen(
                    [
                        secantus_python(),
                        "-m",
                        "secantus",
                        "--port",
                        str(self.port),
                        "--storage-path",
                        str(self.storage),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
        self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"SecantusDB exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with MongoClient[dict[str, Any]](self.uri, serverSelectionTimeoutMS=500) as c:
                    c.admin.command("ping")
                return
            except PyMongoError:
                time.sleep(0.1)
        raise RuntimeError(f"no MongoDB-wire server answered at {self.uri} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def dispose(self) -> None:
        """Stop for good and remove the storage and the log."""
        self.stop()
        shutil.rmtree(self.storage, ignore_errors=True)
        self.log.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()


def submit_video(db, path: Path, created_at=None):
    """What the API does on upload (docs/contracts.md): original into GridFS, video, job, one ingest task."""
    from datetime import datetime, timezone

    from bson import ObjectId
    from gridfs import GridFSBucket

    now = created_at or datetime.now(timezone.utc)
    video_id, job_id = ObjectId(), ObjectId()
    with open(path, "rb") as src:
        file_id = GridFSBucket(db, bucket_name="media").upload_from_stream(
            path.name, src, metadata={"videoId": video_id, "kind": "original", "contentType": "video/mp4"}
        )
    db.videos.insert_one(
        {
            "_id": video_id,
            "title": path.stem,
            "status": "queued",
            "jobId": job_id,
            "originalFileId": file_id,
            "createdAt": now,
            "riderTrackId": None,
        }
    )
    db.jobs.insert_one(
        {
            "_id": job_id,
            "videoId": video_id,
            "state": "queued",
            "stage": "ingest",
            "progress": 0,
            "framesTotal": None,
            "framesDone": 0,
            "segmentsTotal": None,
            "segmentsDone": 0,
            "attempts": 0,
            "errorKind": None,
            "error": None,
            "errorDetail": None,
            "createdAt": now,
            "updatedAt": now,
            "startedAt": None,
            "finishedAt": None,
        }
    )
    db.tasks.insert_one(queued_task({"jobId": job_id, "videoId": video_id, "priority": now}, "ingest", 0, now))
    return video_id, job_id


def wait_for(predicate, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def one(doc: dict[str, Any] | None) -> dict[str, Any]:
    """A document the test expects to exist."""
    assert doc is not None, "expected a document, found none"
    return doc

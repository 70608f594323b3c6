"""Shared fixtures: the package on sys.path (so tests run from the repo root or this folder), a loaded app,
a synthetic test video made from scikit-image's photos, and a real gunicorn server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVICE_DIR = Path(__file__).resolve().parent.parent
if str(SERVICE_DIR) not in sys.path:
    sys.path.insert(0, str(SERVICE_DIR))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from bson import ObjectId  # noqa: E402
from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from mongo_server import MongoServer  # noqa: E402
from pymongo import MongoClient  # noqa: E402
from pymongo.database import Database  # noqa: E402

from pose_service.app import create_app  # noqa: E402
from pose_service.config import Config  # noqa: E402
from pose_service.runtime import PoseRuntime  # noqa: E402
from pose_service.worker.context import WorkerContext  # noqa: E402
from pose_service.worker.loop import Worker  # noqa: E402
from pose_service.worker.queue import TaskQueue  # noqa: E402
from pose_service.worker.settings import WorkerSettings  # noqa: E402
from pose_service.worker.store import MediaStore  # noqa: E402


def person_photos() -> dict[str, np.ndarray]:
    """RGB photos of real people that ship inside scikit-image's wheel."""
    import skimage.data

    cam = skimage.data.camera()
    return {"astronaut": skimage.data.astronaut(), "camera": np.stack([cam, cam, cam], axis=-1)}


def write_pan_zoom_video(path: Path, rgb: np.ndarray, frames: int = 45, fps: float = 30.0) -> Path:
    """An mp4v clip that pans, zooms and rotates over the photo, so tracking sees real motion."""
    h, w = rgb.shape[:2]
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for i in range(frames):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 4.0 * np.sin(i / 8), 1.0 + 0.1 * i / frames)
        m[0, 2] += 20 * np.sin(i / 10)
        m[1, 2] += 10 * i / frames
        writer.write(cv2.warpAffine(bgr, m, (w, h), borderMode=cv2.BORDER_REFLECT))
    writer.release()
    return path


@pytest.fixture(scope="session")
def upload_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="session")
def camera_video(upload_root: Path) -> Path:
    return write_pan_zoom_video(upload_root / "camera.mp4", person_photos()["camera"])


@pytest.fixture(scope="session")
def app(upload_root: Path) -> Flask:
    app = create_app(Config(backend="mediapipe", upload_root=str(upload_root), max_content_length=20 * 1024 * 1024))
    runtime = app.extensions["pose_runtime"]
    assert runtime.wait(120), "model did not load in time"
    assert runtime.ready, runtime.detail
    return app


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_gunicorn(upload_root: Path, log_path: Path) -> Iterator[tuple[str, int]]:
    """A real gunicorn server (the image's command and config) on a free port, ready before it is handed out.

    Yields its URL and pid; its output goes to `log_path` (a pipe nobody reads could fill and stall it).
    """
    import requests

    port = free_port()
    env = dict(os.environ, POSE_BIND=f"127.0.0.1:{port}", POSE_BACKEND="mediapipe", UPLOAD_ROOT=str(upload_root),
               POSE_WORKERS="1", POSE_MAX_INFLIGHT="2")  # fmt: skip
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                cwd=SERVICE_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                if requests.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:  # refused while binding, or slow while the model loads
                pass
            time.sleep(0.2)
        else:
            pytest.fail("gunicorn never became ready")
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def gunicorn_url(upload_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_gunicorn(upload_root, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as (url, _pid):
        yield url


# ---------------------------------------------------------------- SecantusDB for the pose worker's tests


@pytest.fixture(scope="module")
def mongo() -> Iterator[MongoServer]:
    """A real MongoDB-wire server (SecantusDB, the offline stand-in), one per test module."""
    server = MongoServer()
    server.start()
    yield server
    server.dispose()


@pytest.fixture()
def db(mongo: MongoServer) -> Iterator[Database]:
    """A fresh database per test, dropped afterwards."""
    client: MongoClient = MongoClient(mongo.uri, tz_aware=True)
    name = f"t{ObjectId()}"
    yield client[name]
    client.drop_database(name)
    client.close()


# The pose workers' tests: one model per module, and a worker running in a thread on the test database.
POSE_CONFIG = Config(backend="mediapipe")


@pytest.fixture(scope="module")
def runtime() -> PoseRuntime:
    rt = PoseRuntime(POSE_CONFIG)
    rt.start(background=False)
    assert rt.ready, rt.detail
    return rt


@contextlib.contextmanager
def running_worker(mongo: MongoServer, db: Database, runtime: PoseRuntime, **overrides: Any) -> Iterator[Worker]:
    settings = WorkerSettings(mongodb_uri=mongo.uri, database=db.name, **{"pose": POSE_CONFIG, **overrides})
    client: MongoClient = MongoClient(mongo.uri, **settings.client_options())
    wdb = client[db.name]
    assert runtime.backend is not None
    workdir = Path(tempfile.mkdtemp(prefix="worker-test-"))
    worker = Worker(WorkerContext(wdb, TaskQueue(wdb, settings), MediaStore(wdb), runtime.backend, settings, workdir))
    thread = threading.Thread(target=worker.run, name="worker")
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(60)
        client.close()
        assert not thread.is_alive(), "the worker did not stop"
        assert not workdir.exists(), "the worker's temp folder is removed on exit"

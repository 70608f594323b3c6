"""How the service starts and stops (issue 17, item 8: code change → healthy ≤ 2.5 s): ready once the image path is
warm with the video path warmed after it, mediapipe imported without pyplot, and a stopping gunicorn worker that
leaves at once with its exit code."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from types import ModuleType

import pytest
from conftest import SERVICE_DIR, person_photos

import pose_service.runtime as runtime_module
from pose_service.backends import BackendChoice
from pose_service.backends.mediapipe_backend import MediaPipeBackend
from pose_service.config import Config
from pose_service.runtime import PoseRuntime

CHOICE = BackendChoice("mediapipe", "cpu", "test")


def test_ready_once_the_image_graph_is_warm_and_the_video_graph_warms_after(monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[tuple[str, str]] = []

    class Recording(MediaPipeBackend):
        """The real backend, noting the runtime's status around each warm-up step."""

        def warmup_image(self) -> None:
            super().warmup_image()
            steps.append(("image warm", rt.status))

        def warmup_rest(self) -> None:
            steps.append(("rest starts", rt.status))
            super().warmup_rest()
            steps.append(("rest done", rt.status))

    monkeypatch.setattr(runtime_module, "create_backend", lambda config: (Recording(), CHOICE))
    rt = PoseRuntime(Config(backend="mediapipe"))
    rt.start(background=True)
    assert rt.wait(120) and rt.ready, rt.detail
    assert rt.warmed.wait(120)
    assert steps == [("image warm", "warming_up"), ("rest starts", "ready"), ("rest done", "ready")]
    info = rt.describe()
    assert info["load_seconds"] > 0 and info["warmup_rest_seconds"] > 0


def test_a_failing_warmup_after_ready_leaves_the_image_path_serving(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class VideoGraphBroken(MediaPipeBackend):
        def warmup_rest(self) -> None:
            raise RuntimeError("tracking graph broke")

    monkeypatch.setattr(runtime_module, "create_backend", lambda config: (VideoGraphBroken(), CHOICE))
    rt = PoseRuntime(Config(backend="mediapipe"))
    with caplog.at_level(logging.ERROR, logger=runtime_module.__name__):
        rt.start(background=False)
    assert rt.ready and rt.warmed.is_set()
    assert rt.describe()["warmup_rest_seconds"] is None
    assert "the warm-up after ready failed" in caplog.text and "tracking graph broke" in caplog.text
    assert rt.backend is not None and len(rt.backend.estimate_image(person_photos()["astronaut"])) == 1


def test_no_warmup_means_nothing_after_ready_either(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoRest(MediaPipeBackend):
        def warmup_rest(self) -> None:
            raise AssertionError("warmup_rest ran with POSE_WARMUP off")

    monkeypatch.setattr(runtime_module, "create_backend", lambda config: (NoRest(), CHOICE))
    rt = PoseRuntime(Config(backend="mediapipe", warmup=False))
    rt.start(background=False)
    assert rt.ready and rt.warmed.is_set() and rt.describe()["warmup_rest_seconds"] is None


def test_mediapipe_loads_without_importing_pyplot_and_its_drawing_still_reaches_pyplot() -> None:
    """In a fresh interpreter (this one may hold matplotlib already): the backend loads and answers with no
    matplotlib module imported; mediapipe's drawing_utils.plt then imports the real pyplot on first use."""
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (mediapipe depends on it)")
    script = """
import sys
import numpy as np
from pose_service.backends.mediapipe_backend import MediaPipeBackend
backend = MediaPipeBackend()
backend.load()
backend.warmup_image()
assert not [m for m in sys.modules if m.split(".")[0] == "matplotlib"], "matplotlib was imported"
from mediapipe.python.solutions import drawing_utils
figure = drawing_utils.plt.figure
import matplotlib.pyplot
assert figure is matplotlib.pyplot.figure and type(sys.modules["matplotlib"]).__name__ == "module"
print("ok")
"""
    env = dict(os.environ, MPLBACKEND="agg")
    out = subprocess.run([sys.executable, "-c", script], cwd=SERVICE_DIR, env=env, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def load_gunicorn_conf(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("POSE_BIND", "127.0.0.1:0")
    spec = importlib.util.spec_from_file_location("pose_gunicorn_conf", SERVICE_DIR / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("code", "status"), [(0, 0), (None, 0), (3, 3), (4, 4), ("boom", 1)])
def test_worker_exit_leaves_at_once_with_the_workers_exit_code(
    monkeypatch: pytest.MonkeyPatch, code: str | int | None, status: int
) -> None:
    """gunicorn calls worker_exit in the `finally` around the worker's run, SystemExit propagating: the hook ends the
    process itself (no interpreter teardown) with that exit code (the master halts on a worker's boot or app-load
    error code). A hook that returned would let the child reach os._exit(99)."""
    conf = load_gunicorn_conf(monkeypatch)
    pid = os.fork()
    if pid == 0:  # the child plays the worker
        try:
            try:
                sys.exit(code)
            finally:
                conf.worker_exit(None, None)
        finally:
            os._exit(99)
    _, wait_status = os.waitpid(pid, 0)
    assert os.WIFEXITED(wait_status) and os.WEXITSTATUS(wait_status) == status


def test_a_client_keeps_no_connection_that_would_hold_up_a_stop() -> None:
    """The real server with the image's config (a trivial WSGI app stands in for the pose app, whose start-up is not
    what this is about): an HTTP/1.1 answer closes its connection, and the SIGTERM of a recreate that follows stops the
    server at once. With gunicorn's default keep-alive (2 s) the answer said keep-alive, and 8 of 12 stops of the real
    service after a /ready poll took 1.84-1.97 s instead of 0.39-0.45 s."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, POSE_BIND=f"127.0.0.1:{port}", POSE_WORKERS="1")
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgiref.simple_server:demo_app"]
    server = subprocess.Popen(command, cwd=SERVICE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        client = None
        deadline = time.monotonic() + 30
        while client is None:
            try:
                client = socket.create_connection(("127.0.0.1", port), timeout=5)
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.05)
        with client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            answer = client.makefile("rb")
            status = answer.readline()
            headers = {}
            while (line := answer.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip().lower()
            assert status.startswith(b"HTTP/1.1 200") and headers.get("connection") == "close", headers
            assert answer.read()  # the body, to the end: the server closed the connection, nothing is left to linger
            answer.close()
            client.close()  # as an HTTP client does once its request is done
            time.sleep(0.3)  # as the bench's next build takes at least that long before the recreate stops the server
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=10)
            assert time.monotonic() - started < 1.0, server.stderr.read().decode() if server.stderr else ""
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()


def test_gunicorn_halts_when_its_worker_cannot_boot() -> None:
    """The real server with the image's config: the worker's boot error (exit 3, the app's module cannot be imported)
    still reaches the master, which stops instead of respawning the worker for ever (what an exit 0 would do)."""
    env = dict(os.environ, POSE_BIND="127.0.0.1:0", POSE_WORKERS="1")
    out = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "no_such_module:app"],
                         cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 3, out.stderr[-3000:]
    assert "Worker failed to boot" in out.stderr

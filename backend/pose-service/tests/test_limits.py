"""Issue 15 item 10 on the pose side: oversized inputs are refused from their headers, before any decoding,
JSON bodies have a route-sized limit, and no log line carries a client's multi-megabyte string. The memory
checks run against a real gunicorn server (the image's command), watched with psutil."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import psutil
import pytest
import requests
from conftest import person_photos, running_gunicorn

from pose_service.imagesize import image_size
from pose_service.logsafe import MAX_MESSAGE_CHARS, MAX_TRACEBACK_CHARS, install_log_truncation

BOMB_SIDE = 30000


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def zeros_zlib(length: int, row: bytes) -> bytes:
    """A valid zlib stream of `length` zero bytes without compressing them all: full-flushed blocks of one
    row repeat byte for byte, and Adler-32 of zeros is known in closed form."""
    c = zlib.compressobj(9)
    head = c.compress(row) + c.flush(zlib.Z_FULL_FLUSH)
    body = c.compress(row) + c.flush(zlib.Z_FULL_FLUSH)
    adler = ((length % 65521) << 16) | 1
    return head + body * (length // len(row) - 1) + b"\x03\x00" + struct.pack(">I", adler)


def png_bomb(side: int = BOMB_SIDE) -> bytes:
    """A real, fully decodable black RGB PNG of side×side pixels (2.7 GB decoded, ~3 MB on disk)."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zeros_zlib((3 * side + 1) * side, bytes(3 * side + 1))
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def jpeg_bomb(side: int = BOMB_SIDE) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, side, side, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return b"\xff\xd8" + app0 + sof + os.urandom(4096)


def webp_vp8x_bomb(side: int = BOMB_SIDE) -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (side - 1).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + os.urandom(2048)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_image_size_is_read_from_the_header(ext: str) -> None:
    img = person_photos()["astronaut"][:300, :440]
    params = [cv2.IMWRITE_WEBP_QUALITY, 101] if ext == ".webp" else []  # 101 = lossless (VP8L)
    for extra in ([], params) if ext == ".webp" else ([],):
        ok, buf = cv2.imencode(ext, img, extra)
        assert ok
        kind = {".png": "png", ".jpg": "jpeg", ".webp": "webp"}[ext]
        assert image_size(io.BytesIO(buf.tobytes()), kind) == (440, 300)


def test_bomb_headers_declare_what_they_claim() -> None:
    assert image_size(io.BytesIO(png_bomb(64)), "png") == (64, 64)
    small = png_bomb(64)
    decoded = cv2.imdecode(__import__("numpy").frombuffer(small, "uint8"), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == (64, 64, 3), "the bomb is a real, decodable PNG"
    assert image_size(io.BytesIO(jpeg_bomb()), "jpeg") == (BOMB_SIDE, BOMB_SIDE)
    assert image_size(io.BytesIO(webp_vp8x_bomb()), "webp") == (BOMB_SIDE, BOMB_SIDE)


def test_log_lines_are_cut_whatever_a_request_put_in_them(caplog: pytest.LogCaptureFixture) -> None:
    install_log_truncation()
    log = logging.getLogger("pose_service.test")
    huge = "x" * 5_000_000
    with caplog.at_level(logging.INFO):
        log.info("client sent %s", huge)
        try:
            raise ValueError(huge)
        except ValueError:
            log.exception("failed on %r", huge)
    handler_text = [logging.Formatter().format(r) for r in caplog.records]
    assert len(handler_text) == 2
    assert all(len(t) <= MAX_MESSAGE_CHARS + MAX_TRACEBACK_CHARS + 200 for t in handler_text)
    assert "chars cut" in handler_text[0] and "ValueError" in handler_text[1]


class TreeRss:
    """Peak resident memory of a process tree, sampled every 20 ms."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        procs = [self.root, *self.root.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def server(upload_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """gunicorn with the image's config on a free port; its output goes to a file the test reads."""
    log_path = tmp_path_factory.mktemp("logs") / "gunicorn.log"
    with running_gunicorn(upload_root, log_path) as (url, pid):
        yield url, pid, log_path


def test_oversized_images_and_json_are_refused_with_memory_staying_low(server: tuple[str, int, Path]) -> None:
    url, pid, log_path = server
    bombs = {"bomb.png": png_bomb(), "bomb.jpg": jpeg_bomb(), "bomb.webp": webp_vp8x_bomb()}
    huge_path = "/data/uploads/" + "a" * (50 * 1024 * 1024)
    rss = TreeRss(pid)
    baseline = rss.now()
    with rss:
        for name, data in bombs.items():
            r = requests.post(f"{url}/v1/pose/image", files={"image": (name, data)}, timeout=60)
            assert r.status_code == 413, r.text[:300]
            body = r.json()
            assert body["error"] == "image_too_large"
            assert "30000×30000" in body["detail"] and "60000000" in body["detail"], body["detail"]
        for route in ("/v1/pose/video", "/v1/probe", "/v1/ingest"):
            r = requests.post(f"{url}{route}", json={"path": huge_path, "out_dir": "/data/uploads/x"}, timeout=60)
            assert r.status_code == 413, r.text[:300]
            assert r.json()["error"] == "payload_too_large" and "65536" in r.json()["detail"]
            assert len(r.content) < 1000
        # A chunked body declares no length: it is counted as it arrives.
        def chunks() -> Iterator[bytes]:
            yield b'{"path": "/data/uploads/'
            for _ in range(50):
                yield b"a" * (1024 * 1024)
            yield b'"}'

        r = requests.post(f"{url}/v1/probe", data=chunks(), headers={"Content-Type": "application/json"}, timeout=60)
        assert r.status_code == 413 and r.json()["error"] == "payload_too_large", r.text[:300]
        # Under the JSON limit but still long: the reply clips it, and nothing long reaches the log.
        long_path = "/nope/" + "b" * 60000
        r = requests.post(f"{url}/v1/probe", json={"path": long_path}, timeout=30)
        assert r.status_code == 400 and len(r.content) < 1000
    grown_mb = (rss.peak - baseline) / 2**20
    assert grown_mb < 150, f"the server grew by {grown_mb:.0f} MB while refusing oversized inputs"
    assert requests.get(f"{url}/ready", timeout=5).status_code == 200, "the service stays healthy"
    time.sleep(0.5)
    longest = max(len(line) for line in log_path.read_text(errors="replace").splitlines())
    assert longest < 4096, f"a log line of {longest} chars"

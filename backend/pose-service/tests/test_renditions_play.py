"""Every kind of phone footage, ingested, plays in both browsers the app supports (Chromium and Firefox ESR) at
its display size with no MediaError, and seeks: the renditions are what the browser gets, whatever the rider filmed.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from phone_clips import DISPLAY, make_4k60, make_clips, make_vfr

from pose_service.rendition import fit_within

HERE = Path(__file__).resolve().parent
WEB_MODULES = HERE.parent.parent / "web" / "node_modules"


def browsers_or_fail() -> None:
    missing = [tool for tool in ("node", "chromium", "firefox-esr") if not shutil.which(tool)]
    if not (WEB_MODULES / "playwright-core").is_dir() or not (WEB_MODULES / "puppeteer-core").is_dir():
        missing.append("backend/web/node_modules (npm ci)")
    if missing:
        message = f"the playback check needs {', '.join(missing)}: scripts/setup.sh --test installs them"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)


@pytest.fixture(scope="module")
def served(upload_root: Path) -> Iterator[str]:
    """The uploads folder over HTTP on a free loopback port (what the browsers load the renditions from)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(upload_root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_every_rendition_plays_in_chromium_and_firefox_at_its_display_size(client: FlaskClient, upload_root: Path,
                                                                           served: str) -> None:  # fmt: skip
    browsers_or_fail()
    folder = upload_root / "playback"
    sources = {name: (clip.path, clip.display) for name, clip in make_clips(folder).items()}
    sources["vfr"] = (make_vfr(folder), DISPLAY)
    sources["4k60"] = (make_4k60(folder, seconds=0.5), (3840, 2160))
    expected: dict[str, tuple[int, int]] = {}
    for name, (path, display) in sources.items():
        out_dir = folder / "derived" / name
        resp = client.post("/v1/ingest", json={"path": str(path), "out_dir": str(out_dir)})
        assert resp.status_code == 200, f"{name}: {resp.get_data(as_text=True)}"
        expected[f"{served}/playback/derived/{name}/rendition.mp4"] = fit_within(*display, 1080)
    command = ["node", str(HERE / "play_renditions.mjs"), *expected]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2 * len(expected), run.stdout
    problems = [
        f"{r['browser']} {r['url'].rsplit('/', 2)[-2]}: {r['width']}x{r['height']} (want {expected[r['url']]}), "
        f"error {r['error']}, seeked {r['seeked']}"
        for r in results
        if (r["width"], r["height"]) != expected[r["url"]] or r["error"] is not None or not r["seeked"]
    ]
    assert problems == []

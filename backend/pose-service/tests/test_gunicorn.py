"""Once through the real server the image runs: gunicorn with gunicorn.conf.py, over HTTP."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import cv2
import requests
from conftest import person_photos


def test_gunicorn_serves_health_image_and_video(gunicorn_url: str, camera_video: Path, upload_root: Path) -> None:
    assert requests.get(f"{gunicorn_url}/health", timeout=5).json()["status"] == "ready"
    assert requests.get(f"{gunicorn_url}/ready", timeout=5).json() == {"ready": True}

    _, jpg = cv2.imencode(".jpg", cv2.cvtColor(person_photos()["astronaut"], cv2.COLOR_RGB2BGR))
    files = {"image": ("a.jpg", io.BytesIO(jpg.tobytes()), "image/jpeg")}
    r = requests.post(f"{gunicorn_url}/v1/pose/image", files=files, timeout=60)
    assert r.status_code == 200 and len(r.json()["persons"]) == 1

    with open(camera_video, "rb") as fh:
        r = requests.post(f"{gunicorn_url}/v1/pose/video", files={"video": ("c.mp4", fh, "video/mp4")},
                          data={"sample_fps": "10"}, timeout=120)  # fmt: skip
    assert r.status_code == 200 and r.json()["rider_track_id"] == 1
    assert len(r.json()["frames"]) == 15

    copy = upload_root / "by-path.mp4"
    shutil.copy(camera_video, copy)
    r = requests.post(f"{gunicorn_url}/v1/pose/video", json={"path": str(copy), "max_frames": 3}, timeout=120)
    assert r.status_code == 200 and [f["index"] for f in r.json()["frames"]] == [0, 1, 2]

    r = requests.post(f"{gunicorn_url}/v1/pose/video", json={"path": "/etc/passwd"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_path"

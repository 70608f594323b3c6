"""The HTTP API through Flask's test client, with real MediaPipe inference on real photos."""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import person_photos, write_pan_zoom_video
from flask import Flask
from flask.testing import FlaskClient

from pose_service.app import create_app
from pose_service.config import Config


def encode(rgb: np.ndarray, ext: str) -> bytes:
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def kp(person: dict, name: str) -> dict:
    return next(k for k in person["keypoints"] if k["name"] == name)


def assert_error(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert body["error"] == code and isinstance(body["detail"], str) and body["detail"]


def test_health_ready_and_info(client: FlaskClient) -> None:
    assert client.get("/health").get_json() == {
        "status": "ready",
        "backend": "mediapipe",
        "device": "cpu",
        "detail": None,
    }
    assert client.get("/ready").get_json() == {"ready": True}
    info = client.get("/v1/info").get_json()
    assert info["backend"] == "mediapipe" and info["gpu"] is None
    assert info["versions"]["mediapipe"] == "0.10.21"
    assert info["limits"]["max_content_length_bytes"] == 20 * 1024 * 1024


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp"])
def test_astronaut_keypoints_land_on_her(client: FlaskClient, ext: str) -> None:
    img = person_photos()["astronaut"]
    resp = client.post("/v1/pose/image", data={"image": (io.BytesIO(encode(img, ext)), f"a{ext}")})
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["width"], body["height"]) == (512, 512)
    (p,) = body["persons"]
    assert p["track_id"] is None and len(p["keypoints"]) == 17 and len(p["keypoints_3d"]) == 17
    nose, ls, rs = kp(p, "nose"), kp(p, "left_shoulder"), kp(p, "right_shoulder")
    assert nose["y"] < ls["y"] and nose["y"] < rs["y"]
    # Her face is around x 170-290, y 60-200 and her shoulders span the photo's width below it.
    assert 170 < nose["x"] < 290 and 60 < nose["y"] < 200
    assert ls["x"] > nose["x"] > rs["x"], "the subject's left is on the image right when she faces us"
    assert min(ls["score"], rs["score"], nose["score"]) > 0.9
    x1, y1, x2, y2 = p["bbox"]
    assert x1 <= nose["x"] <= x2 and y1 <= nose["y"] <= y2
    # 3D: hip-centred metres with y up, so the nose is well above the hips.
    nose3 = p["keypoints_3d"][0]
    assert 0.3 < nose3["y"] < 1.0


def test_cameraman_keypoints_land_on_him(client: FlaskClient) -> None:
    img = person_photos()["camera"]
    resp = client.post("/v1/pose/image", data={"image": (io.BytesIO(encode(img, ".png")), "c.png")})
    (p,) = resp.get_json()["persons"]
    nose = kp(p, "nose")
    shoulders_y = (kp(p, "left_shoulder")["y"] + kp(p, "right_shoulder")["y"]) / 2
    hips_y = (kp(p, "left_hip")["y"] + kp(p, "right_hip")["y"]) / 2
    assert nose["y"] < shoulders_y < hips_y
    # He stands in the left 2/3 of the photo; his head is near the top, at the camera.
    for name in ("nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        assert 0 <= kp(p, name)["x"] < 340, name
    assert 100 < nose["y"] < 220


def test_no_person_is_an_empty_list_not_an_error(client: FlaskClient) -> None:
    sky = np.full((240, 320, 3), (135, 180, 235), dtype=np.uint8)
    resp = client.post("/v1/pose/image", data={"image": (io.BytesIO(encode(sky, ".jpg")), "sky.jpg")})
    assert resp.status_code == 200 and resp.get_json()["persons"] == []


def test_video_upload_tracks_the_person_across_frames(client: FlaskClient, camera_video: Path) -> None:
    with open(camera_video, "rb") as fh:
        resp = client.post("/v1/pose/video", data={"video": (fh, "clip.mp4"), "sample_fps": "15"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["video"] == {"fps": 30.0, "frame_count": 45, "width": 512, "height": 512, "duration_s": 1.5,
                             "rotation": 0, "mirrored": False, "frame_rate_mode": "cfr", "codec": "mpeg4"}
    assert body["rider_track_id"] == 1
    frames = body["frames"]
    assert [f["index"] for f in frames] == list(range(0, 45, 2))
    assert [f["t"] for f in frames] == pytest.approx([i / 30 for i in range(0, 45, 2)], abs=1e-3)
    seen = [f for f in frames if f["persons"]]
    assert len(seen) >= 0.9 * len(frames)
    for f in seen:
        (p,) = f["persons"]
        assert p["track_id"] == 1
        assert kp(p, "nose")["y"] < kp(p, "left_hip")["y"]
    m = body["metrics"]
    assert len(m["series"]["t"]) == len(frames)
    assert m["summary"]["frames_analysed"] == len(frames)
    assert m["summary"]["frames_with_rider"] == len(seen)
    assert body["timing"]["frames_per_second"] > 0


SAMPLE_CLIP = Path(__file__).resolve().parents[2] / "web" / "public" / "sample" / "sample-run.mp4"


def test_the_web_apps_sample_clip_is_analysed_for_real(client: FlaskClient) -> None:
    """The clip the empty library offers ("Try the sample clip") must give a first-time user a skeleton: a person in
    nearly every frame, one track, and the metrics that need only the torso."""
    with open(SAMPLE_CLIP, "rb") as fh:
        resp = client.post("/v1/pose/video", data={"video": (fh, "sample-run.mp4")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["video"]["width"], body["video"]["height"], body["video"]["frame_count"]) == (480, 480, 72)
    frames = body["frames"]
    seen = [f for f in frames if f["persons"]]
    assert len(seen) >= 0.9 * len(frames), f"a person in {len(seen)} of {len(frames)} frames"
    assert {p["track_id"] for f in seen for p in f["persons"]} == {body["rider_track_id"]}
    summary = body["metrics"]["summary"]
    assert summary["frames_with_rider"] >= 0.9 * len(frames)
    assert summary["max_rotation_deg"] is not None and "max_rotation_deg" not in summary["unavailable"]


def test_video_by_path_with_window_and_max_frames(client: FlaskClient, camera_video: Path) -> None:
    resp = client.post(
        "/v1/pose/video", json={"path": str(camera_video), "start_s": 0.5, "end_s": 1.2, "max_frames": 5}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    idx = [f["index"] for f in resp.get_json()["frames"]]
    assert idx == [15, 16, 17, 18, 19]


def test_path_traversal_and_symlinks_out_of_uploads_are_refused(client: FlaskClient, upload_root: Path,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    link = upload_root / "link.mp4"
    if not link.exists():
        os.symlink(outside, link)
    for path in (str(upload_root / ".." / "etc" / "passwd"), "/etc/passwd", str(outside), str(link), "../x.mp4"):
        assert_error(client.post("/v1/pose/video", json={"path": path}), 400, "invalid_path")
    assert_error(client.post("/v1/pose/video", json={"path": str(upload_root / "nope.mp4")}), 404, "file_not_found")
    assert_error(client.post("/v1/pose/video", json={"path": 5}), 400, "invalid_path")
    assert_error(client.post("/v1/pose/video", json=["x"]), 400, "invalid_json")


@pytest.mark.parametrize(
    "opts",
    [{"sample_fps": "0"}, {"sample_fps": "31"}, {"sample_fps": "abc"}, {"max_frames": "0"}, {"max_frames": "100001"},
     {"max_frames": "2.5"}, {"start_s": "-1"}, {"start_s": "1", "end_s": "0.5"}, {"start_s": "9"}, {"end_s": "nan"}],
)  # fmt: skip
def test_options_out_of_range_are_400(client: FlaskClient, camera_video: Path, opts: dict) -> None:
    with open(camera_video, "rb") as fh:
        resp = client.post("/v1/pose/video", data={"video": (fh, "clip.mp4"), **opts})
    assert_error(resp, 400, "invalid_option")


def test_not_an_image_or_video_is_415(client: FlaskClient) -> None:
    text = io.BytesIO(b"hello, this is not a picture at all")
    assert_error(client.post("/v1/pose/image", data={"image": (text, "x.jpg")}), 415, "unsupported_media_type")
    text = io.BytesIO(b"hello, this is not a video at all")
    assert_error(client.post("/v1/pose/video", data={"video": (text, "x.mp4")}), 415, "unsupported_media_type")


def test_corrupt_files_are_422(client: FlaskClient) -> None:
    jpeg = encode(person_photos()["astronaut"], ".jpg")[:200]
    assert_error(client.post("/v1/pose/image", data={"image": (io.BytesIO(jpeg), "x.jpg")}), 422, "corrupt_image")
    mp4 = b"\x00\x00\x00\x18ftypmp42" + os.urandom(4000)
    assert_error(client.post("/v1/pose/video", data={"video": (io.BytesIO(mp4), "x.mp4")}), 422, "undecodable_video")
    assert_error(client.post("/v1/pose/video", data={"video": (io.BytesIO(b""), "x.mp4")}), 422, "empty_video")


def test_zero_frame_video_is_422(client: FlaskClient, tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30, (64, 64))
    w.release()
    data = path.read_bytes() if path.exists() else b""
    if not data:
        data = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41"
    resp = client.post("/v1/pose/video", data={"video": (io.BytesIO(data), "empty.mp4")})
    assert resp.status_code == 422 and resp.get_json()["error"] in ("empty_video", "undecodable_video")


def test_unsupported_codec_is_422(client: FlaskClient, camera_video: Path) -> None:
    # A valid MP4 whose sample description names a codec FFmpeg does not know.
    data = camera_video.read_bytes()
    assert b"mp4v" in data
    data = data.replace(b"mp4v", b"zzzz").replace(b"esds", b"zzzz")
    resp = client.post("/v1/pose/video", data={"video": (io.BytesIO(data), "odd.mp4")})
    assert_error(resp, 422, "undecodable_video")


def test_missing_field_and_unknown_route_and_method(client: FlaskClient) -> None:
    assert_error(client.post("/v1/pose/image", data={}), 400, "missing_file")
    assert_error(client.post("/v1/pose/video", data={}), 400, "missing_file")
    assert_error(client.get("/v1/nope"), 404, "not_found")
    assert_error(client.get("/v1/pose/image"), 405, "method_not_allowed")


def test_upload_over_the_limit_is_413(client: FlaskClient) -> None:
    big = io.BytesIO(b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024))
    assert_error(client.post("/v1/pose/image", data={"image": (big, "big.jpg")}), 413, "payload_too_large")


def test_overload_is_503_with_retry_after(app: Flask, client: FlaskClient) -> None:
    slots: threading.BoundedSemaphore = app.extensions["pose_slots"]
    held = 0
    while slots.acquire(blocking=False):
        held += 1
    try:
        img = encode(person_photos()["astronaut"], ".jpg")
        resp = client.post("/v1/pose/image", data={"image": (io.BytesIO(img), "a.jpg")})
        assert_error(resp, 503, "overloaded")
        assert int(resp.headers["Retry-After"]) > 0
    finally:
        for _ in range(held):
            slots.release()
    assert client.post("/v1/pose/image", data={"image": (io.BytesIO(img), "a.jpg")}).status_code == 200


def test_not_ready_while_warming_and_error_when_backend_missing(tmp_path: Path) -> None:
    cold = create_app(Config(backend="mediapipe"), start_runtime=False).test_client()
    assert cold.get("/health").get_json()["status"] == "warming_up"
    assert_error(cold.get("/ready"), 503, "not_ready")
    assert_error(cold.post("/v1/pose/image", data={}), 503, "not_ready")

    app = create_app(Config(backend="hmr2", model_dir=str(tmp_path)))
    app.extensions["pose_runtime"].wait(30)
    health = app.test_client().get("/health").get_json()
    assert health["status"] == "error" and health["backend"] == "hmr2"
    assert str(tmp_path / ".cache/4DHumans/data/smpl/SMPL_NEUTRAL.pkl") in health["detail"]
    assert "smpl.is.tue.mpg.de" in health["detail"]
    assert app.test_client().get("/ready").status_code == 503


def test_model_complexity_other_than_1_is_refused_clearly() -> None:
    app = create_app(Config(backend="mediapipe", model_complexity=2))
    app.extensions["pose_runtime"].wait(30)
    health = app.test_client().get("/health").get_json()
    assert health["status"] == "error" and "POSE_MODEL_COMPLEXITY=1" in health["detail"]


def test_webm_video_is_accepted_when_opencv_can_write_it(client: FlaskClient, tmp_path: Path) -> None:
    path = tmp_path / "clip.webm"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"VP80"), 10, (320, 320))
    if not w.isOpened():
        pytest.skip("this OpenCV build cannot encode VP8")
    w.release()
    write = write_pan_zoom_video  # same motion, VP8 in WebM
    del write
    img = cv2.resize(person_photos()["camera"], (320, 320))
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"VP80"), 10, (320, 320))
    for _ in range(10):
        w.write(cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    w.release()
    with open(path, "rb") as fh:
        resp = client.post("/v1/pose/video", data={"video": (fh, "clip.webm")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["video"]["frame_count"] == 10

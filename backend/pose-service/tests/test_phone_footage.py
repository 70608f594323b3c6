"""Issue 13 on the pose side: phone footage is probed, analysed in display orientation with true frame times,
and turned into a browser-safe rendition, poster and sprite. Clips are made by ffmpeg from a real photo
(phone_clips.py); real MediaPipe inference; real ffmpeg for the rendition; ffprobe as the judge."""

from __future__ import annotations

import itertools
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from flask.testing import FlaskClient
from phone_clips import (
    DISPLAY,
    PhoneClip,
    encode,
    ffprobe_frame_times,
    ffprobe_stream,
    make_4k60,
    make_clips,
    make_vfr,
    top_level_boxes,
    vfr_times,
)  # fmt: skip

from pose_service.probe import Orientation, orientation_from_display_matrix
from pose_service.rendition import fit_within

CLIP_NAMES = ["rot90", "rot270", "mirrored", "selfie-portrait", "hevc10-mov", "hevc8-mov", "vp9-webm", "av1-webm",
              "mp4v", "prores-mov"]  # fmt: skip


@pytest.fixture(scope="module")
def clips(upload_root: Path) -> dict[str, PhoneClip]:
    return make_clips(upload_root / "phone")


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def rider_boxes(body: dict) -> dict[int, list[float]]:
    rid = body["rider_track_id"]
    return {f["index"]: p["bbox"] for f in body["frames"] for p in f["persons"] if p["track_id"] == rid}


def pose(client: FlaskClient, path: Path, **opts: object) -> dict:
    resp = client.post("/v1/pose/video", json={"path": str(path), **opts})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_json()


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_probe_reports_display_orientation_and_the_containers_frame_times(client: FlaskClient,
                                                                          clips: dict[str, PhoneClip],
                                                                          name: str) -> None:  # fmt: skip
    clip = clips[name]
    resp = client.post("/v1/probe", json={"path": str(clip.path)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    p = resp.get_json()
    assert (p["display_width"], p["display_height"]) == clip.display
    assert (p["rotation"], p["mirrored"]) == (clip.rotation, clip.mirrored)
    assert p["video_codec"] == clip.codec
    assert p["frame_rate_mode"] == "cfr" and p["fps"] == pytest.approx(30.0, abs=0.01)
    assert p["frame_count"] == 12 and p["duration_s"] == pytest.approx(0.4, abs=1e-3)
    assert p["has_audio"] is False
    assert p["frame_times"] == pytest.approx(ffprobe_frame_times(clip.path), abs=2e-6)
    if name == "hevc10-mov":
        assert (p["container"], p["bit_depth"], p["pix_fmt"]) == ("mov", 10, "yuv420p10le")
    if name in ("vp9-webm", "av1-webm"):
        assert p["container"] == "webm"


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_pose_is_in_display_coordinates_and_matches_the_physically_upright_twin(client: FlaskClient,
                                                                                clips: dict[str, PhoneClip],
                                                                                name: str) -> None:  # fmt: skip
    clip = clips[name]
    body, reference = pose(client, clip.path), pose(client, clip.twin)
    video = body["video"]
    assert (video["width"], video["height"]) == clip.display
    assert (video["rotation"], video["mirrored"], video["codec"]) == (clip.rotation, clip.mirrored, clip.codec)
    assert [f["t"] for f in body["frames"]] == pytest.approx(ffprobe_frame_times(clip.path), abs=2e-6)
    mine, theirs = rider_boxes(body), rider_boxes(reference)
    assert len(mine) >= 10 and len(theirs) >= 10, "the person must be found in nearly every frame"
    both = sorted(set(mine) & set(theirs))
    overlaps = [iou(mine[i], theirs[i]) for i in both]
    assert float(np.median(overlaps)) >= 0.8, overlaps
    for i in both:
        x1, y1, x2, y2 = mine[i]
        assert 0 <= x1 < x2 <= clip.display[0] and 0 <= y1 < y2 <= clip.display[1]
    # Upright in display coordinates: her head above her shoulders, her left on the image right.
    f = next(f for f in body["frames"] if f["persons"])
    kp = {k["name"]: k for k in f["persons"][0]["keypoints"]}
    assert kp["nose"]["y"] < min(kp["left_shoulder"]["y"], kp["right_shoulder"]["y"])
    assert kp["left_shoulder"]["x"] > kp["right_shoulder"]["x"]


@pytest.mark.parametrize("name", CLIP_NAMES)
def test_ingest_makes_a_browser_safe_rendition_with_the_same_frames_and_times(client: FlaskClient,
                                                                              clips: dict[str, PhoneClip],
                                                                              upload_root: Path,
                                                                              name: str) -> None:  # fmt: skip
    clip = clips[name]
    out_dir = upload_root / "derived" / name
    resp = client.post("/v1/ingest", json={"path": str(clip.path), "out_dir": str(out_dir)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["probe"]["rotation"] == clip.rotation
    check_rendition(Path(body["rendition"]["path"]), clip.path, clip.display, body)
    assert sorted(p.name for p in out_dir.iterdir()) == ["poster.jpg", "rendition.mp4", "sprite.jpg"]
    # The picture itself is upright: the rendition's frames look like the twin ffmpeg turned upright.
    mine, theirs = first_frame(Path(body["rendition"]["path"])), first_frame(clip.twin)
    assert mine.shape == theirs.shape
    assert np.abs(mine.astype(int) - theirs.astype(int)).mean() < 8
    assert np.abs(mine.astype(int) - theirs[::-1, ::-1].astype(int)).mean() > 20, "a turned picture differs"


def video_packets(path: Path) -> list[tuple[int | None, bytes]]:
    import av

    with av.open(str(path)) as c:
        return [(p.pts, bytes(p)) for p in c.demux(video=0) if p.size]


HIGH = ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p"]


@pytest.mark.parametrize(("name", "vf", "codec", "passes"), [
    ("upright-high.mp4", "", HIGH, True),
    ("upright-baseline.mp4", "", ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"], False),
    # Grain, near-lossless: over 8 Mbit/s.
    ("upright-high-heavy.mp4", "noise=alls=60:allf=t+u", [*HIGH, "-qp", "1"], False),
    # Non-square pixels (4:3 SAR, as DV and some broadcast H.264 store them): the probe's SAR sends it to the encoder.
    ("upright-high-anamorphic.mp4", "setsar=4/3", HIGH, False),
])  # fmt: skip
def test_a_source_already_browser_safe_is_remuxed_not_encoded(
    client: FlaskClient, upload_root: Path, name: str, vf: str, codec: list[str], passes: bool
) -> None:
    """H.264 High, upright, within the size, ≤ 8 Mbit/s: the rendition carries the source's own packets (no
    generation loss, ~2 s of CPU saved per 20 s of 640×480); Constrained Baseline, a heavy bitrate or non-square
    pixels is encoded."""
    (upload_root / "passthrough").mkdir(exist_ok=True)
    clip = encode(upload_root / "passthrough", name, vf, codec, frames=30)
    out_dir = upload_root / "derived" / name
    resp = client.post("/v1/ingest", json={"path": str(clip), "out_dir": str(out_dir)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    rendition = Path(body["rendition"]["path"])
    assert body["rendition"]["encoded"] is not passes
    check_rendition(rendition, clip, DISPLAY, body)
    assert (video_packets(rendition) == video_packets(clip)) is passes
    assert sorted(p.name for p in out_dir.iterdir()) == ["poster.jpg", "rendition.mp4", "sprite.jpg"]


@pytest.mark.parametrize(("vf", "sar"), [("", Fraction(1, 1)), ("setsar=4/3", Fraction(4, 3)),
                                         ("setsar=8/9", Fraction(8, 9))])  # fmt: skip
def test_the_probe_reads_the_sample_aspect_ratio(upload_root: Path, vf: str, sar: Fraction) -> None:
    from pose_service.probe import probe_video

    (upload_root / "sar").mkdir(exist_ok=True)
    clip = encode(upload_root / "sar", f"sar-{sar.numerator}-{sar.denominator}.mp4", vf, HIGH, frames=3)
    probe = probe_video(str(clip))
    assert probe.sample_aspect_ratio == sar
    assert probe.square_pixels is (sar == 1)
    assert "sample_aspect_ratio" not in probe.to_json(), "internal: no reply or document carries it"


def first_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def check_rendition(rendition: Path, source: Path, display: tuple[int, int], body: dict) -> None:
    stream = ffprobe_stream(rendition)
    want = fit_within(*display, 1080)
    assert (stream["codec_name"], stream["profile"], stream["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (stream["width"], stream["height"]) == want == (body["rendition"]["width"], body["rendition"]["height"])
    assert not any(sd.get("side_data_type") == "Display Matrix" for sd in stream.get("side_data_list", [])), \
        "the rendition is upright: it must carry no rotation"  # fmt: skip
    boxes = top_level_boxes(rendition)
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    assert ffprobe_frame_times(rendition) == pytest.approx(ffprobe_frame_times(source), abs=1e-4)
    assert body["rendition"]["frame_count"] == len(ffprobe_frame_times(source))
    assert body["rendition"]["size"] == rendition.stat().st_size
    poster = ffprobe_stream(Path(body["poster"]["path"]))
    assert (poster["width"], poster["height"]) == want
    assert body["poster"]["size"] == Path(body["poster"]["path"]).stat().st_size > 0
    sprite = body["sprite"]
    assert ffprobe_stream(Path(sprite["path"]))["width"] == sprite["tile_width"] * sprite["columns"]
    assert sprite["count"] == sprite["columns"] * sprite["rows"] >= 1


def test_variable_frame_rate_clip_keeps_its_uneven_times_everywhere(client: FlaskClient, upload_root: Path) -> None:
    folder = upload_root / "vfr"
    folder.mkdir(exist_ok=True)
    path = make_vfr(folder)
    expected = vfr_times()
    assert ffprobe_frame_times(path) == pytest.approx(expected, abs=2e-6)
    probe = client.post("/v1/probe", json={"path": str(path)}).get_json()
    assert probe["frame_rate_mode"] == "vfr"
    assert probe["frame_times"] == pytest.approx(expected, abs=2e-6)
    body = pose(client, path)
    assert [f["t"] for f in body["frames"]] == pytest.approx(expected, abs=2e-6)
    assert body["metrics"]["series"]["t"] == pytest.approx(expected, abs=1e-4)
    assert body["video"]["frame_rate_mode"] == "vfr"
    # Sampling by true time: 10 per second over uneven frames picks frames ~0.1 s apart, not every 3rd.
    sampled = pose(client, path, sample_fps=5)
    t = [f["t"] for f in sampled["frames"]]
    assert all(0.15 < b - a < 0.27 for a, b in itertools.pairwise(t)), t
    # Its average rate is ~21.8 fps, its fastest stretch ~90 fps: asking for 30 per second is fine.
    assert len(pose(client, path, sample_fps=30)["frames"]) >= 10
    assert client.post("/v1/pose/video", json={"path": str(path), "sample_fps": 200}).status_code == 400
    windowed = pose(client, path, start_s=0.3, end_s=0.6)
    assert [f["t"] for f in windowed["frames"]] == pytest.approx([x for x in expected if 0.3 <= x < 0.6], abs=2e-6)
    resp = client.post("/v1/ingest", json={"path": str(path), "out_dir": str(folder / "derived")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    check_rendition(folder / "derived" / "rendition.mp4", path, DISPLAY, resp.get_json())


def test_4k60_clip_is_analysed_at_display_size_and_rendered_down_to_1080(client: FlaskClient,
                                                                        upload_root: Path) -> None:  # fmt: skip
    folder = upload_root / "uhd"
    folder.mkdir(exist_ok=True)
    path = make_4k60(folder)
    probe = client.post("/v1/probe", json={"path": str(path)}).get_json()
    assert (probe["display_width"], probe["display_height"], probe["frame_count"]) == (3840, 2160, 60)
    assert probe["fps"] == pytest.approx(60.0, abs=0.01)
    body = pose(client, path, sample_fps=10)
    assert (body["video"]["width"], body["video"]["height"]) == (3840, 2160)
    assert [f["index"] for f in body["frames"]] == list(range(0, 60, 6))
    boxes = rider_boxes(body)
    assert len(boxes) >= 8
    # The man fills the pillarboxed middle: x 840..3000, so his box lies there in full-size pixels.
    for x1, _y1, x2, _y2 in boxes.values():
        assert 840 <= x1 < x2 <= 3000
    resp = client.post("/v1/ingest", json={"path": str(path), "out_dir": str(folder / "derived")})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    check_rendition(folder / "derived" / "rendition.mp4", path, (3840, 2160), resp.get_json())
    assert (resp.get_json()["rendition"]["width"], resp.get_json()["rendition"]["height"]) == (1080, 608)


@pytest.mark.parametrize(
    "matrix,expected",
    [
        ([65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30], Orientation(0, False)),
        ([0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30], Orientation(90, False)),  # iPhone portrait (ffprobe: -90)
        ([-65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30], Orientation(180, False)),
        ([0, -65536, 0, 65536, 0, 0, 0, 0, 1 << 30], Orientation(270, False)),
        ([-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30], Orientation(0, True)),
        ([65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30], Orientation(180, True)),
        ([0, 65536, 0, 65536, 0, 0, 0, 0, 1 << 30], Orientation(90, True)),
        ([0, -65536, 0, -65536, 0, 0, 0, 0, 1 << 30], Orientation(270, True)),
        (None, Orientation(0, False)),
    ],
)
def test_display_matrix_decomposes_into_rotation_and_mirror(matrix: list[int] | None, expected: Orientation) -> None:
    assert orientation_from_display_matrix(matrix) == expected


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("mirrored", [False, True])
def test_numpy_and_ffmpeg_apply_the_same_orientation(rotation: int, mirrored: bool, tmp_path: Path) -> None:
    rng = np.random.default_rng(rotation)
    img = rng.integers(0, 255, (6, 10, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)  # 48×80, blocky
    src = tmp_path / "in.png"
    import cv2

    cv2.imwrite(str(src), img)
    o = Orientation(rotation, mirrored)
    out = tmp_path / "out.png"
    vf = ",".join(["format=rgb24", *o.ffmpeg_filters()]) if o.ffmpeg_filters() else "format=rgb24"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), "-vf", vf, str(out)], check=True)
    assert np.array_equal(cv2.imread(str(out)), o.apply(img))
    assert o.display_size(80, 48) == (cv2.imread(str(out)).shape[1], cv2.imread(str(out)).shape[0])


def assert_error(resp, status: int, code: str) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert body["error"] == code and body["detail"]


def test_probe_and_ingest_refuse_what_they_cannot_use(client: FlaskClient, upload_root: Path,
                                                     clips: dict[str, PhoneClip]) -> None:  # fmt: skip
    folder = upload_root / "bad"
    folder.mkdir(exist_ok=True)
    audio = folder / "voice.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac", str(audio)],
                   check=True)  # fmt: skip
    resp = client.post("/v1/probe", json={"path": str(audio)})
    assert_error(resp, 415, "unsupported_media")
    assert "no video stream" in resp.get_json()["detail"]
    odd = folder / "odd.mp4"
    odd.write_bytes(clips["mp4v"].path.read_bytes().replace(b"mp4v", b"zzzz").replace(b"esds", b"zzzz"))
    resp = client.post("/v1/probe", json={"path": str(odd)})
    assert_error(resp, 415, "unsupported_media")
    assert "codec" in resp.get_json()["detail"] and "zzzz" in resp.get_json()["detail"]
    text = folder / "notes.mp4"
    text.write_bytes(b"hello, this is not a video")
    assert_error(client.post("/v1/probe", json={"path": str(text)}), 415, "unsupported_media")
    assert_error(client.post("/v1/probe", json={"path": "/etc/passwd"}), 400, "invalid_path")
    assert_error(client.post("/v1/probe", json={"path": str(folder / "gone.mp4")}), 404, "file_not_found")
    src = str(clips["rot90"].path)
    for out_dir in ("/tmp/elsewhere", str(upload_root), str(upload_root / ".." / "x"), "relative/dir", 7):
        assert_error(client.post("/v1/ingest", json={"path": src, "out_dir": out_dir}), 400, "invalid_out_dir")
    assert not Path("/tmp/elsewhere").exists()
    resp = client.post("/v1/ingest", json={"path": str(audio), "out_dir": str(folder / "derived")})
    assert_error(resp, 415, "unsupported_media")


@pytest.mark.parametrize("name", ["late.mp4", "late.webm"])
def test_a_late_window_is_reached_by_seeking_with_the_same_frames_and_times(upload_root: Path, name: str) -> None:
    from phone_clips import encode

    from pose_service.media import SEEK_AFTER_S, decode_frames
    from pose_service.probe import probe_video

    folder = upload_root / "seek"
    folder.mkdir(exist_ok=True)
    codec = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-bf", "2"] if name.endswith(".mp4") else \
        ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "15"]  # fmt: skip
    path = encode(folder, name, "format=yuv420p", codec, frames=150, fps=30)
    probe = probe_video(str(path))
    window = [i for i, t in enumerate(probe.frame_times) if 3.1 <= t < 3.5]
    assert probe.frame_times[window[0]] > SEEK_AFTER_S
    sought = list(decode_frames(str(path), probe, window, 1280))
    # The same frames decoded from the start, for reference.
    everything = {f.index: f for f in decode_frames(str(path), probe, list(range(window[-1] + 1)), 1280)}
    assert [f.index for f in sought] == window
    for f in sought:
        assert f.t == pytest.approx(probe.frame_times[f.index], abs=1e-9)
        assert np.array_equal(f.rgb, everything[f.index].rgb)

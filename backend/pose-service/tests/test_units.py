"""Deciding functions tested without a model: sampling, sniffing, backend choice, rider choice, config."""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from pose_service.backends import BackendChoice, choose_backend
from pose_service.backends.base import FramePoses
from pose_service.backends.hmr2_backend import cache_paths, missing_files
from pose_service.config import Config
from pose_service.keypoints import BLAZEPOSE_TO_COCO17, COCO17, PersonPose, from_blazepose
from pose_service.media import Sampling, sample_indices, sniff_image, sniff_video
from pose_service.probe import Orientation, VideoProbe
from pose_service.rendition import PASSTHROUGH_MAX_BITRATE, passes_through
from pose_service.tracking import choose_rider


def test_sampling_picks_frames_on_the_sample_clock() -> None:
    times = [i / 30 for i in range(90)]
    assert sample_indices(times, 3.0, Sampling()) == list(range(90))
    assert sample_indices(times, 3.0, Sampling(sample_fps=10)) == list(range(0, 90, 3))
    assert sample_indices(times, 3.0, Sampling(sample_fps=15, start_s=1.0, end_s=2.0)) == list(range(30, 60, 2))
    assert sample_indices(times, 3.0, Sampling(max_frames=4)) == [0, 1, 2, 3]
    ntsc = [i * 1001 / 30000 for i in range(300)]
    assert len(sample_indices(ntsc, 300 * 1001 / 30000, Sampling(sample_fps=12))) == pytest.approx(120, abs=1)


def test_sampling_a_variable_frame_rate_clip_follows_true_times() -> None:
    # 30 fps with a stall: frames 10..19 arrive at 15 fps. Sampling at 10/s must pick by time, not by count.
    times = [i / 30 for i in range(10)] + [10 / 30 + k / 15 for k in range(10)] + [1.0 + k / 30 for k in range(1, 31)]
    picked = sample_indices(times, 2.0, Sampling(sample_fps=10))
    picked_t = [times[i] for i in picked]
    assert all(abs(b - a - 0.1) < 0.04 for a, b in itertools.pairwise(picked_t))
    assert sample_indices(times, 2.0, Sampling(start_s=0.5, end_s=0.7)) == [i for i, t in enumerate(times)
                                                                         if 0.5 - 1e-9 <= t < 0.7 - 1e-9]


def test_sniffing_by_magic_bytes() -> None:
    assert sniff_image(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff_image(b"\x89PNG\r\n\x1a\n") == "png"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff_image(b"GIF89a") is None
    assert sniff_video(b"\x00\x00\x00\x20ftypisom") == "mp4"
    assert sniff_video(b"\x00\x00\x00\x14ftypqt  ") == "mp4"
    assert sniff_video(b"\x1a\x45\xdf\xa3\x9f") == "webm"
    assert sniff_video(b"RIFF\x00\x00\x00\x00AVI ") is None


@pytest.mark.parametrize(
    "setting,cuda,missing,expected",
    [
        ("auto", False, [], "mediapipe"),
        ("auto", True, ["/data/models/x"], "mediapipe"),
        ("auto", True, [], "hmr2"),
        ("mediapipe", True, [], "mediapipe"),
        ("hmr2", False, ["x"], "hmr2"),  # explicit choice is honoured; load() then reports what is missing
    ],
)
def test_backend_choice(setting: str, cuda: bool, missing: list[str], expected: str) -> None:
    choice = choose_backend(Config(backend=setting), cuda, missing)
    assert isinstance(choice, BackendChoice) and choice.name == expected
    assert choice.device == ("cuda" if expected == "hmr2" else "cpu")


def test_hmr2_missing_files_name_exact_paths_and_how_to_supply(tmp_path: Path) -> None:
    missing = missing_files(str(tmp_path))
    assert missing[0].startswith(str(tmp_path / ".cache/4DHumans/data/smpl/SMPL_NEUTRAL.pkl"))
    assert "smpl.is.tue.mpg.de" in missing[0]
    for path in cache_paths(str(tmp_path)).values():
        if path != tmp_path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
    assert missing_files(str(tmp_path)) == []


def test_config_from_env_validates_backend() -> None:
    cfg = Config.from_env({"POSE_BACKEND": "MediaPipe", "UPLOAD_ROOT": "/u", "POSE_MAX_INFLIGHT": "3"})
    assert (cfg.backend, cfg.upload_root, cfg.max_inflight) == ("mediapipe", "/u", 3)
    with pytest.raises(ValueError, match="POSE_BACKEND"):
        Config.from_env({"POSE_BACKEND": "openpose"})


def test_blazepose_mapping_and_y_up_hip_centred_3d() -> None:
    assert len(BLAZEPOSE_TO_COCO17) == len(COCO17) == 17
    lm = np.zeros((33, 3))
    lm[:, 2] = 1.0
    lm[0, :2] = (0.5, 0.1)  # nose
    world = np.zeros((33, 3))
    world[0] = (0.0, -0.6, -0.1)  # MediaPipe: y down, z toward the camera negative
    world[23], world[24] = (0.1, 0.02, 0.0), (-0.1, 0.0, 0.0)
    p = from_blazepose(lm, world, 200, 100, None)
    assert tuple(p.kp2d[0]) == (100.0, 10.0, 1.0)
    assert p.kp3d is not None
    np.testing.assert_allclose(p.kp3d[11] + p.kp3d[12], 0.0, atol=1e-12)  # hip-centred
    assert p.kp3d[0][1] == pytest.approx(0.61) and p.kp3d[0][2] == pytest.approx(0.1)


def _person(tid: int, size: float) -> PersonPose:
    return PersonPose(kp2d=np.zeros((17, 3)), kp3d=None, bbox=(0, 0, size, size), score=1.0, track_id=tid)


def test_rider_is_the_longest_track_then_the_biggest() -> None:
    frames = [FramePoses(i, i / 30, [_person(1, 10), _person(2, 100)] if i < 5 else [_person(1, 10)]) for i in range(8)]
    assert choose_rider(frames) == 1
    frames = [FramePoses(i, i / 30, [_person(1, 10), _person(2, 100)]) for i in range(5)]
    assert choose_rider(frames) == 2
    assert choose_rider([FramePoses(0, 0.0, [])]) is None


def _browser_safe_probe(**changes: object) -> VideoProbe:
    """A 640×480 H.264 High MP4 probe, 2 s: everything the rendition would be, unless `changes` says otherwise."""
    probe = VideoProbe(container="mp4", video_codec="h264", profile="High", pix_fmt="yuv420p", bit_depth=8,
                       coded_width=640, coded_height=480, orientation=Orientation(), fps=30.0, frame_count=60,
                       duration_s=2.0, has_audio=False, pts=list(range(60)))  # fmt: skip
    return dataclasses.replace(probe, **changes)  # type: ignore[arg-type]


def test_a_source_passes_through_on_its_probe_alone_and_never_with_non_square_pixels() -> None:
    size = PASSTHROUGH_MAX_BITRATE * 2 // 8  # 2 s at the cap
    assert passes_through(_browser_safe_probe(), 1080, size)
    assert passes_through(_browser_safe_probe(sample_aspect_ratio=Fraction(1, 1)), 1080, size)
    # Anamorphic (DV-style 4:3 pixels): the encode's setsar=1 would change the picture, so it is encoded.
    anamorphic = _browser_safe_probe(sample_aspect_ratio=Fraction(4, 3))
    assert not anamorphic.square_pixels
    assert not passes_through(anamorphic, 1080, size)
    assert not passes_through(_browser_safe_probe(), 1080, size + 1), "over the bitrate cap"
    assert not passes_through(_browser_safe_probe(profile="Constrained Baseline"), 1080, size)
    assert not passes_through(_browser_safe_probe(orientation=Orientation(90)), 1080, size)
    assert not passes_through(_browser_safe_probe(), 600, size), "longer side over max_side"

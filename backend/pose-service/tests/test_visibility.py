"""Confidence on real inference (issue 18): MediaPipe on clips made from scikit-image photos where the legs, or
the whole person, are out of the picture. No metric may read as measured from joints the model only guessed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from conftest import person_photos, write_pan_zoom_video
from flask.testing import FlaskClient

NOT_SEEN = "rider not seen (no frame shows both shoulders and hips)"


def summary_of(client: FlaskClient, clip: Path) -> dict:
    resp = client.post("/v1/pose/video", json={"path": str(clip)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    summary: dict = body["metrics"]["summary"]
    assert summary["frames_analysed"] == len(body["frames"])
    return summary


@pytest.fixture(scope="module")
def clips(upload_root: Path) -> dict[str, Path]:
    photos = person_photos()
    return {
        # The cameraman: head to mid-thigh, knees and feet below the picture's edge.
        "thighs_up": write_pan_zoom_video(upload_root / "thighs-up.mp4", photos["camera"], 30),
        # The astronaut: head and shoulders; the hips are at the bottom edge at best.
        "waist_up": write_pan_zoom_video(upload_root / "waist-up.mp4", photos["astronaut"], 30),
        # A cup of coffee: nobody at all.
        "nobody": write_pan_zoom_video(upload_root / "nobody.mp4", np.ascontiguousarray(skimage.data.coffee()), 30),
    }


def test_legs_out_of_frame_give_null_knee_stance_and_airtime_with_reasons(client: FlaskClient, clips: dict) -> None:
    s = summary_of(client, clips["thighs_up"])
    assert s["frames_with_rider"] >= 0.9 * s["frames_analysed"], "his shoulders and hips are in every frame"
    assert s["min_knee_angle_deg"] is None and s["stance"] is None and s["airtime_s"] is None
    assert s["unavailable"] == {
        "min_knee_angle_deg": "legs not visible",
        "airtime_s": "feet not visible",
        "stance": "feet not visible",
    }
    assert s["max_rotation_deg"] is not None and s["max_rotation_deg"] < 30, "the torso is seen: rotation is measured"
    assert s["frames_seen"]["legs"] == 0 and s["frames_seen"]["feet"] == 0


def test_head_and_shoulders_clip_reports_nothing_from_guessed_joints(client: FlaskClient, clips: dict) -> None:
    s = summary_of(client, clips["waist_up"])
    assert s["frames_seen"]["legs"] == 0 and s["frames_seen"]["feet"] == 0
    assert s["min_knee_angle_deg"] is None and s["stance"] is None and s["airtime_s"] is None
    assert s["unavailable"]["min_knee_angle_deg"] in ("legs not visible", NOT_SEEN)
    assert s["unavailable"]["stance"] in ("feet not visible", NOT_SEEN)
    # Her hips are at the edge of the photo: the rider counts only where the model saw them.
    assert s["frames_with_rider"] < 0.5 * s["frames_analysed"]


def test_nobody_in_the_picture_makes_everything_unavailable(client: FlaskClient, clips: dict) -> None:
    s = summary_of(client, clips["nobody"])
    assert s["frames_with_rider"] == 0 and s["frames_seen"] == {"torso": 0, "legs": 0, "feet": 0}
    assert s["unavailable"] == dict.fromkeys(
        ("max_rotation_deg", "rotation_direction", "min_knee_angle_deg", "airtime_s", "stance"), NOT_SEEN
    )
    assert s["max_rotation_deg"] is None and s["airtime_s"] is None and s["airborne_segments"] == []

"""Every metric against synthetic riders whose true values are known (see synth.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from synth import (
    PX_PER_M,
    TORSO,
    body,
    jump_lift,
    make_track,
    smoothstep,
    timeline,
)  # fmt: skip

from pose_service.keypoints import INDEX
from pose_service.metrics.compute import SERIES_KEYS, compute_metrics
from pose_service.metrics.timeseries import smooth
from pose_service.metrics.track import LA, LK, LS, RA, RK, VISIBLE_SCORE, RiderTrack, masked_points


def series(metrics: dict, key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in metrics["series"][key]], dtype=float)


@pytest.mark.parametrize("with_3d", [True, False], ids=["3d", "2d-only"])
@pytest.mark.parametrize("total", [540.0, -540.0], ids=["ccw", "cw"])
def test_540_spin_is_measured_with_direction_despite_noise_and_dropped_frames(total: float, with_3d: bool) -> None:
    t = timeline(3.0)
    yaw = total * smoothstep(t, 1.0, 2.0)
    track = make_track(t, [body()] * len(t), yaw, noise_px=1.5, noise_m=0.01, drop=0.1, seed=3, with_3d=with_3d)
    m = compute_metrics(track)
    assert m["summary"]["max_rotation_deg"] == pytest.approx(540.0, abs=15.0)
    assert m["summary"]["rotation_direction"] == ("counterclockwise" if total > 0 else "clockwise")
    cum = series(m, "cumulative_rotation")
    seen = np.isfinite(track.kp2d[:, 0, 0])
    assert np.isnan(cum[~seen]).all(), "frames without the rider must be null"
    assert np.nanmax(np.abs(cum[seen] - yaw[seen])) < 25.0


def test_small_wobble_has_no_spin_direction() -> None:
    t = timeline(2.0)
    m = compute_metrics(make_track(t, [body()] * len(t), 20 * np.sin(t * 3), noise_m=0.005))
    assert m["summary"]["max_rotation_deg"] < 30
    assert m["summary"]["rotation_direction"] is None


@pytest.mark.parametrize("drop", [0.0, 0.15])
def test_0_8_s_jump_gives_0_8_s_airtime(drop: float) -> None:
    t = timeline(3.0)
    lift = jump_lift(t, 1.0, 1.8, height_m=0.6)
    track = make_track(t, [body(knee_deg=150)] * len(t), np.zeros(len(t)), lift_m=lift, noise_px=2.0, drop=drop, seed=7)
    m = compute_metrics(track)
    segs = m["summary"]["airborne_segments"]
    assert len(segs) == 1
    assert segs[0]["start_s"] == pytest.approx(1.0, abs=0.05)
    assert segs[0]["end_s"] == pytest.approx(1.8, abs=0.05)
    assert m["summary"]["airtime_s"] == pytest.approx(0.8, abs=0.07)
    hip = series(m, "hip_height")
    apex = int(np.argmin(np.abs(t - 1.4)))
    assert np.nanmax(hip[apex - 2 : apex + 3]) - np.nanmedian(hip[:20]) == pytest.approx(0.6 / TORSO, abs=0.1)


def test_riding_without_jumping_has_no_airtime() -> None:
    t = timeline(3.0)
    knees = [body(knee_deg=130 + 30 * math.sin(x)) for x in t * 4]  # pumping the legs is not a jump
    m = compute_metrics(make_track(t, knees, np.zeros(len(t)), noise_px=2.0, seed=1))
    assert m["summary"]["airtime_s"] == 0
    assert m["summary"]["airborne_segments"] == []


@pytest.mark.parametrize(
    "with_3d,yaw", [(True, 0.0), (True, 50.0), (False, 90.0)], ids=["3d-front", "3d-turned", "2d-side"]
)
def test_fixed_110_degree_knee_bend(with_3d: bool, yaw: float) -> None:
    t = timeline(2.0)
    track = make_track(t, [body(knee_deg=110)] * len(t), np.full(len(t), yaw), noise_px=1.0, noise_m=0.004,
                       drop=0.1, seed=5, with_3d=with_3d)  # fmt: skip
    m = compute_metrics(track)
    for side in ("left", "right"):
        assert np.nanmedian(series(m, f"{side}_knee_angle")) == pytest.approx(110, abs=2.0)
        # thigh 35° forward of vertical under an upright torso → 145° at the hip
        assert np.nanmedian(series(m, f"{side}_hip_angle")) == pytest.approx(145, abs=2.5)
    assert m["summary"]["min_knee_angle_deg"] == pytest.approx(110, abs=3.0)


def test_stance_width_is_ankle_distance_over_hip_width() -> None:
    t = timeline(1.0)
    for with_3d in (True, False):
        m = compute_metrics(make_track(t, [body(ankle_half=0.25)] * len(t), np.zeros(len(t)), with_3d=with_3d))
        assert np.nanmedian(series(m, "stance_width")) == pytest.approx(2.5, abs=0.02)


def test_upper_body_rotation_is_shoulder_yaw_relative_to_hips() -> None:
    t = timeline(1.0)
    m = compute_metrics(make_track(t, [body(shoulder_yaw_deg=30)] * len(t), np.full(len(t), 60.0), noise_m=0.003))
    assert np.nanmedian(series(m, "upper_body_rotation")) == pytest.approx(30, abs=2.0)


@pytest.mark.parametrize("with_3d", [True, False])
def test_body_tilt_is_torso_angle_from_vertical(with_3d: bool) -> None:
    t = timeline(1.0)
    # Side view (yaw 90°) so the forward lean lies in the image plane for the 2D case too.
    m = compute_metrics(make_track(t, [body(torso_pitch_deg=25)] * len(t), np.full(len(t), 90.0), with_3d=with_3d))
    assert np.nanmedian(series(m, "body_tilt")) == pytest.approx(25, abs=1.0)


def test_hip_height_is_in_torso_lengths_above_the_ground() -> None:
    t = timeline(1.0)
    m = compute_metrics(make_track(t, [body(knee_deg=110)] * len(t), np.zeros(len(t))))
    expected = 2 * 0.45 * math.cos(math.radians(35)) / TORSO
    assert np.nanmedian(series(m, "hip_height")) == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize("direction,stance", [(1.0, "regular"), (-1.0, "goofy")])
def test_stance_from_leading_foot_in_direction_of_travel(direction: float, stance: str) -> None:
    t = timeline(3.0)
    x = direction * (-2.0 + 1.4 * t)  # rides 4.2 m across the frame
    m = compute_metrics(make_track(t, [body(ankle_half=0.25)] * len(t), np.zeros(len(t)), x_m=x, noise_px=2, drop=0.1))
    assert m["summary"]["stance"] == stance


def test_stance_is_unknown_without_travel() -> None:
    t = timeline(3.0)
    m = compute_metrics(make_track(t, [body(ankle_half=0.25)] * len(t), np.zeros(len(t)), noise_px=2))
    assert m["summary"]["stance"] is None


def test_smoothing_reduces_noise_and_keeps_gaps() -> None:
    t = timeline(3.0)
    truth = 140 + 25 * np.sin(2 * np.pi * 0.5 * t)
    rng = np.random.default_rng(0)
    noisy = truth + rng.normal(0, 4, len(t))
    noisy[10:13] = np.nan
    sm = smooth(t, noisy)
    assert np.isnan(sm[10:13]).all()
    ok = np.isfinite(noisy)
    rmse_raw = np.sqrt(np.mean((noisy[ok] - truth[ok]) ** 2))
    rmse_sm = np.sqrt(np.mean((sm[ok] - truth[ok]) ** 2))
    assert rmse_sm < 0.6 * rmse_raw


def test_every_series_matches_t_and_has_a_smoothed_twin() -> None:
    t = timeline(1.0)
    m = compute_metrics(make_track(t, [body()] * len(t), np.zeros(len(t)), drop=0.2, seed=2))
    n = len(m["series"]["t"])
    for key in SERIES_KEYS:
        assert len(m["series"][key]) == n
        assert len(m["series"]["smoothed"][key]) == n
    assert m["summary"]["frames_analysed"] == n
    assert m["summary"]["frames_with_rider"] == sum(v is not None for v in m["series"]["left_knee_angle"])


def test_no_rider_gives_nulls_not_numbers() -> None:
    t = timeline(1.0)
    track = make_track(t, [body()] * len(t), np.zeros(len(t)))
    track.kp2d[:] = np.nan
    track.kp3d = None
    m = compute_metrics(track)
    assert m["summary"]["frames_with_rider"] == 0
    assert m["summary"]["max_rotation_deg"] is None and m["summary"]["min_knee_angle_deg"] is None
    assert all(v is None for v in m["series"]["left_knee_angle"])


def test_empty_clip() -> None:
    m = compute_metrics(RiderTrack(t=np.zeros(0), kp2d=np.zeros((0, 17, 3)), kp3d=None))
    assert m["summary"]["frames_analysed"] == 0 and m["series"]["t"] == []


def test_low_confidence_keypoints_are_ignored() -> None:
    t = timeline(0.5)
    track = make_track(t, [body(knee_deg=110)] * len(t), np.zeros(len(t)))
    track.kp2d[:, 13, 2] = 0.05  # left knee unsure
    xy, xyz = masked_points(track)
    assert np.isnan(xy[:, 13]).all() and xyz is not None and np.isnan(xyz[:, 13]).all()
    m = compute_metrics(track)
    assert all(v is None for v in m["series"]["left_knee_angle"])
    assert PX_PER_M > 0


@pytest.mark.parametrize("facing", [0.0, 45.0, 90.0, 180.0], ids=["front", "three-quarter", "side-on", "back"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_straight_ride_without_spin_reads_well_under_30_degrees_in_2d(facing: float, seed: int) -> None:
    # Issue 13: a straight ride used to read ~40° in 2D, because the yaw normalised pure jitter to full scale.
    t = timeline(3.0)
    x = -2.0 + 1.4 * t
    track = make_track(t, [body(knee_deg=140, ankle_half=0.25)] * len(t), np.full(len(t), facing), x_m=x,
                       noise_px=3.0, drop=0.1, seed=seed, with_3d=False)  # fmt: skip
    m = compute_metrics(track)
    assert m["summary"]["max_rotation_deg"] < 20.0
    assert m["summary"]["rotation_direction"] is None


@pytest.mark.parametrize("total", [180.0, 360.0, -720.0])
def test_2d_spins_keep_their_size_while_riding_across(total: float) -> None:
    t = timeline(3.0)
    yaw = 90.0 + total * smoothstep(t, 1.0, 2.0)  # side-on, as riders pass a camera
    track = make_track(t, [body(knee_deg=140, ankle_half=0.25)] * len(t), yaw, x_m=-2.0 + 1.4 * t, noise_px=2.0,
                       drop=0.1, seed=4, with_3d=False)  # fmt: skip
    m = compute_metrics(track)
    assert m["summary"]["max_rotation_deg"] == pytest.approx(abs(total), abs=15.0)
    assert m["summary"]["rotation_direction"] == ("counterclockwise" if total > 0 else "clockwise")


# ---------------------------------------------------------------- confidence (issue 18)


def waist_up(track: RiderTrack, score: float = 0.3) -> RiderTrack:
    """The same rider with knees and ankles below the visibility threshold (out of the picture)."""
    for name in ("left_knee", "right_knee", "left_ankle", "right_ankle"):
        track.kp2d[:, INDEX[name], 2] = score
    return track


def test_threshold_is_explicit_and_reported() -> None:
    t = timeline(1.0)
    track = make_track(t, [body()] * len(t), np.zeros(len(t)))
    track.kp2d[:, LK, 2] = VISIBLE_SCORE - 0.01
    track.kp2d[:, RK, 2] = VISIBLE_SCORE
    xy, _ = masked_points(track)
    assert np.isnan(xy[:, LK]).all() and np.isfinite(xy[:, RK]).all()
    assert compute_metrics(track)["summary"]["joint_score_min"] == VISIBLE_SCORE


def test_waist_up_rider_has_no_knee_stance_or_airtime_but_keeps_rotation() -> None:
    t = timeline(3.0)
    x = -2.0 + 1.4 * t  # travels, so stance would be measurable if the feet were seen
    track = waist_up(make_track(t, [body(knee_deg=110, ankle_half=0.25)] * len(t), 540 * smoothstep(t, 1, 2), x_m=x))
    m = compute_metrics(track)
    s = m["summary"]
    assert s["min_knee_angle_deg"] is None and s["stance"] is None and s["airtime_s"] is None
    assert s["unavailable"] == {
        "min_knee_angle_deg": "legs not visible",
        "airtime_s": "feet not visible",
        "stance": "feet not visible",
    }
    assert s["max_rotation_deg"] == pytest.approx(540, abs=15) and s["rotation_direction"] == "counterclockwise"
    assert s["frames_with_rider"] == len(t)
    assert s["frames_seen"] == {"torso": len(t), "legs": 0, "feet": 0}
    assert all(v is None for v in m["series"]["left_knee_angle"] + m["series"]["stance_width"])


def test_legs_seen_in_a_few_frames_are_not_enough() -> None:
    t = timeline(2.0)  # 60 frames
    track = waist_up(make_track(t, [body(knee_deg=110)] * len(t), np.zeros(len(t))))
    track.kp2d[:10, [LK, RK, LA, RA], 2] = 0.9  # 10 < 25% of 60
    s = compute_metrics(track)["summary"]
    assert s["min_knee_angle_deg"] is None
    assert s["unavailable"]["min_knee_angle_deg"] == "legs visible in only 10 of 60 frames"
    track.kp2d[:20, [LK, RK, LA, RA], 2] = 0.9
    s = compute_metrics(track)["summary"]
    assert s["min_knee_angle_deg"] == pytest.approx(110, abs=3) and "min_knee_angle_deg" not in s["unavailable"]


def test_rider_counts_only_frames_with_shoulders_and_hips() -> None:
    t = timeline(1.0)
    track = make_track(t, [body()] * len(t), np.zeros(len(t)))
    track.kp2d[:12, LS, 2] = 0.1  # a shoulder out of the picture: not a rider frame
    s = compute_metrics(track)["summary"]
    assert s["frames_with_rider"] == len(t) - 12 and s["frames_seen"]["torso"] == len(t) - 12


def test_no_rider_makes_every_summary_value_unavailable_with_a_reason() -> None:
    t = timeline(1.0)
    track = make_track(t, [body()] * len(t), np.zeros(len(t)))
    track.kp2d[:, :, 2] = 0.1
    s = compute_metrics(track)["summary"]
    assert s["frames_with_rider"] == 0
    assert set(s["unavailable"]) == {"max_rotation_deg", "rotation_direction", "min_knee_angle_deg", "airtime_s",
                                     "stance"}  # fmt: skip
    assert set(s["unavailable"].values()) == {"rider not seen (no frame shows both shoulders and hips)"}
    assert s["max_rotation_deg"] is None and s["airtime_s"] is None and s["airborne_segments"] == []


def test_full_body_rider_has_nothing_unavailable_but_a_stance_without_travel_says_why() -> None:
    t = timeline(3.0)
    m = compute_metrics(make_track(t, [body(ankle_half=0.25)] * len(t), np.zeros(len(t)), noise_px=2))
    assert m["summary"]["unavailable"] == {
        "stance": "rider does not travel across the picture (a camera that follows the rider hides it)"
    }
    assert m["summary"]["airtime_s"] == 0 and m["summary"]["min_knee_angle_deg"] is not None

"""Synthetic riders with known ground truth, for the metric tests.

Body frame: metres, y up, x = the rider's left, z = the direction the rider faces; hip centre at the origin.
A yaw θ rotates the body about +y (counterclockwise seen from above). The camera looks along -z with x to
the image right, so yaw 0 means the rider faces the camera; the 2D view is an orthographic projection.
"""

from __future__ import annotations

import math

import numpy as np

from pose_service.keypoints import INDEX
from pose_service.metrics.track import RiderTrack

THIGH = SHIN = 0.45
TORSO = 0.5
HIP_HALF = 0.1
SHOULDER_HALF = 0.18
PX_PER_M = 200.0


def body(knee_deg: float = 180.0, ankle_half: float = HIP_HALF, torso_pitch_deg: float = 0.0,
         shoulder_yaw_deg: float = 0.0) -> np.ndarray:  # fmt: skip
    """(17, 3) keypoints in the body frame with the requested knee angle, stance, torso pitch and twist."""
    p = np.zeros((17, 3))
    # Thigh leans forward and shin back by the same angle, so the interior knee angle is exactly knee_deg.
    a = math.radians((180.0 - knee_deg) / 2.0)
    for side, sx in (("left", 1.0), ("right", -1.0)):
        hip = np.array([sx * HIP_HALF, 0.0, 0.0])
        ankle_x = sx * ankle_half
        knee = hip + np.array([(ankle_x - hip[0]) / 2, -THIGH * math.cos(a), THIGH * math.sin(a)])
        ankle = knee + np.array([(ankle_x - hip[0]) / 2, -SHIN * math.cos(a), -SHIN * math.sin(a)])
        p[INDEX[f"{side}_hip"]] = hip
        p[INDEX[f"{side}_knee"]] = knee
        p[INDEX[f"{side}_ankle"]] = ankle
    pitch = math.radians(torso_pitch_deg)
    twist = math.radians(shoulder_yaw_deg)
    up = np.array([0.0, math.cos(pitch), math.sin(pitch)])
    centre = up * TORSO
    for side, sx in (("left", 1.0), ("right", -1.0)):
        lateral = np.array([math.cos(twist), 0.0, -math.sin(twist)]) * sx * SHOULDER_HALF
        p[INDEX[f"{side}_shoulder"]] = centre + lateral
        p[INDEX[f"{side}_elbow"]] = centre + lateral * 1.2 - up * 0.28
        p[INDEX[f"{side}_wrist"]] = centre + lateral * 1.2 - up * 0.55
        p[INDEX[f"{side}_eye"]] = centre + up * 0.2 + np.array([sx * 0.03, 0.0, 0.09])
        p[INDEX[f"{side}_ear"]] = centre + up * 0.17 + np.array([sx * 0.07, 0.0, 0.0])
    p[INDEX["nose"]] = centre + up * 0.15 + np.array([0.0, 0.0, 0.11])
    return p


def yaw_rotate(p: np.ndarray, yaw_deg: float) -> np.ndarray:
    th = math.radians(yaw_deg)
    c, s = math.cos(th), math.sin(th)
    x, z = p[:, 0], p[:, 2]
    return np.column_stack([x * c + z * s, p[:, 1], -x * s + z * c])


def make_track(t: np.ndarray, poses: list[np.ndarray], yaw_deg: np.ndarray, x_m: np.ndarray | None = None,
               lift_m: np.ndarray | None = None, noise_px: float = 0.0, noise_m: float = 0.0,
               drop: float = 0.0, seed: int = 0, with_3d: bool = True) -> RiderTrack:  # fmt: skip
    """Project body poses over time; lift_m raises the whole body (a jump), x_m moves it across the image."""
    rng = np.random.default_rng(seed)
    n = len(t)
    x_m = np.zeros(n) if x_m is None else x_m
    lift_m = np.zeros(n) if lift_m is None else lift_m
    kp2d = np.zeros((n, 17, 3))
    kp3d = np.zeros((n, 17, 3))
    for i in range(n):
        world = yaw_rotate(poses[i], float(yaw_deg[i]))
        kp3d[i] = world + rng.normal(0.0, noise_m, world.shape)
        # Standing hip height above the ground is added so the ground sits at a fixed image row.
        leg = -poses[i][INDEX["left_ankle"], 1]
        kp2d[i, :, 0] = 640 + PX_PER_M * (world[:, 0] + x_m[i])
        kp2d[i, :, 1] = 600 - PX_PER_M * (world[:, 1] + leg + lift_m[i])
        kp2d[i, :, :2] += rng.normal(0.0, noise_px, (17, 2))
        kp2d[i, :, 2] = 0.9
    if drop > 0:
        gone = rng.random(n) < drop
        gone[0] = False
        kp2d[gone] = np.nan
        kp3d[gone] = np.nan
    return RiderTrack(t=t, kp2d=kp2d, kp3d=kp3d if with_3d else None)


def timeline(duration_s: float, fps: float = 30.0) -> np.ndarray:
    return np.arange(round(duration_s * fps)) / fps


def smoothstep(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return u * u * (3 - 2 * u)


def jump_lift(t: np.ndarray, take_off: float, landing: float, height_m: float) -> np.ndarray:
    """Ballistic parabola: zero outside [take_off, landing], height_m at the apex."""
    T = landing - take_off
    tau = t - take_off
    return np.where((tau > 0) & (tau < T), 4 * height_m * tau * (T - tau) / T**2, 0.0)

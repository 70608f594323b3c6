"""Snowboard metrics: pure functions over the rider's keypoint time series (numpy only).

Inputs use the COCO-17 order of keypoints.py. ``kp2d`` is (n, 17, 3): x, y pixels (y down) and a score;
``kp3d`` is (n, 17, 3) metres, hip-centred, y up, z toward the camera, or None. A frame where the rider was
not seen is all-NaN. Angles are degrees.

Modules, from input to answer: track.py (the rider's track and which joints and body parts count as seen),
timeseries.py (NaN-aware smoothing and gap tools), posture.py (per-frame body angles and proportions),
rotation.py (yaw, cumulative rotation, spin), ground.py (ground line, hip height, flights, stance) and
compute.py (`compute_metrics`: the contract's Metrics object).
"""

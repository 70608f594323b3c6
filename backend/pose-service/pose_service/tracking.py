"""From per-frame detections to the rider's keypoint time series."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .backends.base import FramePoses
from .metrics.track import RiderTrack


def choose_rider(frames: Sequence[FramePoses]) -> int | None:
    """The track seen in the most frames; ties go to the larger mean bbox (the subject the camera follows)."""
    count: dict[int, int] = defaultdict(int)
    area: dict[int, float] = defaultdict(float)
    for f in frames:
        for p in f.persons:
            if p.track_id is None:
                continue
            count[p.track_id] += 1
            x1, y1, x2, y2 = p.bbox
            area[p.track_id] += max(0.0, x2 - x1) * max(0.0, y2 - y1)
    if not count:
        return None
    return max(count, key=lambda tid: (count[tid], area[tid] / count[tid], -tid))


def rider_track(frames: Sequence[FramePoses], track_id: int | None) -> RiderTrack:
    """Stack the rider's keypoints over all frames; NaN rows where the rider is absent."""
    n = len(frames)
    t = np.array([f.t for f in frames], dtype=np.float64)
    kp2d = np.full((n, 17, 3), np.nan)
    kp3d = np.full((n, 17, 3), np.nan)
    has_3d = False
    for i, f in enumerate(frames):
        for p in f.persons:
            if track_id is not None and p.track_id == track_id:
                kp2d[i] = p.kp2d
                if p.kp3d is not None:
                    kp3d[i] = p.kp3d
                    has_3d = True
                break
    return RiderTrack(t=t, kp2d=kp2d, kp3d=kp3d if has_3d else None)


# ---------------------------------------------------------------- identity across tracker restarts

# Below this mean bbox IoU over the overlap frames two tracks are not the same person.
MIN_JOIN_IOU = 0.3


@dataclass
class BlockPoses:
    """One tracker run: `warmup` are the frames before its block (the overlap), `frames` the block's own."""

    warmup: Sequence[FramePoses]
    frames: Sequence[FramePoses]


def bbox_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes; 0 for empty ones (pure)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _keypoint_distance(a: np.ndarray, b: np.ndarray, diag: float) -> float:
    """Mean distance of the keypoints both poses saw, over the box diagonal (0 = same pose); 1 if none shared."""
    ok = (a[:, 2] >= 0.2) & (b[:, 2] >= 0.2) & np.isfinite(a[:, :2]).all(axis=1) & np.isfinite(b[:, :2]).all(axis=1)
    if not ok.any() or diag <= 0:
        return 1.0
    return float(np.mean(np.linalg.norm(a[ok, :2] - b[ok, :2], axis=1)) / diag)


def match_overlap(before: Sequence[FramePoses], after: Sequence[FramePoses]) -> dict[int, int]:
    """after's track id → before's, for tracks that are the same person in the frames both runs saw (pure).

    Pairs are scored by mean bbox IoU over the shared frames (keypoint distance breaks ties) and taken greedily,
    best first; each id is used once, and a pair under MIN_JOIN_IOU is no match.
    """
    by_index = {f.index: f for f in before}
    iou: dict[tuple[int, int], list[float]] = defaultdict(list)
    dist: dict[tuple[int, int], list[float]] = defaultdict(list)
    for f in after:
        prev = by_index.get(f.index)
        if prev is None:
            continue
        for p in f.persons:
            for q in prev.persons:
                if p.track_id is None or q.track_id is None:
                    continue
                key = (p.track_id, q.track_id)
                iou[key].append(bbox_iou(p.bbox, q.bbox))
                x1, y1, x2, y2 = q.bbox
                dist[key].append(_keypoint_distance(p.kp2d, q.kp2d, float(np.hypot(x2 - x1, y2 - y1))))
    ranked = sorted(iou, key=lambda k: (-float(np.mean(iou[k])), float(np.mean(dist[k])), k))
    out: dict[int, int] = {}
    taken: set[int] = set()
    for local, prior in ranked:
        if local in out or prior in taken or float(np.mean(iou[(local, prior)])) < MIN_JOIN_IOU:
            continue
        out[local] = prior
        taken.add(prior)
    return out


def join_blocks(blocks: Sequence[BlockPoses], single_person: bool = False) -> list[dict[int, int]]:
    """Per block, its tracker's local track id → one id for the whole video (pure; blocks in order).

    Block 0 keeps its ids. Each later block's tracker also saw the previous block's last frames (its warm-up),
    so a local track is the global track it overlaps there (match_overlap on the previous block's frames with
    their global ids); a track seen in no overlap gets a new id. A single-person backend has one identity only.
    """
    mappings: list[dict[int, int]] = []
    next_id = 1
    previous: list[FramePoses] = []
    for block in blocks:
        local_ids = sorted({p.track_id for f in (*block.warmup, *block.frames) for p in f.persons
                            if p.track_id is not None})  # fmt: skip
        if single_person:
            mapping = {tid: 1 for tid in local_ids}
        elif not mappings:
            mapping = {tid: tid for tid in local_ids}
        else:
            mapping = match_overlap(previous, block.warmup)
            for tid in local_ids:
                if tid not in mapping:
                    mapping[tid] = next_id
                    next_id += 1
        next_id = max([next_id, *(g + 1 for g in mapping.values())])
        mappings.append(mapping)
        previous = [_relabelled(f, mapping) for f in block.frames] or previous
    return mappings


def _relabelled(f: FramePoses, mapping: dict[int, int]) -> FramePoses:
    persons = [
        replace(p, track_id=mapping.get(p.track_id, p.track_id)) if p.track_id is not None else p for p in f.persons
    ]
    return FramePoses(f.index, f.t, persons)

"""The segment plan: how a video's analysed frames are cut into segment tasks (pure, unit-tested)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..pipeline import FRAMES_PER_CHUNK

# A segment shorter than this spends more on start-up (seek, warm-up, claim) than it gains by spreading out.
MIN_SEGMENT_S = 2.0
# Longer than this and a lost worker costs too much redone work, and partial results come too slowly.
MAX_SEGMENT_S = 10.0
# Segments per live worker the plan aims for. Workers claim segments as they free up, so with several each the
# last ones end close together: with one each, a worker that started late (the one that ran the ingest's rendition
# meanwhile) finished alone, a whole segment after the others (a 20 s clip on 2 workers: 1.52× the 1-worker
# throughput with 2 segments of 300 frames; a segment's start-up is a claim and a seek, ~10 ms, against ~2.7 s of
# pose for one 100-frame block).
SEGMENTS_PER_WORKER = 3


@dataclass(frozen=True)
class SegmentPlan:
    """`count` segments of `length` analysed frames over `frames` frames; the last one takes the remainder
    (shorter, or up to a minimum segment longer: a tail too short to be worth a task joins the one before)."""

    frames: int
    length: int
    count: int

    def bounds(self, i: int) -> tuple[int, int]:
        """Analysed-frame ordinals [start, end) of segment i (0-based)."""
        if not 0 <= i < self.count:
            raise IndexError(f"segment {i} of {self.count}")
        return i * self.length, self.frames if i == self.count - 1 else (i + 1) * self.length


def plan_segments(
    frames: int,
    analysed_fps: float,
    live_workers: int,
    min_s: float = MIN_SEGMENT_S,
    max_s: float = MAX_SEGMENT_S,
    grid: int = FRAMES_PER_CHUNK,
) -> SegmentPlan:
    """Segments of whole grid blocks: about SEGMENTS_PER_WORKER per live worker, each ≥ min_s and ≤ max_s of footage.

    The bounds are in blocks of `grid` analysed frames, so a segment's tracker restarts exactly where the
    single pass restarts its own (pipeline.track_on_grid): cutting never changes a keypoint. When min_s and
    max_s disagree with the grid (a block is longer than max_s at a low frame rate), one block wins.
    """
    if frames <= 0:
        return SegmentPlan(frames=0, length=grid, count=0)
    fps = analysed_fps if analysed_fps > 0 and math.isfinite(analysed_fps) else 30.0
    blocks = math.ceil(frames / grid)
    min_blocks = max(1, math.ceil(min_s * fps / grid - 1e-9))
    max_blocks = max(min_blocks, math.floor(max_s * fps / grid + 1e-9))
    per = math.ceil(blocks / (max(1, live_workers) * SEGMENTS_PER_WORKER))
    per = min(max(per, min_blocks), max_blocks, blocks)
    length = per * grid
    count = math.ceil(frames / length)
    if count > 1 and frames - (count - 1) * length < min_s * fps:
        count -= 1
    return SegmentPlan(frames=frames, length=length, count=count)
